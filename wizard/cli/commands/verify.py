"""``verify``: the database holds what the migrations create, and the checks file passes."""

from __future__ import annotations


from wizard.cli.errors import ExitCode
from wizard.cli.output import emit_json, lint_findings
from wizard.cli.steps import _catalog, _check_folder, _open


def cmd_verify(args) -> int:
    from wizard.core.flows.verify import verify

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)

    def show(result) -> None:
        if not args.json:
            print(f"  {'ok  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}", flush=True)

    with conn:
        report = verify(loaded, conn, on_result=show)
    if args.json:
        emit_json(report.to_json())
    else:
        print("All checks pass." if report.ok else f"{len(report.failed)} of {len(report.checks)} checks failed.")
        if report.lint is not None and report.lint.findings:
            print(f"Lint (database rules): {len(report.lint.findings)} finding(s)")
            lint_findings(report.lint.findings)
    code = int(report.exit_code)
    if code == 0 and args.fail_on and report.lint is not None:
        from wizard.core.lint import Level

        if report.lint.at_or_above(Level(args.fail_on)):
            return int(ExitCode.FAILED)
    return code
