"""The ways into the target database, as the wizard shows them: a connection URL (from the command
line, the environment, a paste or the local database) or the project's database over HTTPS (the
Management API with an access token). Each is tried once, and opened again for each step."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from wizard.core.env import LOCAL_HOSTS, url_host
from wizard.core.flows.target import Kind, Way

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import psycopg

    from wizard.core.advice import Advice
    from wizard.core.catalog import Catalog
    from wizard.core.connect import Probe
    from wizard.core.db import Connectable
    from wizard.core.db.https import ApiDatabase
    from wizard.core.events import Event
    from wizard.core.runbase import BaseRunner



@dataclass(frozen=True)
class Target:
    kind: Kind  # what it is: a connection URL, the local database, the Management API
    source: str  # where it came from: --database-url, DATABASE_URL (.env), pasted, local database...
    shown: str  # how it is shown: a masked URL, the project, or a fixed name
    url: str | None = None  # a database connection
    ref: str | None = None  # the Supabase project, when there is one (advice links to its dashboard)
    token: str | None = field(default=None, repr=False)  # over HTTPS: the personal access token
    api_url: str | None = None
    timeout: float = 10.0
    probe: Probe | None = None  # the result of trying it; None until tried
    pasted: bool = False  # given in the paste box
    fixed: bool = False  # the URL's password was percent-encoded by the wizard

    @classmethod
    def of(cls, way: Way, shown: str, api_url: str | None = None, timeout: float = 10.0) -> Target:
        """The engine's way, as the wizard shows and tries it."""
        return cls(way.kind, way.source, shown, url=way.url, ref=way.ref, token=way.token, api_url=api_url,
                   timeout=timeout, pasted=way.pasted, fixed=way.fixed)

    @property
    def local(self) -> bool:
        """The local embedded database."""
        return self.kind is Kind.LOCAL

    @property
    def over_https(self) -> bool:
        return self.kind is Kind.HTTPS

    @property
    def tried(self) -> bool:
        return self.probe is not None

    @property
    def ok(self) -> bool:
        return self.probe is not None and self.probe.ok

    @property
    def on_this_machine(self) -> bool:
        return self.url is not None and url_host(self.url) in LOCAL_HOSTS

    def attempt(self) -> Target:
        """Try it (blocking; never raises): the same target with its result."""
        if self.over_https:
            from wizard.core.db import https

            ref, token = self._project()
            return replace(self, probe=https.probe(ref, token, self.api_url, timeout=self.timeout))
        from wizard.core.connect import probe

        return replace(self, probe=probe(self.source, self._url(), timeout=self.timeout))

    def open(self, on_notice: Callable[[str], None] | None = None) -> psycopg.Connection[Any] | ApiDatabase:
        """A connection for the engine: psycopg's, or the Management API's. Raises ConnectError
        or ApiError."""
        if not self.over_https:
            from wizard.core.connect import connect

            return connect(self._url(), timeout=self.timeout)
        from wizard.core.db import https

        ref, token = self._project()
        return https.open_database(ref, token, self.api_url, self.timeout, on_notice=on_notice)[0]

    def runner(self, conn: Connectable, catalog: Catalog, on_event: Callable[[Event], None]) -> BaseRunner:
        """The engine's runner for this way in."""
        from wizard.core.db import database
        from wizard.core.runner import RunOptions, runner_for

        return runner_for(conn)(database(conn), catalog, RunOptions(), on_event=on_event)

    def _url(self) -> str:
        """The connection URL of a way that is not over HTTPS: each has one."""
        assert self.url is not None, "a way to connect to has its URL"
        return self.url

    def _project(self) -> tuple[str, str]:
        """The project and the access token of a way over HTTPS: each has both."""
        assert self.ref is not None and self.token is not None, "a way over HTTPS has its project and token"
        return self.ref, self.token

    # -- how it reads ------------------------------------------------------------------------------

    def advice(self) -> Advice | None:
        """What to do about a failed attempt."""
        from wizard.core import advice

        if self.probe is None or self.probe.ok:
            return None
        return advice.for_probe(self.probe.result, self.probe.reason, ref=self.ref)

    def result(self) -> str:
        """One word or a title: the result column."""
        if self.probe is None:
            return "trying…"
        advice = self.advice()  # None when it worked
        return "ok" if advice is None else advice.title

    def describe(self) -> str:
        """One line on what this way leads to."""
        probe = self.probe
        if probe is None:
            return f"Trying {self.shown}…"
        if not probe.ok:
            return f"{self.result()}: {probe.reason}" if probe.reason else self.result()
        version = (probe.server_version or "").split(" ")[0]
        if self.over_https:
            return f"Supabase project {self.ref} over HTTPS, PostgreSQL {version}"
        text = f"{'Supabase' if probe.supabase else 'PostgreSQL'} {version}"
        text += " on this machine (local)" if self.on_this_machine else ""
        text += f", as {probe.user}" if probe.user else ""
        if probe.compat_needed:
            text += "; the compatibility step will make it Supabase-shaped (auth, storage, extensions, roles)"
        return text
