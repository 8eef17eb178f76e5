"""``doctor``: what the environment holds (masked), each way to the database tried once with its
result and advice, the paths possible now (database connection, HTTPS, by hand) and the next step.

The ways are the target choice's (:mod:`wizard.core.flows.target`); with ``--local`` the front end
starts the local database and hands its way in. Nothing is written, except by :func:`save`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.core import env
from wizard.core.connect import Probe
from wizard.core.env import Environment
from wizard.core.errors import ExitCode
from wizard.core.flows.target import Kind, Way


@dataclass(frozen=True)
class Tried:
    way: Way
    probe: Probe


@dataclass(frozen=True)
class Paths:
    database: bool  # a database connection works
    https: bool  # the Management API answers with the access token
    manual: bool  # the project is known: its SQL editor

    @property
    def automated(self) -> bool:
        return self.database or self.https

    def to_json(self) -> dict[str, bool]:
        return {"automated": self.automated, "database": self.database, "https": self.https, "manual": self.manual}


@dataclass
class DoctorReport:
    environment: Environment
    tried: list[Tried]
    found: dict[str, dict[str, Any]] = field(default_factory=dict)  # variable -> masked value, source, role...
    problems: list[str] = field(default_factory=list)
    saved: Path | None = None

    @property
    def ref(self) -> str | None:
        return self.environment.supabase_ref()

    @property
    def links(self) -> dict[str, str]:
        return env.dashboard(self.ref)

    @property
    def token(self) -> bool:
        return self.environment.get("SUPABASE_ACCESS_TOKEN") is not None

    @property
    def working(self) -> Way | None:
        """The first database connection that works."""
        return next((t.way for t in self.tried if t.probe.ok and t.way.kind is not Kind.HTTPS), None)

    @property
    def paths(self) -> Paths:
        https = any(t.probe.ok and t.way.kind is Kind.HTTPS for t in self.tried)
        return Paths(self.working is not None, https, self.ref is not None)

    @property
    def missing(self) -> list[str]:
        """What would open a way in, when none works and a project is named."""
        if self.paths.automated or not self.ref:
            return []
        return [name for name in ("SUPABASE_DB_PASSWORD", "SUPABASE_DB_URL", "SUPABASE_ACCESS_TOKEN")
                if name not in self.found]

    def advice(self, probe: Probe) -> dict[str, str] | None:
        """What to do about a way that failed: title, cause and fix (markdown)."""
        from wizard.core import advice

        if probe.ok:
            return None
        entry = advice.for_probe(probe.result, probe.reason, ref=self.ref)
        return {"title": entry.title, "cause": entry.cause, "fix": entry.fix}

    @property
    def next_step(self) -> str:
        working, links = self.working, self.links
        if working is not None:
            return "Run 'migration-wizard apply' (it uses " + working.source + ")."
        if self.paths.https:
            return "Run 'migration-wizard apply': it goes through the Management API with your access token."
        if self.tried:
            return (self.advice(self.tried[0].probe) or {})["fix"]
        if self.ref:
            return (f"Set SUPABASE_DB_PASSWORD in .env.local (Database settings: {links['database_settings']}), "
                    f"or paste the Session pooler connection string from {links['connect']} as SUPABASE_DB_URL. "
                    f"Without either, apply the migrations by hand in the SQL editor: {links['sql_editor']}.")
        return ("No Supabase project and no database are configured: pass --database-url URL, set DATABASE_URL, "
                "or use the local database: 'migration-wizard apply --local'.")

    @property
    def exit_code(self) -> ExitCode:
        if self.problems and not self.paths.automated:
            return ExitCode.USAGE
        return ExitCode.OK if self.paths.automated else ExitCode.CONNECT


def environment_facts(environment: Environment) -> dict[str, dict[str, Any]]:
    """Every variable the wizard knows, masked, with where it came from; a key's role and project
    as its JWT claims say."""
    found: dict[str, dict[str, Any]] = environment.found()
    for name, value in environment.values.items():
        claims = env.jwt_claims(value) if env.KNOWN.get(name) == "key" else None
        if claims and name in found:
            found[name]["role"] = claims.get("role")
            found[name]["project_ref"] = claims.get("ref")
    return found


def doctor(environment: Environment, ways: Sequence[Way], *, timeout: float, api_url: str | None = None,
           on_try: Callable[[Way], None] | None = None) -> DoctorReport:
    """Try each way once, in order (database connections, then the Management API)."""
    from wizard.core.db import https
    from wizard.core.connect import probe

    tried = []
    for way in ways:
        if on_try is not None:
            on_try(way)
        if way.kind is Kind.HTTPS:
            assert way.ref is not None and way.token is not None, "an HTTPS way names its project and token"
            result = https.probe(way.ref, way.token, api_url, timeout=timeout)
        else:
            assert way.url is not None, "a database way has its URL"
            result = probe(way.source, way.url, timeout=timeout)
            if way.fixed:
                result.reason = (result.reason + "; " if result.reason else "") + (
                    "the password in this URL had characters that must be percent-encoded: the wizard encoded them")
        tried.append(Tried(way, result))
    return DoctorReport(environment, tried, environment_facts(environment), environment.problems())


def save(report: DoctorReport, path: Path) -> Path | None:
    """Store the working connection URL in ``path`` as SUPABASE_DB_URL (readable by the user only)."""
    working = report.working
    if working is None or working.url is None:
        return None
    env.save_url(path, "SUPABASE_DB_URL", working.url)
    report.saved = path
    return path
