"""``doctor``: what the environment holds, each way to connect and its result, the paths
possible now, and the next step."""

from __future__ import annotations

from pathlib import Path

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, plain, say
from wizard.cli.steps import _start_local


_MISSING_HELP = {
    "SUPABASE_DB_PASSWORD": "the database password, for the automated path: reset or copy it under Database settings ({database_settings})",
    "SUPABASE_DB_URL": "or a whole connection string: the dashboard's Connect dialog ({connect}); the Session pooler one works on every network",
    "SUPABASE_ACCESS_TOKEN": "or a personal access token, for the automated path over HTTPS: {access_tokens}",
}


def cmd_doctor(args) -> int:
    from wizard.core import advice, env
    from wizard.core.connect import probe

    if args.database_url and args.local:
        raise Stop(ExitCode.USAGE, "--database-url and --local name two different targets: pass one of them")
    environment = env.load(env_file=args.env_file)
    ref = environment.supabase_ref()
    links = env.dashboard(ref)
    found = environment.found()
    problems = environment.problems()
    for name, value in environment.values.items():
        claims = env.jwt_claims(value) if env.KNOWN.get(name) == "key" else None
        if claims and name in found:
            found[name]["role"] = claims.get("role")
            found[name]["project_ref"] = claims.get("ref")

    if args.local:
        local_url = _start_local(args)
        candidates = [env.Candidate("--local", local_url)]
    else:
        candidates = env.candidates(environment, explicit=args.database_url)
    probes = []
    for candidate in candidates:
        say(f"Trying {candidate.source}: {candidate.masked} ...")
        result = probe(candidate.source, candidate.url, timeout=args.connect_timeout)
        if candidate.fixed:
            result.reason = (result.reason + "; " if result.reason else "") + (
                "the password in this URL had characters that must be percent-encoded: the wizard encoded them"
            )
        probes.append((candidate, result))
    working = next((c for c, r in probes if r.ok), None)
    token = environment.get("SUPABASE_ACCESS_TOKEN")
    api_ok = False
    if token and ref and not args.local:
        result = _probe_api(args, ref, token)
        api_ok = result.ok
        probes.append((None, result))
    missing = [name for name in ("SUPABASE_DB_PASSWORD", "SUPABASE_DB_URL", "SUPABASE_ACCESS_TOKEN")
               if name not in found] if working is None and not api_ok and ref else []
    paths = {"automated": working is not None or api_ok, "database": working is not None, "https": api_ok,
             "manual": ref is not None}

    def advice_for(result) -> dict | None:
        if result.ok:
            return None
        entry = advice.for_probe(result.result, result.reason, ref=ref)
        return {"title": entry.title, "cause": plain(entry.cause), "fix": plain(entry.fix)}

    if working is not None:
        next_step = "Run 'migration-wizard apply' (it uses " + working.source + ")."
    elif api_ok:
        next_step = "Run 'migration-wizard apply': it goes through the Management API with your access token."
    elif probes:
        next_step = advice_for(probes[0][1])["fix"]
    elif ref:
        next_step = (f"Set SUPABASE_DB_PASSWORD in .env.local (Database settings: {links['database_settings']}), "
                     f"or paste the Session pooler connection string from {links['connect']} as SUPABASE_DB_URL. "
                     f"Without either, apply the migrations by hand in the SQL editor: {links['sql_editor']}.")
    else:
        next_step = ("No Supabase project and no database are configured: pass --database-url URL, set DATABASE_URL, "
                     "or use the local database: 'migration-wizard apply --local'.")

    saved = None
    if working is not None and args.save:
        target = Path.cwd() / ".env.local"
        env.save_url(target, "SUPABASE_DB_URL", working.url)
        saved = str(target)
        say(f"Saved the working URL to {target} as SUPABASE_DB_URL (readable by you only).")

    if args.json:
        emit_json({
            "ok": paths["automated"] and not problems,
            "project_ref": ref,
            "found": found,
            "missing": missing,
            "problems": problems,
            "candidates": [
                {"source": r.source, "url_masked": r.url_masked, "result": r.result, "reason": r.reason,
                 "advice": advice_for(r),
                 **({"server_version": r.server_version, "supabase": r.supabase, "compat_needed": r.compat_needed}
                    if r.ok else {})}
                for _, r in probes
            ],
            "paths": paths,
            "links": links if ref else {},
            "next_step": next_step,
            **({"saved_to": saved} if saved else {}),
        })
    else:
        print("Environment")
        if not found:
            print("  nothing: no .env, .env.local or variables that the wizard knows")
        for name, info in found.items():
            extra = ""
            if info.get("role"):
                extra = f"  ({info['role']} key" + (f", project {info['project_ref']}" if info.get("project_ref") else "") + ")"
            print(f"  {name:<26} {info['value']}{extra}  [{info['source']}]")
        if ref:
            print(f"  Supabase project: {ref}")
        for name in missing:
            print(f"  missing {name}: " + _MISSING_HELP[name].format(**links))
        for problem in problems:
            print(f"  problem: {problem}")
        print("Connection candidates")
        if not probes:
            print("  none: no connection URL, and no database password to build one")
        for candidate, result in probes:
            if candidate is None:  # the HTTPS path
                state = "ok    " if result.ok else "FAILED"
                print(f"  {state}  {result.source}: {result.url_masked}" + (f"  {result.reason}" if result.reason else ""))
                if not result.ok:
                    print(f"          {advice_for(result)['fix']}")
                continue
            if result.ok:
                kind = "Supabase" if result.supabase else "PostgreSQL (the compatibility step will make it Supabase-shaped)" \
                    if result.compat_needed else "PostgreSQL"
                print(f"  ok      {candidate.source}: {result.url_masked}  {kind} {result.server_version}, as {result.user}")
            else:
                help_text = advice_for(result)
                print(f"  FAILED  {candidate.source}: {result.url_masked}  {help_text['title']}: {result.reason}")
                print(f"          {help_text['fix']}")
        print("Paths")
        print("  automated, database connection: " + ("possible" if paths["database"] else
              "not possible yet: needs the database password or a connection string that works"))
        print("  automated, HTTPS (access token): " + ("possible" if paths["https"] else
              f"not possible yet: needs SUPABASE_ACCESS_TOKEN ({links['access_tokens']})" if not token else
              "not possible: the token or the service failed (above)"))
        print("  manual, dashboard SQL editor:   " + (f"possible: {links['sql_editor']}" if paths["manual"] else
              "needs the project URL (SUPABASE_URL)"))
        print(f"Next step: {next_step}")
    if problems and not paths["automated"]:
        return ExitCode.USAGE
    if not paths["automated"]:
        return ExitCode.CONNECT
    return ExitCode.OK


def _probe_api(args, ref: str, token: str):
    """The HTTPS path, tried with a harmless query."""
    from wizard.core import https

    say(f"Trying {https.PROBE_SOURCE} ...")
    return https.probe(ref, token, args.api_url, timeout=args.connect_timeout)
