"""Connecting to the target database, and telling apart the ways it can fail."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from wizard.core.env import mask_url, scrub, unencoded_password, url_secrets
from wizard.core.db.direct import DirectDatabase
from wizard.core.errors import ExitCode, WizardError

# Failure classes; each has an advice entry of the same name.
BAD_URL = "bad-url"
DNS = "dns-failure"
UNREACHABLE = "network-unreachable"
REFUSED = "connection-refused"
TIMEOUT = "timeout"
WRONG_PASSWORD = "wrong-password"
UNKNOWN_TENANT = "unknown-tenant"
SSL_REQUIRED = "ssl-required"
DATABASE_MISSING = "database-missing"
UNKNOWN_ROLE = "unknown-role"
OTHER = "connection-failed"

_CLASSES = (
    (WRONG_PASSWORD, r"password authentication failed|no password supplied|password is required"),
    (UNKNOWN_TENANT, r"tenant or user not found"),
    (DATABASE_MISSING, r"database \".*\" does not exist"),
    (UNKNOWN_ROLE, r"role \".*\" does not exist"),
    (SSL_REQUIRED, r"ssl.*required|no encryption|SSL off|server does not support SSL"),
    (DNS, r"could not translate host name|name or service not known|nodename nor servname|"
          r"temporary failure in name resolution|no address associated"),
    (UNREACHABLE, r"network is unreachable|no route to host"),
    (REFUSED, r"connection refused"),
    (TIMEOUT, r"timeout expired|timed out"),
)



class ConnectError(WizardError):
    """The database cannot be reached. ``kind``: the failure class, which names its advice entry."""

    def __init__(self, kind: str, target: str, reason: str) -> None:
        super().__init__(f"cannot connect to {target}: {reason}", kind=kind, advice_key=("connection", kind),
                         exit_code=ExitCode.USAGE if kind == BAD_URL else ExitCode.CONNECT)
        self.args = (kind, target, reason)  # as constructed: a copy (pickle, copy) is built the same way
        self.target = target  # the URL with its password masked
        self.reason = reason  # the driver's message, with any secret scrubbed

    def __str__(self) -> str:
        return self.message

    @property
    def config_error(self) -> bool:
        """True when the URL itself is wrong (a usage error), not the server or the network."""
        return self.kind == BAD_URL


def classify(message: str) -> str:
    for kind, pattern in _CLASSES:
        if re.search(pattern, message, re.IGNORECASE):
            return kind
    return OTHER


def _reason(message: str) -> str:
    """The useful part of libpq's message: its last line, without the 'connection failed' prefix."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    text = lines[-1] if lines else message
    for line in lines:
        if "FATAL" in line or "failed:" in line:
            text = line
    text = re.sub(r"^connection failed:\s*", "", text)
    text = re.sub(r"^connection to server at .*?failed:\s*", "", text)
    return text.replace("FATAL:  ", "").strip().rstrip(".")


def connect(url: str, timeout: float = 10, application_name: str = "migration-wizard") -> psycopg.Connection:
    """Open an autocommit connection, or raise ConnectError with a classified, secret-free reason."""
    secrets = url_secrets(url)
    target = mask_url(url)
    if unencoded_password(url):
        raise ConnectError(
            BAD_URL, target,
            "the password holds a character (such as @ # / ? : or %) that must be percent-encoded in a URL",
        )
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=max(2, int(timeout)),
            application_name=application_name,
            prepare_threshold=None,  # works through transaction-mode poolers too
        )
    except psycopg.ProgrammingError as exc:
        raise ConnectError(BAD_URL, target, scrub(_reason(str(exc)), secrets)) from None
    except psycopg.OperationalError as exc:
        message = scrub(str(exc), secrets)
        kind = classify(message)
        if kind == OTHER and re.search(r"invalid (port|integer|URI|connection option)|missing \"=\"", message):
            kind = BAD_URL
        raise ConnectError(kind, target, _reason(message)) from None


PERMISSION_TOO_LOW = "permission-too-low"
OK = "ok"

_CAPABILITIES = """
SELECT current_setting('server_version'),
       current_user,
       has_schema_privilege('public', 'CREATE'),
       to_regnamespace('supabase_migrations') IS NOT NULL,
       CASE WHEN to_regnamespace('supabase_migrations') IS NOT NULL
            THEN has_schema_privilege('supabase_migrations', 'CREATE') AND
                 has_schema_privilege('supabase_migrations', 'USAGE')
            ELSE has_database_privilege(current_database(), 'CREATE') END,
       {supabase}
"""


@dataclass
class Probe:
    """The result of trying one connection candidate."""

    source: str
    url_masked: str
    result: str  # ok, or a failure class
    reason: str = ""
    server_version: str | None = None
    user: str | None = None
    can_create: bool = False
    history_ready: bool = False  # supabase_migrations exists and is writable, or can be created
    supabase: bool = False
    shaped: bool = False  # the Supabase compatibility step has nothing left to do

    @property
    def ok(self) -> bool:
        return self.result == OK

    @property
    def compat_needed(self) -> bool:
        return self.ok and not self.supabase and not self.shaped


def probe(source: str, url: str, timeout: float = 10) -> Probe:
    """Connect, then check what the automated path needs. Never raises."""
    masked = mask_url(url)
    try:
        conn = connect(url, timeout=timeout, application_name="migration-wizard doctor")
    except ConnectError as exc:
        return Probe(source, masked, exc.kind, exc.reason)
    try:
        with conn:
            from wizard.core import compat

            db = DirectDatabase(conn)
            ((version, user, create, history_exists, history_ok, supabase),) = db.query(
                _CAPABILITIES.format(supabase=compat.SUPABASE)
            )
            shaped = supabase or not compat.inspect(db).will_run
    except psycopg.Error as exc:
        return Probe(source, masked, OTHER, str(exc).strip())
    found = Probe(source, masked, OK, "", version, user, bool(create), bool(history_ok), bool(supabase), shaped)
    if not create or not history_ok:
        found.result = PERMISSION_TOO_LOW
        missing = [] if create else ["create tables in public"]
        if not history_ok:
            missing.append("write the migration history (supabase_migrations)")
        found.reason = f"{user} may not " + " or ".join(missing)
    return found
