"""A failure, as the troubleshoot screen shows it: what failed, where, why and what to do. Built
from what the engine reports: a diagnosis, a connection that failed, a pre-flight finding, checks
that failed, or an error nobody expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wizard.core.advice import Advice
    from wizard.core.catalog import Catalog
    from wizard.core.checks import CheckResult
    from wizard.core.describe import Description
    from wizard.core.diagnosis import Diagnosis
    from wizard.core.manual import RestError
    from wizard.core.preflight import Finding
    from wizard.core.manual import RestApi
    from wizard.tui.target import Target

AROUND = 2  # lines shown on each side of the failing one


@dataclass(frozen=True)
class Trouble:
    """A failure, as the troubleshoot screen shows it."""

    what: str  # the headline
    message: str = ""  # the error itself
    details: tuple[str, ...] = ()  # the server's detail and hint, failed checks...
    advice: Advice | None = None
    file: Path | None = None
    line: int | None = None
    column: int | None = None
    statement: str | None = None
    statement_index: int | None = None
    version: str | None = None  # the migration it is about
    adoptable: bool | None = None  # None: adopting does not apply; False: objects are missing
    recovery: tuple[str, ...] = ()  # where the history and the folder disagree: the actions offered ("include")

    @classmethod
    def failed(cls, diagnosis: Diagnosis, catalog: Catalog, ref: str | None = None,
               missing: list[str] | None = None) -> Trouble:
        """A migration that failed. ``missing``: what the database lacks of it, when adopting it
        was checked (empty: everything is there)."""
        from wizard.core import advice

        found = advice.for_failure(diagnosis, catalog, ref=ref)
        migration = catalog.by_version().get(diagnosis.version)
        details = [f"Detail: {diagnosis.detail}" if diagnosis.detail else "",
                   f"Hint: {diagnosis.hint}" if diagnosis.hint else ""]
        if migration is not None and migration.no_transaction:
            details.append(f"{migration.filename} runs outside a transaction: the statements before the failing "
                           "one stay applied. Make it safe to run again (IF NOT EXISTS) before retrying.")
        adoptable = None
        if missing is not None and "adopt" in found.actions:
            adoptable = not missing
            if missing:
                details.append("Cannot adopt yet: the database lacks " + ", ".join(missing[:8])
                               + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
        return cls(
            what=f"{diagnosis.version}_{diagnosis.name} failed"
            + ("" if migration is not None and migration.no_transaction else "; it was rolled back"),
            message=" ".join(filter(None, (diagnosis.sqlstate, diagnosis.message))),
            details=tuple(d for d in details if d),
            advice=found,
            file=Path(diagnosis.file),
            line=diagnosis.line,
            column=diagnosis.column,
            statement=diagnosis.statement,
            statement_index=diagnosis.statement_index,
            version=diagnosis.version,
            adoptable=adoptable,
        )

    @classmethod
    def unreachable(cls, target: Target) -> Trouble:
        """A way to the database that did not work."""
        return cls(what=f"Cannot reach {target.shown}", message=target.probe.reason if target.probe else "",
                   advice=target.advice())

    @classmethod
    def error(cls, exc: BaseException, target: Target | None = None) -> Trouble:
        """A step that stopped on an error: the database cannot be reached, another run holds the
        lock, a setting cannot be read... or an error nobody expected."""
        from wizard.core.describe import THE_DATABASE, describe

        found = describe(exc, shown=target.shown if target else THE_DATABASE, ref=target.ref if target else None)
        return cls.described(found)

    @classmethod
    def described(cls, description: Description) -> Trouble:
        """An error as ``describe`` tells it."""
        return cls(description.title, description.message, details=description.details, advice=description.advice)

    @classmethod
    def rest(cls, exc: RestError, rest: RestApi, ref: str | None = None) -> Trouble:
        """The project's REST API refused the key, or could not be reached."""
        from wizard.core.describe import describe

        return cls.described(describe(exc, ref=ref, rest_key=rest.key_name, rest_url=rest.url))

    @classmethod
    def finding(cls, finding: Finding, directory: Path) -> Trouble:
        """A pre-flight error: found before anything ran."""
        return cls(what=f"Pre-flight: {finding.code}", message=finding.message, file=directory / finding.file,
                   line=finding.line, column=finding.column)

    @classmethod
    def checks(cls, results: list[CheckResult]) -> Trouble:
        failed = [r for r in results if not r.ok]
        return cls(
            what=f"{len(failed)} of {len(results)} checks failed",
            message="The database does not hold everything the migrations create.",
            details=tuple(f"{r.name}: {r.detail}" for r in failed),
        )

    def excerpt(self) -> list[tuple[int, str]]:
        """The lines around the failing one, read from the file as it is now."""
        from wizard.core.diagnosis import Diagnosis, excerpt

        if self.file is None or self.line is None:
            return []
        return excerpt(Diagnosis("", "", str(self.file), None, "", line=self.line), around=AROUND)
