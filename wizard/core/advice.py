"""Troubleshooting knowledge: for a failure, its cause, the fix and the next actions.

The texts live in ``advice.toml`` (Markdown), keyed by SQLSTATE, connection failure class, HTTPS
status and post-run situation; this module picks the entry and fills in what is known of the
failure: the object named in the server's message, the file and line, the project's dashboard, and
which migration creates a missing table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from wizard.core.diagnosis import Diagnosis, named_object

@dataclass(frozen=True)
class Advice:
    key: str
    title: str
    cause: str
    fix: str
    actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is known of this very failure

    def to_json(self) -> dict:
        return {"key": self.key, "title": self.title, "cause": self.cause, "fix": self.fix,
                "actions": self.actions, "notes": self.notes}

    def as_text(self) -> str:
        lines = [self.title, "", "Why: " + self.cause]
        lines += [f"Note: {n}" for n in self.notes]
        lines += ["", "Fix: " + self.fix]
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _entries() -> dict:
    text = resources.files("wizard.core").joinpath("advice.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def keys(section: str) -> list[str]:
    return list(_entries().get(section, {}))


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, values: dict) -> str:
    known = {k: v for k, v in values.items() if v not in (None, "")}
    return text.format_map(_Fields(known))


def entry(section: str, key: str, **values) -> Advice | None:
    data = _entries().get(section, {}).get(key)
    if data is None:
        return None
    ref = values.get("ref")
    values.setdefault("dashboard", f"https://supabase.com/dashboard/project/{ref}" if ref else
                      "https://supabase.com/dashboard/project/_")
    if not values.get("ref"):
        values["ref"] = "<project-ref>"
    return Advice(
        key=f"{section}.{key}",
        title=data["title"],
        cause=_fill(data["cause"], values),
        fix=_fill(data["fix"], values),
        actions=list(data.get("actions", [])),
    )


def for_connection(kind: str, message: str = "", ref: str | None = None) -> Advice:
    return entry("connection", kind, message=message, ref=ref) or entry(
        "connection", "connection-failed", message=message, ref=ref
    )


def for_probe(kind: str, message: str = "", ref: str | None = None) -> Advice:
    """Advice for a failed way in: a connection class, or an HTTPS one (``https-<kind>``)."""
    if kind.startswith("https-"):
        found = entry("https", kind.removeprefix("https-"), ref=ref, message=message)
        if found is not None:
            return found
    return for_connection(kind, message, ref=ref)


def guide(name: str, ref: str | None = None) -> Advice | None:
    return entry("guide", name, ref=ref)


def for_failure(diagnosis: Diagnosis, catalog=None, ref: str | None = None) -> Advice:
    """Advice for a failed migration, with what is known of this failure."""
    obj = named_object(diagnosis.message)
    values = {
        "object": obj or "the object",
        "message": diagnosis.message,
        "detail": diagnosis.detail or diagnosis.message,
        "file": diagnosis.file,
        "line": diagnosis.line,
        "ref": ref,
    }
    found = entry("sqlstate", diagnosis.sqlstate or "", **values)
    if found is None:
        found = Advice(
            key=f"sqlstate.{diagnosis.sqlstate}",
            title=f"The migration failed ({diagnosis.sqlstate or 'no SQLSTATE'})",
            cause=diagnosis.message,
            fix="Read the message and the statement at the line shown, fix the file, then retry. "
            "Nothing of the failed migration was kept.",
            actions=["open-file", "retry", "copy-statement"],
        )
    notes = []
    if catalog is not None and obj and diagnosis.sqlstate in ("42P01", "42883", "42704"):
        notes += _who_creates(obj, diagnosis, catalog)
    if diagnosis.sqlstate == "42883" and obj and obj.startswith("auth."):
        notes.append("auth.* functions are Supabase's: on a plain PostgreSQL, apply without --no-compat "
                     "so that the wizard creates them first.")
    return Advice(found.key, found.title, found.cause, found.fix, found.actions, notes)


def _who_creates(name: str, diagnosis: Diagnosis, catalog) -> list[str]:
    from wizard.core.objects import effects

    bare = name.split("(")[0].split(".")[-1]
    for migration in catalog.migrations:
        for statement in migration.statements:
            for obj in effects(statement).creates:
                if obj.name == bare and obj.kind in ("table", "view", "function", "type", "sequence"):
                    if migration.version == diagnosis.version:
                        return [f"{bare} is created later in this same file ({migration.filename}:"
                                f"{statement.line}): move that statement before line {diagnosis.line}."]
                    if migration.filename > f"{diagnosis.version}_{diagnosis.name}.sql":
                        return [f"{migration.filename} creates {bare}, but it comes after this migration: "
                                "the files are out of order."]
                    return [f"{migration.filename} creates {bare}: it is recorded as applied, yet the object is "
                            "gone (dropped by hand?) or was created in another schema."]
    return [f"No migration in the folder creates {bare}: a migration is missing, or the object was made by "
            "hand (in the dashboard) on another database."]
