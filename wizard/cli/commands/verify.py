"""``verify``: the database holds what the migrations create, and the checks file passes."""

from __future__ import annotations


from wizard.cli.errors import ExitCode
from wizard.cli.output import emit_json
from wizard.cli.steps import _catalog, _check_folder, _open


def cmd_verify(args) -> int:
    from wizard.core import verify

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)

    def show(result) -> None:
        if not args.json:
            print(f"  {'ok  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}", flush=True)

    with conn:
        results = verify.run(conn, loaded, on_result=show)
    ok = all(r.ok for r in results)
    if args.json:
        emit_json({"ok": ok, "checks": [r.to_json() for r in results]})
    else:
        failed = [r for r in results if not r.ok]
        print("All checks pass." if ok else f"{len(failed)} of {len(results)} checks failed.")
    return ExitCode.OK if ok else ExitCode.FAILED
