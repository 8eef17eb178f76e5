"""Which database, and every way to it: decided once, from the options and the environment, for
the command line (which takes the first way) and the wizard (which tries them all).

A way is a value (:class:`Way`, with a :class:`Kind`), never told apart by how it is shown. The
rules, in order: ``--local`` is the local database; otherwise the ways are the explicit URL, the
URLs of the environment (and the direct host with ``SUPABASE_DB_PASSWORD``), then the project over
HTTPS when there is an access token. With none of them, a named Supabase project has no way in
(:attr:`Choice.no_way_in`); with nothing configured at all, the local database is the target.
Reading writes nothing and connects to nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wizard.core import env
from wizard.core.env import Environment, EnvFileError


class Kind(enum.Enum):
    URL = "url"  # a PostgreSQL connection URL
    LOCAL = "local"  # the local embedded PostgreSQL, started when used
    HTTPS = "https"  # the project's database through the Management API, with an access token


LOCAL_SOURCE = "local database"


@dataclass(frozen=True)
class Way:
    """One way to the database: what it is, where it came from (as the user named it), and what it
    needs to be opened."""

    kind: Kind
    source: str  # --database-url, DATABASE_URL (.env), SUPABASE_ACCESS_TOKEN (...), local database
    url: str | None = None  # Kind.URL: the connection URL (a secret: shown masked)
    ref: str | None = None  # the Supabase project, when there is one
    token: str | None = field(default=None, repr=False)  # Kind.HTTPS: the personal access token
    fixed: bool = False  # the URL's password was percent-encoded by the wizard
    pasted: bool = False  # given on the spot (the wizard's paste box), not read from a setting
    explicit: bool = False  # named on the command line (--database-url)

    @property
    def masked(self) -> str:
        return env.mask_url(self.url) if self.url is not None else ""


class NoWay(enum.Enum):
    """Why the command line has no target."""

    CONFLICT = "conflict"  # --database-url and --local together
    NO_TOKEN = "no-token"  # --https without a project and an access token
    NO_CREDENTIALS = "no-credentials"  # a Supabase project is named, and nothing reaches its database


@dataclass(frozen=True)
class Request:
    """What the user asked for: the options that name a target, and where the environment is."""

    database_url: str | None = None
    local: bool = False
    https: bool = False  # the Management API, even when a URL is configured
    env_file: Path | None = None
    cwd: Path | None = None  # where .env and .env.local are read (default: the working directory)
    environ: Mapping[str, str] | None = None  # the process environment (default: this process's)


@dataclass(frozen=True)
class Choice:
    """The ways to the database, in the order they are tried, and the one a command uses."""

    request: Request
    environment: Environment
    ways: tuple[Way, ...]  # every configured way (not the implicit local database)
    # The environment could not be read, though the target does not depend on it (an explicit
    # URL, or --local): kept for whoever shows the environment.
    unread: EnvFileError | None = None

    @property
    def ref(self) -> str | None:
        return self.environment.supabase_ref()

    @property
    def nothing_configured(self) -> bool:
        """No way at all, and no Supabase project named: the local database is the target."""
        return not self.ways and self.environment.supabase_url_variable() is None

    @property
    def refused(self) -> NoWay | None:
        """Why there is no target for a command, or None."""
        request = self.request
        if request.database_url and request.local:
            return NoWay.CONFLICT
        if request.local or request.database_url:
            return None
        if request.https and self._https() is None:
            return NoWay.NO_TOKEN
        if not self.ways and not self.nothing_configured:
            return NoWay.NO_CREDENTIALS
        return None

    @property
    def target(self) -> Way | None:
        """The way a command uses: --local, --https's way, the first URL, the project over HTTPS,
        or the local database when nothing is configured. None when refused."""
        if self.refused is not None:
            return None
        if self.request.local or self.nothing_configured:
            return Way(Kind.LOCAL, LOCAL_SOURCE)
        if self.request.https and not self.request.database_url:
            return self._https()
        return self.ways[0]

    @property
    def no_way_in(self) -> str | None:
        """Why no way to the named project exists (plan then reads the folder offline)."""
        if self.refused is not NoWay.NO_CREDENTIALS:
            return None
        return (f"{self.environment.supabase_url_variable()} names a Supabase project, but there is no way to reach "
                "its database (no password, connection string or access token)")

    def _https(self) -> Way | None:
        return next((w for w in self.ways if w.kind is Kind.HTTPS), None)


def url_way(candidate: env.Candidate, ref: str | None, pasted: bool = False, explicit: bool = False) -> Way:
    return Way(Kind.URL, candidate.source, url=candidate.url, ref=ref, fixed=candidate.fixed, pasted=pasted,
               explicit=explicit)


def https_way(ref: str, token: str, source: str | None = None) -> Way:
    """The project over the Management API; ``source`` None: the token of the environment."""
    if source is None:
        from wizard.core.db.https import PROBE_SOURCE

        source = PROBE_SOURCE
    return Way(Kind.HTTPS, source, ref=ref, token=token, pasted=source.startswith("pasted"))


def choose(request: Request) -> Choice:
    """The ways to the database for ``request``. Raises EnvFileError when the environment cannot be
    read and the target depends on it."""
    try:
        environment = env.load(request.cwd, request.env_file, dict(request.environ)
                               if request.environ is not None else None)
        unread = None
    except EnvFileError as exc:
        if not (request.database_url or request.local):
            raise
        environment, unread = Environment(), exc
    if request.local:
        return Choice(request, environment, (), unread)
    ref, token = environment.supabase_ref(), environment.get("SUPABASE_ACCESS_TOKEN")
    ways = [url_way(c, ref, explicit=bool(request.database_url) and n == 0)
            for n, c in enumerate(env.candidates(environment, explicit=request.database_url))]
    if ref and token:
        ways.append(https_way(ref, token))
    return Choice(request, environment, tuple(ways), unread)
