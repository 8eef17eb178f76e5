"""``serve``: the wizard in a browser, through textual-serve, on this machine only unless told.

Each browser session runs the same wizard as ``migration-wizard`` with no command, with the same
target options; the address printed carries the access token that every request needs."""

from __future__ import annotations

import gc
import sys

from wizard.cli.errors import ExitCode
from wizard.cli.output import emit_json, say


def wizard_command(args) -> list[str]:
    """The command line of the wizard each session runs: this Python, the target options."""
    argv = [sys.executable, "-m", "wizard"]
    if args.database_url:
        argv += ["--database-url", args.database_url]
    if args.local:
        argv.append("--local")
    for flag, path in (("--local-dir", args.local_dir), ("--migrations", args.migrations),
                       ("--env-file", args.env_file), ("--targets", getattr(args, "targets", None))):
        if path is not None:
            argv += [flag, str(path.absolute())]
    argv += ["--connect-timeout", repr(args.connect_timeout)]
    if args.api_url:
        argv += ["--api-url", args.api_url]
    return argv


def cmd_serve(args) -> int:
    gc.enable()  # a server lives long: the collector earns its keep
    from wizard.web.server import WizardServer, exposure_warning

    warning = exposure_warning(args.host)
    if warning:
        say(warning)
    server = WizardServer(wizard_command(args), args.host, args.port, args.sessions)

    def started(served: WizardServer) -> None:
        if args.json:
            emit_json({"url": served.url, "host": served.host, "port": served.bound_port,
                       "sessions": served.sessions.limit})
        else:
            print(served.url, flush=True)
        many = f"{served.sessions.limit} at a time" if served.sessions.limit > 1 else "one at a time"
        say(f"The wizard is served at the address above ({many}); it holds the access token: share it with no "
            "one. Ctrl-C stops the server.")

    server.run(started)
    say("The server stopped.")
    return ExitCode.OK
