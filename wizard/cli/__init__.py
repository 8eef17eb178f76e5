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

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, plain, say
from wizard.cli.parser import build_parser

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
    elif name == "local":
        from wizard.cli.commands.local import cmd_local as command
    else:
        raise KeyError(name)
    return command


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from wizard.tui import run

        return run(migrations=args.migrations, database_url=args.database_url, local=args.local,
                   local_dir=args.local_dir, env_file=args.env_file, connect_timeout=args.connect_timeout,
                   api_url=args.api_url)
    # A headless command is short-lived and its data (parse trees) holds no cycles: the cyclic
    # garbage collector would only slow it down.
    global _headless
    _headless = True
    gc.disable()
    try:
        return int(_command(args.command)(args))
    except Stop as stop:
        if getattr(args, "json", False):
            emit_json({"ok": False, "error": {"kind": stop.kind, "message": stop.message}})
        say(f"migration-wizard: {stop.message}")
        return int(stop.code)
    except KeyboardInterrupt:
        say("migration-wizard: interrupted; nothing of the migration in progress was kept.")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.FAILED)
    except Exception as exc:  # the last line of defence: a message, never a traceback
        import psycopg

        if os.environ.get("WIZARD_DEBUG"):
            raise
        from wizard.core.db.https import ApiError

        if isinstance(exc, ApiError):
            from wizard.cli.steps import _api_stop

            stop = _api_stop(exc, None)
            code, kind, message = stop.code, stop.kind, stop.message
        elif isinstance(exc, psycopg.OperationalError) and not getattr(exc, "sqlstate", None):
            code, kind = ExitCode.CONNECT, "connection-lost"
            message = f"the connection to the database was lost: {str(exc).strip()}"
        elif isinstance(exc, psycopg.Error):
            from wizard.core import advice

            code, kind = ExitCode.FAILED, f"sqlstate.{exc.sqlstate}"
            message = f"the database refused a step of the wizard's own: {exc.sqlstate} {str(exc).strip()}"
            help_text = advice.entry("sqlstate", exc.sqlstate or "", message=str(exc).strip(), object="it")
            if help_text:
                message += f". {plain(help_text.fix)}"
        else:
            code, kind = ExitCode.FAILED, "unexpected"
            message = f"unexpected error ({type(exc).__name__}): {exc}"
        if getattr(args, "json", False):
            emit_json({"ok": False, "error": {"kind": kind, "message": message}})
        say(f"migration-wizard: {message}")
        return int(code)


def run() -> None:
    """The console script: main(), then a quick exit. A headless command has closed its connections
    and files by then; what is left is freeing memory that the process is about to give back."""
    code = main()
    if _headless:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
