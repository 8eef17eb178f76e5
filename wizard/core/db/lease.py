"""The run lock where there is no session to hold an advisory lock (the Management API): a lease
row in the wizard's own table beside the history, taken and released with conditional statements.

A lease names its holder (machine, process, start) and expires unless renewed: the holder renews it
while it runs, so a holder that died leaves a lease that the next run takes over once expired."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from wizard.core.history import SCHEMA

TABLE = f"{SCHEMA}.migration_wizard_lock"
LEASE_SECONDS = 60.0  # a lease not renewed for this long is free to take

_CREATE = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};\n"
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "name text PRIMARY KEY, owner text NOT NULL, host text, pid integer, "
    "started timestamptz NOT NULL DEFAULT now(), expires timestamptz NOT NULL);\n"
)

# Take the lease when it is free, expired, or already ours; the row as it was before, to name its
# holder when it was not (a statement does not see its own changes).
_TAKE = (
    "WITH taken AS ("
    f"INSERT INTO {TABLE} AS l (name, owner, host, pid, started, expires) "
    "VALUES ('run', {owner}, {host}, {pid}, now(), now() + make_interval(secs => {seconds})) "
    "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, host = EXCLUDED.host, pid = EXCLUDED.pid, "
    "started = EXCLUDED.started, expires = EXCLUDED.expires "
    "WHERE l.expires < now() OR l.owner = EXCLUDED.owner RETURNING owner) "
    "SELECT EXISTS (SELECT 1 FROM taken) AS taken, h.host, h.pid, h.started "
    f"FROM (SELECT 1) AS one LEFT JOIN {TABLE} AS h ON h.name = 'run' AND h.expires >= now()"
)
_RENEW = (f"UPDATE {TABLE} SET expires = now() + make_interval(secs => {{seconds}}) "
          "WHERE name = 'run' AND owner = {owner} RETURNING owner")
_RELEASE = f"DELETE FROM {TABLE} WHERE name = 'run' AND owner = {{owner}}"
_HOLDER = f"SELECT host, pid, started FROM {TABLE} WHERE name = 'run' AND expires >= now()"


def _literal(value: object) -> str:
    return sql.Literal(value).as_string(None)


@dataclass(frozen=True)
class Holder:
    host: str | None
    pid: int | None
    started: datetime | str | None

    def __str__(self) -> str:
        who = f"pid {self.pid}" if self.pid is not None else "a run"
        if self.host:
            who += f" on {self.host}"
        if isinstance(self.started, datetime):
            who += f", running since {self.started:%H:%M:%S}"
        return who


class Lease:
    """The run lock as a lease row, over a function that runs one query string and returns the rows
    of its last result."""

    def __init__(self, request: Callable[[str], list[tuple[Any, ...]]], seconds: float = LEASE_SECONDS,
                 on_lost: Callable[[str], None] | None = None):
        self._request = request
        self.seconds = seconds
        self.owner = uuid.uuid4().hex
        self.holder: Holder | None = None  # who held it at the last refused attempt
        self._created = False
        self.held = False
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        self._on_lost = on_lost or (lambda message: None)

    def take(self) -> bool:
        """Take the lease without waiting; False (and ``holder`` set) when another run holds it."""
        query = _TAKE.format(owner=_literal(self.owner), host=_literal(socket.gethostname()),
                             pid=_literal(os.getpid()), seconds=_literal(self.seconds))
        if not self._created:
            query = _CREATE + query
        rows = self._request(query)
        self._created = True
        taken, host, pid, started = rows[0] if rows else (False, None, None, None)
        if not taken:
            self.holder = Holder(host, pid, started)
            return False
        self.holder = None
        self.held = True
        self._start_renewing()
        return True

    def current_holder(self) -> Holder | None:
        rows = self._request(_HOLDER)
        return Holder(*rows[0]) if rows else None

    def release(self) -> None:
        """Give the lease up (nothing when another run took it over meanwhile)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None
        if self.held:
            self.held = False
            self._request(_RELEASE.format(owner=_literal(self.owner)))

    def _start_renewing(self) -> None:
        if self._renewer is not None:
            return
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="lease-renewal", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        """Renew the lease a few times per lease period, so that it outlives no dead holder."""
        query = _RENEW.format(seconds=_literal(self.seconds), owner=_literal(self.owner))
        while not self._stop.wait(self.seconds / 4):
            try:
                renewed = bool(self._request(query))
            except Exception as exc:  # noqa: BLE001 - the run goes on; the next renewal retries
                self._on_lost(f"The run lock's lease could not be renewed ({exc}); retrying.")
                continue
            if not renewed and not self._stop.is_set():
                self._on_lost("The run lock's lease expired before it was renewed, and another run may hold it "
                              "now: this run goes on, each migration still under its transaction-level lock.")
                return
