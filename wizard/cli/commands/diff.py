"""``diff``: what changed in a file since it was applied (recorded statements against the file today)."""

from __future__ import annotations

import sys

from wizard.cli.errors import ExitCode
from wizard.cli.output import emit_json, printable, say
from wizard.cli.steps import _catalog, _open

_COLOURS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}


def cmd_diff(args) -> int:
    import os

    from wizard.core.flows import diff

    loaded = _catalog(args)
    conn = _open(args)
    with conn:
        report = diff.diff(loaded, conn, args.version)
    if args.json:
        emit_json(report.to_json())
        return ExitCode.OK
    if not report.changed:
        say(f"The statements of {report.file} are the ones the history recorded"
            + ("; only comments or spacing changed" if report.checksum_changed else "") + ".")
        return ExitCode.OK
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for line in report.lines:
        start = _COLOURS.get(line[:1]) if colour and not line.startswith(("+++", "---")) else None
        text = printable(line.rstrip("\n"))  # the file's text: never an escape sequence of its own
        sys.stdout.write(f"{start}{text}\033[0m\n" if start else text + "\n")
    say(f"'migration-wizard accept {report.version}' records the file as it is now, once the database has "
        "what it creates.")
    return ExitCode.OK
