"""Troubleshooting knowledge: for a failure, its cause, the fix and the next actions.

The texts live in ``advice.toml`` (Markdown), keyed by SQLSTATE, connection failure class, HTTPS
status and post-run situation; this module picks the entry and fills in what is known of the
failure: the object named in the server's message, the file and line, the project's dashboard, and
which migration creates a missing table.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from wizard.core.catalog import Catalog
from wizard.core.diagnosis import Diagnosis, named_object

@dataclass(frozen=True)
class Advice:
    key: str
    title: str
    cause: str
    fix: str
    actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is known of this very failure

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "cause": self.cause, "fix": self.fix,
                "actions": self.actions, "notes": self.notes}

    def as_text(self) -> str:
        lines = [self.title, "", "Why: " + self.cause]
        lines += [f"Note: {n}" for n in self.notes]
        lines += ["", "Fix: " + self.fix]
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _entries() -> dict[str, Any]:
    """advice.toml, as read (sections of entries, each a table of texts)."""
    text = resources.files("wizard.core").joinpath("advice.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def keys(section: str) -> list[str]:
    return list(_entries().get(section, {}))


class _Fields(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, values: dict[str, object]) -> str:
    known = {k: v for k, v in values.items() if v not in (None, "")}
    return text.format_map(_Fields(known))


def entry(section: str, key: str, **values: object) -> Advice | None:
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
    found = entry("connection", kind, message=message, ref=ref) or entry(
        "connection", "connection-failed", message=message, ref=ref
    )
    if found is None:  # advice.toml has the entry: what every other connection failure falls back to
        raise LookupError("advice.toml has no [connection.connection-failed]")
    return found


def for_probe(kind: str, message: str = "", ref: str | None = None) -> Advice:
    """Advice for a failed way in: a connection class, or an HTTPS one (``https-<kind>``)."""
    if kind.startswith("https-"):
        found = entry("https", kind.removeprefix("https-"), ref=ref, message=message)
        if found is not None:
            return found
    return for_connection(kind, message, ref=ref)


def guide(name: str, ref: str | None = None) -> Advice | None:
    return entry("guide", name, ref=ref)


# Schemas that Supabase's services create and own on every project (or with an extension they
# ship), and who provides them.
SUPABASE_SCHEMAS = {
    "auth": ("auth", "Supabase Auth"),
    "storage": ("storage", "Supabase Storage"),
    "extensions": ("extensions", "Supabase's extensions schema"),
    "realtime": ("realtime", "Supabase Realtime"),
    "vault": ("vault", "Supabase Vault"),
    "graphql": ("graphql", "pg_graphql (Supabase's GraphQL API)"),
    "graphql_public": ("graphql", "pg_graphql (Supabase's GraphQL API)"),
    "net": ("net", "pg_net (Supabase's HTTP extension)"),
    "cron": ("cron", "pg_cron (Supabase's job scheduler)"),
    "supabase_functions": ("supabase_functions", "Supabase's database webhooks"),
}
SUPABASE_ROLES = {
    "anon", "authenticated", "service_role", "authenticator", "supabase_admin", "supabase_auth_admin",
    "supabase_storage_admin", "supabase_realtime_admin", "supabase_replication_admin", "supabase_read_only_user",
    "dashboard_user", "pgbouncer", "supabase_functions_admin", "pgsodium_keyholder",
}
_MISSING = ("42P01", "42883", "3F000", "42704")
# Tables of the storage schema, as a server names them in "must be owner of table objects".
_STORAGE_OWNED = re.compile(
    r"must be owner of (?:table|relation|index|sequence) (objects|buckets|migrations|s3_multipart_uploads\w*|buckets_\w+)\b")
_PERMISSION = re.compile(r"permission denied for (?:schema|table|relation|function|sequence|view) (?:(\w+)\.)?(\w+)")


def supabase_schema(schema: str | None) -> str | None:
    """Who provides a schema that Supabase manages (None for any other schema)."""
    found = SUPABASE_SCHEMAS.get(schema or "")
    return found[1] if found else None


def _supabase_key(sqlstate: str | None, obj: str | None, message: str) -> tuple[str, str | None] | None:
    """The [supabase.*] entry for a failure about an object Supabase owns, and its schema."""
    if sqlstate in _MISSING and obj:
        if message.startswith("schema "):
            schema = obj
        elif message.startswith("publication "):
            return ("realtime", "realtime") if obj == "supabase_realtime" else None
        elif message.startswith("role "):
            return ("roles", None) if obj in SUPABASE_ROLES else None
        else:
            schema = obj.split("(")[0].rpartition(".")[0].strip('"')
        found = SUPABASE_SCHEMAS.get(schema)
        return (found[0], schema) if found else None
    if sqlstate == "42501":
        if _STORAGE_OWNED.search(message) or ("must be owner" in message and "storage." in message):
            return ("storage-owner", "storage")
        match = _PERMISSION.search(message)
        if match:
            schema = match.group(2) if message.startswith("permission denied for schema") else match.group(1)
            if schema in SUPABASE_SCHEMAS:
                return ("permission", schema)
    return None


def for_failure(diagnosis: Diagnosis, catalog: Catalog | None = None, ref: str | None = None) -> Advice:
    """Advice for a failed migration, with what is known of this failure. A failure about an object
    that one of Supabase's services owns (``auth.users``, ``storage.objects``...) gets that
    service's entry: no migration of the folder is expected to create it."""
    obj = named_object(diagnosis.message)
    values = {
        "object": obj or "the object",
        "message": diagnosis.message,
        "detail": diagnosis.detail or diagnosis.message,
        "file": diagnosis.file,
        "line": diagnosis.line,
        "ref": ref,
    }
    owned = _supabase_key(diagnosis.sqlstate, obj, diagnosis.message)
    found = None
    if owned is not None:
        found = entry("supabase", owned[0], schema=owned[1], **values)
    if found is None:
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
        if not notes and owned is None:
            bare = obj.split("(")[0].split(".")[-1]
            notes.append(f"No migration in the folder creates {bare}: a migration is missing, or the object "
                         "was made by hand (in the dashboard) on another database.")
    if catalog is not None and obj and diagnosis.sqlstate == "42P07":
        notes += _created_before(obj, diagnosis, catalog)
    if catalog is not None and diagnosis.context:
        notes += _inside_function(diagnosis, catalog)
    if diagnosis.lock_wait is not None:
        from wizard.core.lockwait import notes as lock_notes

        notes += lock_notes(diagnosis.lock_wait, Path(diagnosis.file).name)
    return Advice(found.key, found.title, found.cause, found.fix, found.actions, notes)


