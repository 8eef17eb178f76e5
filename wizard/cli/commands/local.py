"""``local``: start, show or stop the local embedded PostgreSQL."""

from __future__ import annotations


from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _local_server, _start_local


def cmd_local(args) -> int:
    from wizard.core.flows import local

    if args.action == "start":
        url = _start_local(args)
        report = local.LocalReport(_local_server(args).directory, local.State.RUNNING, url)
        if args.json:
            emit_json(report.to_json())
        else:
            print(url)
        return ExitCode.OK
    if args.action == "url":
        report = local.look(args.local_dir)
        if report.state is local.State.ABSENT:
            raise Stop(ExitCode.USAGE, f"there is no local database in {report.directory}: run "
                       "'migration-wizard local start'", "no-local")
        if report.state is local.State.STOPPED:
            raise Stop(ExitCode.CONNECT, f"the local database in {report.directory} is not running: run "
                       "'migration-wizard local start'", "local-stopped")
        if args.json:
            emit_json(report.to_json())
        else:
            print(report.url)
        return ExitCode.OK
    report = local.stop(args.local_dir)
    say("The local database was stopped." if report.stopped else "The local database was not running.")
    if args.json:
        emit_json(report.to_json())
    return ExitCode.OK
