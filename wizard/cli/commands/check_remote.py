"""``check-remote``: every table the migrations create exists, checked through the project's
REST API (no database credential)."""

from __future__ import annotations


from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _catalog, _check_folder


def cmd_check_remote(args) -> int:
    from wizard.core import env, manual
    from wizard.core.flows import manual as flow

    loaded = _catalog(args)
    _check_folder(loaded)
    environment = env.load(env_file=args.env_file)
    remote = flow.remote_api(environment)
    if remote is None:
        raise Stop(ExitCode.USAGE, "check-remote needs the project URL (SUPABASE_URL) and an API key "
                   "(SUPABASE_SERVICE_ROLE_KEY or SUPABASE_ANON_KEY), from .env.local or the environment", "no-key")
    base, key_name = remote.url, remote.key_name
    say(f"Checking {len(manual.tables(loaded))} table(s) through {base}/rest/v1 with {key_name} ...")
    try:
        flow.check_remote(loaded, environment, remote, timeout=args.connect_timeout)
    except manual.RestError as exc:
        from wizard.core.describe import describe

        raise Stop.of(describe(exc, ref=environment.supabase_ref(), rest_key=key_name, rest_url=base)) from None
    states, missing = remote.states, remote.missing
    if args.json:
        emit_json(remote.to_json())
    else:
        for name, state in states.items():
            mark = {"exists": "ok  ", "exists-without-grants": "ok  ", "missing": "MISSING"}[state]
            note = " (exists; this key's role has no grant on it)" if state == manual.EXISTS_WITHOUT_GRANTS else ""
            print(f"  {mark}  {name}{note}")
        print("All tables exist." if not missing else f"{len(missing)} of {len(states)} tables are missing: run the "
              "migrations that create them (the first missing one shows where to resume).")
    return remote.exit_code