def _created_before(name: str, diagnosis: Diagnosis, catalog: Catalog) -> list[str]:
    """For "already exists": an earlier file of the folder that creates the same relation, which
    makes it the folder's own doing rather than a run by hand."""
    from wizard.core.objects import effects, normalize

    schema, _, bare = name.split("(")[0].replace('"', "").rpartition(".")
    failed = f"{diagnosis.version}_{diagnosis.name}.sql"
    for migration in catalog.migrations:
        if migration.filename >= failed:
            break
        for statement in migration.statements:
            for obj in effects(statement).creates:
                if obj.name == bare and obj.kind in ("table", "view", "sequence", "index") and (
                        not schema or normalize(obj).schema == schema):
                    return [f"{migration.filename}:{statement.line} already creates {bare}: two files of the folder "
                            "create it (a file given an earlier version than the one it copies?). Remove one "
                            "of the two, or make the later one CREATE ... IF NOT EXISTS."]
    return []


def _inside_function(diagnosis: Diagnosis, catalog: Catalog) -> list[str]:
    """Where, in the folder, is the line of a PL/pgSQL function the error happened in, when the
    failing statement called it (or fired it as a trigger)."""
    from wizard.core.diagnosis import body_file_line, called_functions
    from wizard.core.plpgsql import language

    called = called_functions(diagnosis.context)
    if not called:
        return []
    name, line = called[0]
    schema, _, bare = name.rpartition(".")
    found = None
    for migration in catalog.migrations:
        if migration.version > diagnosis.version:
            break
        for statement in migration.statements:
            if statement.kind != "CreateFunctionStmt" or language(statement.kind, statement.node) != "plpgsql":
                continue
            names = [n.get("String", {}).get("sval") for n in statement.node.get("funcname", [])]
            if names[-1:] == [bare] and (not schema or len(names) < 2 or names[-2] == schema):
                found = (migration, statement)
    if found is None:
        return []
    migration, statement = found
    if migration.version == diagnosis.version and statement.index == diagnosis.statement_index:
        return []
    file_line = body_file_line(statement, line)
    return [f"The error happened inside {name}() (line {line} of its body: {migration.filename}:{file_line}), "
            "which the failing statement called or fired as a trigger."]


def _who_creates(name: str, diagnosis: Diagnosis, catalog: Catalog) -> list[str]:
    from wizard.core.objects import effects, normalize

    schema, _, bare = name.split("(")[0].replace('"', "").rpartition(".")
    for migration in catalog.migrations:
        for statement in migration.statements:
            for obj in effects(statement).creates:
                if obj.name == bare and obj.kind in ("table", "view", "function", "type", "sequence") and (
                        not schema or normalize(obj).schema == schema):
                    if migration.version == diagnosis.version:
                        return [f"{bare} is created later in this same file ({migration.filename}:"
                                f"{statement.line}): move that statement before line {diagnosis.line}."]
                    if migration.filename > f"{diagnosis.version}_{diagnosis.name}.sql":
                        return [f"{migration.filename} creates {bare}, but it comes after this migration: "
                                "the files are out of order."]
                    return [f"{migration.filename} creates {bare}: it is recorded as applied, yet the object is "
                            "gone (dropped by hand?) or was created in another schema."]
    return []
