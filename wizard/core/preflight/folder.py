"""Pre-flight of the folder alone, without a database."""

from __future__ import annotations

from collections.abc import Sequence

from wizard.core.catalog import Catalog, Migration
from wizard.core.preflight.extensions import unknown_extensions
from wizard.core.preflight.findings import ERROR, WARNING, Finding, check
from wizard.core.preflight.walk import dependencies

def offline(catalog: Catalog, seeds: Sequence[Migration] = ()) -> list[Finding]:
    """Every finding for the folder alone, without a database: every file counts as pending, and
    what exists before the first one is what a fresh Supabase project has (``wizard.core.baseline``).
    The dependencies are only followed through a folder whose files all parse; the seed files, run
    after the migrations, are followed too (see ``seed_findings``)."""
    from wizard.core import baseline

    findings = check(catalog, catalog.migrations)
    if catalog.ok:
        found = dependencies(catalog, list(catalog.migrations) + list(seeds), baseline=baseline.load())
        findings += seed_findings(found, seeds)
        findings += unknown_extensions(catalog.migrations)
    return findings


def seed_findings(found: list[Finding], seeds: Sequence[Migration]) -> list[Finding]:
    """Dependency findings of a walk that went on through the seed files: a seed's are warnings
    (a seed runs on the local database, elsewhere only when asked), saying so."""
    if not seeds:
        return found
    names = {seed.filename for seed in seeds}
    return [
        Finding(WARNING, f.code, f.file, f.line, f"{f.message} (a seed file: it fails when it runs, after the "
                "migrations)", f.column) if f.file in names and f.severity == ERROR else f
        for f in found
    ]
