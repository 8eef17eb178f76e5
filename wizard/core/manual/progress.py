"""The migrations confirmed as run by hand, kept in the project between runs, per target."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from wizard.core.catalog import Catalog, Migration

PROGRESS_FILE = Path(".migration-wizard") / "manual-progress.json"


def target_key(ref: str | None, url: str | None) -> str:
    """What manual progress is kept under: the Supabase project, else the database the URL names
    (scheme, host, port and path; never its user or password); "" when neither is known."""
    if ref:
        return f"project:{ref}"
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{parts.hostname or ''}{f':{port}' if port else ''}{parts.path}"


def _read_progress(project: Path) -> dict[str, Any]:
    try:
        data = json.loads((project / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_progress(project: Path, target: str = "") -> dict[str, str]:
    """The migrations confirmed on one target (see ``target_key``): version -> the checksum of the
    file that was run. A file written before progress was kept per target counts for the first
    target that reads it, and is kept under that target at the next confirmation."""
    data = _read_progress(project)
    targets = data.get("targets")
    if isinstance(targets, dict):
        confirmed = (targets.get(target) or {}).get("confirmed", {})
    else:
        confirmed = data.get("confirmed", {})
    return {str(k): str(v) for k, v in confirmed.items()} if isinstance(confirmed, dict) else {}


def confirm(project: Path, migration: Migration, target: str = "") -> None:
    """Keep that a migration was run by hand on a target, with its file's checksum."""
    data = _read_progress(project)
    progress = load_progress(project, target)
    progress[migration.version] = migration.checksum
    targets = data.get("targets")
    if not isinstance(targets, dict):
        targets = {}
    targets[target] = {"confirmed": progress}
    path = project / PROGRESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"targets": targets}, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def next_to_run(catalog: Catalog, confirmed: dict[str, str]) -> Migration | None:
    """The first migration not yet confirmed (or changed since it was)."""
    return next((m for m in catalog.migrations if confirmed.get(m.version) != m.checksum), None)
