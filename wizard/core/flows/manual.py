"""The manual path, headless: every migration exported for the dashboard's SQL editor, after an
offline pre-flight (what a paste would meet, found before the first one); and the check of what was
run by hand, table by table, through the project's REST API (no database credential).

Both call ``wizard.core.manual``'s public functions; the wizard's By hand step does the same one
migration at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.core import preflight
from wizard.core.catalog import Catalog
from wizard.core.env import Environment
from wizard.core.errors import ExitCode
from wizard.core.preflight import Finding


@dataclass
class Export:
    """The export: the offline findings, then (once written) the index and one file per paste."""

    catalog: Catalog
    ref: str | None
    findings: list[Finding]
    index: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return preflight.blocking(self.findings)

    @property
    def sql_editor(self) -> str:
        from wizard.core import manual

        return manual.sql_editor_url(self.ref)

    def to_json(self) -> dict[str, Any]:
        return {"index": str(self.index), "files": [str(f) for f in self.files], "sql_editor": self.sql_editor,
                "findings": [f.to_json() for f in self.findings]}


def prepare(catalog: Catalog, ref: str | None) -> Export:
    """The folder alone against a fresh Supabase project (the export connects to nothing)."""
    return Export(catalog, ref, preflight.offline(catalog))


def write(export: Export, directory: Path) -> Export:
    """Write the pastes and their index into ``directory``. Raises ``manual.ExportRefused`` (the
    directory is the migration folder) or OSError."""
    from wizard.core import manual

    written = manual.export(export.catalog, directory, export.ref, export.findings)
    export.index, export.files = written[0], written[1:]
    return export


@dataclass
class RemoteCheck:
    """Each table the migrations create, and its state through the REST API."""

    url: str  # the project's URL
    key_name: str  # the variable whose API key was used
    states: dict[str, str] = field(default_factory=dict)  # table -> manual.EXISTS / EXISTS_WITHOUT_GRANTS / MISSING

    @property
    def missing(self) -> list[str]:
        from wizard.core import manual

        return [name for name, state in self.states.items() if state == manual.MISSING]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FAILED if self.missing else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {"ok": not self.missing, "tables": [{"name": n, "state": st} for n, st in self.states.items()]}


def remote_api(environment: Environment) -> RemoteCheck | None:
    """The project's REST API and the key to ask it with; None without the project's URL or a key."""
    variable, key_name = environment.supabase_url_variable(), environment.rest_key()
    if not variable or not key_name:
        return None
    return RemoteCheck((environment.get(variable) or "").strip(), key_name)


def check_remote(catalog: Catalog, environment: Environment, remote: RemoteCheck, timeout: float) -> RemoteCheck:
    """Every table the migrations create, asked of the REST API. Raises ``manual.RestError``."""
    from wizard.core import manual

    remote.states = manual.rest_check(remote.url, environment.get(remote.key_name) or "", manual.tables(catalog),
                                      timeout=timeout)
    return remote
