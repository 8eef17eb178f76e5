"""Opening a target of the fleet: its variables read from the environment (never from the file),
then a connection, the Management API or the local database. Each failure is the engine's own
error, so a front end says it as it says any other; a variable that is not set is
:class:`NotConfigured`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.core.env import Environment
from wizard.core.errors import ExitCode, WizardError
from wizard.core.fleet.targets import Target


class NotConfigured(WizardError):
    """The variable a target names is not set (or empty)."""

    kind = "not-configured"
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Reach:
    """How targets are opened: the command line's timeouts and places."""

    connect_timeout: float = 10.0
    request_timeout: float = 300.0
    api_url: str | None = None  # the Management API, when neither the target nor the file names one
    local_dir: Path | None = None


@dataclass
class Opened:
    """An open target: a psycopg connection or the Management API; ``local``: the wizard's own
    database (the one with stand-in extensions)."""

    conn: Any
    local: bool = False

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # closing a lost connection: nothing more to do
            pass


def variable(environment: Environment, name: str, target: Target) -> str:
    value = environment.get(name)
    if value is None or not value.strip():
        raise NotConfigured(f"{target.name}: the variable {name} is not set (the targets file names it; set it in "
                            "the environment or in .env.local)")
    return value.strip()


def open_target(target: Target, environment: Environment, reach: Reach, *, probe: bool = True) -> Opened:
    """Connect to ``target``. Raises ConnectError, ApiError, LocalError or NotConfigured. Over
    HTTPS, ``probe=False`` sends nothing yet (a reader's first query says what a probe would,
    with the connect timeout): a request fewer, where each counts."""
    if target.local:
        from wizard.core.connect import connect
        from wizard.core.flows import local

        url = local.server(reach.local_dir).start()
        return Opened(connect(url, timeout=reach.connect_timeout), local=True)
    if target.project_ref:
        from wizard.core.db import https

        token = variable(environment, target.token_env, target)
        api_url = target.api_url or reach.api_url
        if not probe:
            return Opened(https.ApiDatabase(target.project_ref, token, api_url or https.DEFAULT_API_URL,
                                            timeout=reach.connect_timeout))
        database, _version = https.open_database(target.project_ref, token, api_url, reach.connect_timeout,
                                                 reach.request_timeout)
        return Opened(database)
    from wizard.core.connect import connect

    assert target.url_env is not None
    return Opened(connect(variable(environment, target.url_env, target), timeout=reach.connect_timeout))
