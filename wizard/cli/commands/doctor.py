"""``doctor``: what the environment holds, each way to connect and its result, the paths
possible now, and the next step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, plain, say
from wizard.cli.steps import _start_local

if TYPE_CHECKING:
    from wizard.core.connect import Probe
    from wizard.core.flows.doctor import DoctorReport


_MISSING_HELP = {
    "SUPABASE_DB_PASSWORD": "the database password, for the automated path: reset or copy it under Database settings ({database_settings})",
    "SUPABASE_DB_URL": "or a whole connection string: the dashboard's Connect dialog ({connect}); the Session pooler one works on every network",
    "SUPABASE_ACCESS_TOKEN": "or a personal access token, for the automated path over HTTPS: {access_tokens}",
}


def cmd_doctor(args) -> int:
    from wizard.core.flows import doctor, target
    from wizard.core.db.https import PROBE_SOURCE

    if args.database_url and args.local:
        raise Stop(ExitCode.USAGE, "--database-url and --local name two different targets: pass one of them")
    choice = target.choose(target.Request(database_url=args.database_url, env_file=args.env_file))
    if choice.unread is not None:
        raise Stop(ExitCode.USAGE, str(choice.unread), "env-file")
    ways = list(choice.ways)
    if args.local:
        ways = [target.Way(target.Kind.LOCAL, "--local", url=_start_local(args))]

    def trying(way) -> None:
        say(f"Trying {PROBE_SOURCE} ..." if way.kind is target.Kind.HTTPS else f"Trying {way.source}: {way.masked} ...")

    report = doctor.doctor(choice.environment, ways, timeout=args.connect_timeout, api_url=args.api_url,
                           on_try=trying)
    if report.working is not None and args.save:
        doctor.save(report, Path.cwd() / ".env.local")
        say(f"Saved the working URL to {report.saved} as SUPABASE_DB_URL (readable by you only).")
    if args.json:
        emit_json(_document(report))
    else:
        _print(report)
    return report.exit_code


def _advice(report: DoctorReport, probe: Probe) -> dict[str, str] | None:
    found = report.advice(probe)
    return None if found is None else {"title": found["title"], "cause": plain(found["cause"]),
                                       "fix": plain(found["fix"])}


def _failed(report: DoctorReport, probe: Probe) -> dict[str, str]:
    """The advice on a way that failed: there always is some."""
    found = _advice(report, probe)
    assert found is not None, "a way that failed has advice"
    return found


def _document(report: DoctorReport) -> dict[str, Any]:
    paths, ref = report.paths, report.ref
    return {
        "ok": paths.automated and not report.problems,
        "project_ref": ref,
        "found": report.found,
        "missing": report.missing,
        "problems": report.problems,
        "candidates": [
            {"source": r.source, "url_masked": r.url_masked, "result": r.result, "reason": r.reason,
             "advice": _advice(report, r),
             **({"server_version": r.server_version, "supabase": r.supabase, "compat_needed": r.compat_needed}
                if r.ok else {})}
            for r in (t.probe for t in report.tried)
        ],
        "paths": paths.to_json(),
        "links": report.links if ref else {},
        "next_step": plain(report.next_step),
        **({"saved_to": str(report.saved)} if report.saved else {}),
    }


def _print(report: DoctorReport) -> None:
    from wizard.core.flows.target import Kind

    found, links, paths = report.found, report.links, report.paths
    print("Environment")
    if not found:
        print("  nothing: no .env, .env.local or variables that the wizard knows")
    for name, info in found.items():
        extra = ""
        if info.get("role"):
            extra = f"  ({info['role']} key" + (f", project {info['project_ref']}" if info.get("project_ref") else "") + ")"
        print(f"  {name:<26} {info['value']}{extra}  [{info['source']}]")
    if report.ref:
        print(f"  Supabase project: {report.ref}")
    for name in report.missing:
        print(f"  missing {name}: " + _MISSING_HELP[name].format(**links))
    for problem in report.problems:
        print(f"  problem: {problem}")
    print("Connection candidates")
    if not report.tried:
        print("  none: no connection URL, and no database password to build one")
    for tried in report.tried:
        result = tried.probe
        if tried.way.kind is Kind.HTTPS:
            state = "ok    " if result.ok else "FAILED"
            print(f"  {state}  {result.source}: {result.url_masked}" + (f"  {result.reason}" if result.reason else ""))
            if not result.ok:
                print(f"          {_failed(report, result)['fix']}")
            continue
        if result.ok:
            kind = "Supabase" if result.supabase else "PostgreSQL (the compatibility step will make it Supabase-shaped)" \
                if result.compat_needed else "PostgreSQL"
            print(f"  ok      {tried.way.source}: {result.url_masked}  {kind} {result.server_version}, as {result.user}")
        else:
            help_text = _failed(report, result)
            print(f"  FAILED  {tried.way.source}: {result.url_masked}  {help_text['title']}: {result.reason}")
            print(f"          {help_text['fix']}")
    print("Paths")
    print("  automated, database connection: " + ("possible" if paths.database else
          "not possible yet: needs the database password or a connection string that works"))
    print("  automated, HTTPS (access token): " + ("possible" if paths.https else
          f"not possible yet: needs SUPABASE_ACCESS_TOKEN ({links['access_tokens']})" if not report.token else
          "not possible: the token or the service failed (above)"))
    variable = report.environment.supabase_url_variable()
    print("  manual, dashboard SQL editor:   " + (
        f"possible: {links['sql_editor']}" if paths.manual else
        f"needs a Supabase project: {variable} is set but names no project (https://<ref>.supabase.co)"
        if variable else "needs the project URL (SUPABASE_URL)"))
    print(f"Next step: {plain(report.next_step)}")
