"""The command line: the headless commands, and the terminal wizard when no command is given.

Results go to stdout (with ``--json``, exactly one JSON document), narration to stderr. Nothing on
the headless paths imports Textual. Exit codes: see ``ExitCode``.

The package: ``parser`` (the arguments), ``output`` (printing), ``steps`` (what several commands
share: the migration folder, the target and the connection), ``errors`` (``ExitCode``, ``Stop``)
and ``commands/``, one module per command, imported only when its command runs.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.parser import build_parser
from wizard.core.errors import WizardError

if TYPE_CHECKING:
    import argparse

    from wizard.core.describe import Description

__all__ = ["ExitCode", "Stop", "build_parser", "main", "run"]

_headless = False


def _command(name: str) -> Callable[..., int]:
    """The function that runs a command, its module imported only now: a command loads what it
    uses and nothing of the others."""
    if name == "plan":
        from wizard.cli.commands.plan import cmd_plan as command
    elif name == "apply":
        from wizard.cli.commands.apply import cmd_apply as command
    elif name == "status":
        from wizard.cli.commands.status import cmd_status as command
    elif name == "verify":
        from wizard.cli.commands.verify import cmd_verify as command
    elif name == "doctor":
        from wizard.cli.commands.doctor import cmd_doctor as command
    elif name == "manual":
        from wizard.cli.commands.manual import cmd_manual as command
    elif name == "check-remote":
        from wizard.cli.commands.check_remote import cmd_check_remote as command
    elif name == "adopt":
        from wizard.cli.commands.adopt import cmd_adopt as command
    elif name == "fetch":
        from wizard.cli.commands.fetch import cmd_fetch as command
    elif name == "diff":
        from wizard.cli.commands.diff import cmd_diff as command
    elif name == "accept":
        from wizard.cli.commands.accept import cmd_accept as command
    elif name == "forget":
        from wizard.cli.commands.forget import cmd_forget as command
    elif name == "lint":
        from wizard.cli.commands.lint import cmd_lint as command
    elif name == "local":
        from wizard.cli.commands.local import cmd_local as command
    elif name == "fleet":
        from wizard.cli.commands.fleet import cmd_fleet as command
    elif name == "serve":
        from wizard.cli.commands.serve import cmd_serve as command
    else:
        raise KeyError(name)
    return command


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if args.targets is not None and not args.targets.is_file():  # said now, not on a screen later
            from wizard.core.describe import describe
            from wizard.core.fleet.targets import TargetsError, find

            try:
                find(args.targets)
            except TargetsError as exc:
                return _ended(args, describe(exc))
        from wizard.tui import run

        return run(migrations=args.migrations, database_url=args.database_url, local=args.local,
                   local_dir=args.local_dir, env_file=args.env_file, connect_timeout=args.connect_timeout,
                   api_url=args.api_url, targets=args.targets)
    # A headless command is short-lived and its data (parse trees) holds no cycles: the cyclic
    # garbage collector would only slow it down.
    global _headless
    _headless = True
    gc.disable()
    try:
        return int(_command(args.command)(args))
    except KeyboardInterrupt as exc:  # before a run could say what it did (connecting, pre-flight)
        from wizard.core.describe import describe

        return _ended(args, describe(exc))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.FAILED)
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if os.environ.get("WIZARD_DEBUG") and not isinstance(exc, WizardError):
            raise
        from wizard.core.describe import describe

        return _ended(args, describe(exc))


def _ended(args: argparse.Namespace, description: Description) -> int:
    """A command that ended on an error: the description's sentence on stderr (and, with --json,
    its kind and sentence as the JSON document); its exit code."""
    if getattr(args, "json", False):
        emit_json({"ok": False, "error": {"kind": description.kind, "message": description.line}})
    say(f"migration-wizard: {description.line}")
    return int(description.exit_code)


def run() -> None:
    """The console script: main(), then a quick exit. A headless command has closed its connections
    and files by then; what is left is freeing memory that the process is about to give back."""
    code = main()
    if _headless:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
