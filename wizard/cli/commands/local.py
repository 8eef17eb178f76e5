"""``local``: start, show or stop the local embedded PostgreSQL."""

from __future__ import annotations


from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _local_server, _start_local


def cmd_local(args) -> int:
    server = _local_server(args)
    if args.action == "start":
        url = _start_local(args)
        if args.json:
            emit_json({"url": url, "directory": str(server.directory)})
        else:
            print(url)
        return ExitCode.OK
    if args.action == "url":
        if not server.initialized():
            raise Stop(ExitCode.USAGE, f"there is no local database in {server.directory}: run "
                       "'migration-wizard local start'", "no-local")
        if not server.running():
            raise Stop(ExitCode.CONNECT, f"the local database in {server.directory} is not running: run "
                       "'migration-wizard local start'", "local-stopped")
        if args.json:
            emit_json({"url": server.url(), "directory": str(server.directory)})
        else:
            print(server.url())
        return ExitCode.OK
    stopped = server.stop() if server.initialized() else False
    say("The local database was stopped." if stopped else "The local database was not running.")
    if args.json:
        emit_json({"stopped": stopped, "directory": str(server.directory)})
    return ExitCode.OK
