"""The environment: ``.env`` files and process variables, and the database they point at.

``.env`` then ``.env.local`` from the working directory (the latter wins), then ``--env-file``,
then the process environment, which wins over every file. Values are secrets: nothing here prints
them; ``mask`` is how they are shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from wizard.core.errors import ExitCode, WizardError
# How secrets are shown, found in URLs and scrubbed (wizard.core.secrets), still importable from here.
from wizard.core.secrets import _split_userinfo
from wizard.core.secrets import mask as mask
from wizard.core.secrets import mask_url as mask_url
from wizard.core.secrets import scrub as scrub
from wizard.core.secrets import sendable as sendable
from wizard.core.secrets import unencoded_password as unencoded_password
from wizard.core.secrets import url_password as url_password
from wizard.core.secrets import url_secrets as url_secrets

# Variables that hold a whole connection URL, in the order they are tried: direct connections
# (what migrations want) before pooled ones.
URL_VARIABLES = ("SUPABASE_DB_URL", "DIRECT_URL", "POSTGRES_URL_NON_POOLING", "DATABASE_URL", "POSTGRES_URL")
SUPABASE_URL_VARIABLES = ("SUPABASE_URL", "NEXT_PUBLIC_SUPABASE_URL")
_REF = re.compile(r"^https?://([a-z]{20})\.supabase\.(co|in)/?$")
_SUPABASE_HOST = re.compile(r"^https?://([^./]+)\.supabase\.(co|in)/?$")

# Every variable the wizard reads, with what it holds.
KNOWN = {
    "SUPABASE_URL": "url",
    "NEXT_PUBLIC_SUPABASE_URL": "url",
    "SUPABASE_ANON_KEY": "key",
    "SUPABASE_SERVICE_ROLE_KEY": "key",
    "SUPABASE_PUBLISHABLE_KEY": "key",
    "SUPABASE_SECRET_KEY": "key",
    "SUPABASE_ACCESS_TOKEN": "token",
    "SUPABASE_DB_PASSWORD": "password",
    "SUPABASE_DB_URL": "db-url",
    "DIRECT_URL": "db-url",
    "POSTGRES_URL_NON_POOLING": "db-url",
    "DATABASE_URL": "db-url",
    "POSTGRES_URL": "db-url",
}
# What each key variable should hold: the JWT role claim, or the prefix of Supabase's newer keys.
_KEY_ROLE = {
    "SUPABASE_ANON_KEY": ("anon", "sb_publishable_"),
    "SUPABASE_PUBLISHABLE_KEY": ("anon", "sb_publishable_"),
    "SUPABASE_SERVICE_ROLE_KEY": ("service_role", "sb_secret_"),
    "SUPABASE_SECRET_KEY": ("service_role", "sb_secret_"),
}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]", "")
# The API keys that let the REST API answer, in the order they are used: the service role sees every
# table; the anon key also tells a table apart from a missing one (42501 against 404).
REST_KEYS = ("SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_SECRET_KEY", "SUPABASE_ANON_KEY", "SUPABASE_PUBLISHABLE_KEY")


class EnvFileError(WizardError):
    """An --env-file that cannot be read."""

    kind = "env-file"
    exit_code = ExitCode.USAGE


@dataclass
class Environment:
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # variable -> where it came from

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value else None

    def database_url(self) -> tuple[str, str] | None:
        """(variable, URL) of the first connection URL set."""
        for name in URL_VARIABLES:
            value = self.get(name)
            if value:
                return name, value
        return None

    def supabase_ref(self) -> str | None:
        for name in SUPABASE_URL_VARIABLES:
            value = self.get(name)
            if value:
                match = _REF.match(value.strip())
                return match.group(1) if match else None
        return None

    def supabase_url_variable(self) -> str | None:
        return next((n for n in SUPABASE_URL_VARIABLES if self.get(n)), None)

    def rest_key(self) -> str | None:
        """The name of the API key the REST API checks use, if any is set."""
        return next((name for name in REST_KEYS if self.get(name)), None)

    def found(self) -> dict[str, dict[str, str | None]]:
        """Each known variable that is set: where from, and its value shown safely (a document the
        caller may add fields to, such as a key's role, which may be null)."""
        report: dict[str, dict[str, str | None]] = {}
        for name, kind in KNOWN.items():
            value = self.get(name)
            if value is None:
                continue
            if kind == "url":
                shown = value
            elif kind == "db-url":
                shown = mask_url(value)
            else:
                shown = mask(value, keep=0 if kind == "password" else 4)
            report[name] = {"source": self.sources.get(name, "environment"), "value": shown}
        return report

    def problems(self) -> list[str]:
        """What is wrong with the configuration itself: a malformed project URL, a key in the wrong
        variable or for another project."""
        problems = []
        variable = self.supabase_url_variable()
        ref = self.supabase_ref()
        value = self.get(variable) if variable else None
        if value and ref is None and (_SUPABASE_HOST.match(value.strip()) or not value.strip().startswith("http")):
            # a self-hosted or local API (http://127.0.0.1:54321) is fine; a mistyped project is not
            problems.append(
                f"{variable} does not look like a Supabase project URL (https://<20 lowercase letters>.supabase.co)"
            )
        for name, (role, prefix) in _KEY_ROLE.items():
            value = self.get(name)
            if value is None:
                continue
            if value.startswith(("sb_publishable_", "sb_secret_")):
                if not value.startswith(prefix):
                    problems.append(f"{name} holds a {value.split('_')[1]} key: it belongs in another variable")
                continue
            claims = jwt_claims(value)
            if claims is None:
                problems.append(f"{name} is neither a JWT nor a Supabase API key (sb_...): was it cut short?")
                continue
            if claims.get("role") and claims["role"] != role:
                problems.append(f"{name} holds the {claims['role']} key, not the {role} key: the two were swapped")
            if ref and claims.get("ref") and claims["ref"] != ref:
                problems.append(f"{name} belongs to project {claims['ref']}, not to {ref} (the project of {variable})")
        token = self.get("SUPABASE_ACCESS_TOKEN")
        if token and not token.startswith("sbp_"):
            problems.append("SUPABASE_ACCESS_TOKEN does not start with sbp_: it is not a personal access token "
                            "(API keys are not access tokens)")
        return problems


def load(cwd: Path | None = None, env_file: Path | None = None, process: Mapping[str, str] | None = None) -> Environment:
    cwd = cwd or Path.cwd()
    environment = Environment()
    files = [cwd / ".env", cwd / ".env.local"]
    if env_file is not None:
        if not env_file.is_file():
            if env_file.is_symlink() and not env_file.exists():
                raise EnvFileError(f"the env file {env_file} is a symbolic link that leads nowhere")
            raise EnvFileError(f"the env file {env_file} {'is not a file' if env_file.exists() else 'does not exist'}")
        files.append(env_file)
    for path in files:
        if not path.is_file():
            continue
        from dotenv import dotenv_values  # only when there is a file to read

        try:
            values = dotenv_values(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise EnvFileError(f"cannot read {path}: {exc}") from exc
        for name, value in values.items():
            if value is not None:
                environment.values[name] = value
                environment.sources[name] = path.name if path.parent == cwd else str(path)
    for name, value in (os.environ if process is None else process).items():
        environment.values[name] = value
        environment.sources[name] = "environment"
    return environment


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (a JSON object, as decoded), read without verifying it; None when it
    is not one."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: brackets nested past reason
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True)
class Candidate:
    """A way to reach the database: where it came from, and the URL (never shown unmasked)."""

    source: str
    url: str
    fixed: bool = False  # the password was percent-encoded by the wizard

    @property
    def masked(self) -> str:
        return mask_url(self.url)


def candidates(environment: Environment, explicit: str | None = None, pasted: str | None = None) -> list[Candidate]:
    """Connection candidates, in the order they are tried: the explicit URL, the URLs of the
    environment, the direct host with SUPABASE_DB_PASSWORD, a URL the user pasted."""
    found = []
    if explicit:
        found.append(_candidate("--database-url", explicit))
    ref, password = environment.supabase_ref(), environment.get("SUPABASE_DB_PASSWORD")
    for name in URL_VARIABLES:
        value = environment.get(name)
        if value:
            source = f"{name} ({environment.sources.get(name, 'environment')})"
            if password and url_password(value) is None and _split_userinfo(value):
                # a URL kept without its password, the password kept apart: join them, encoded
                found.append(Candidate(source + " + SUPABASE_DB_PASSWORD", with_sslmode(with_password(value, password))))
            else:
                found.append(_candidate(source, value))
    if ref and password:
        found.append(Candidate("SUPABASE_DB_PASSWORD (direct host)", direct_url(ref, password)))
    if pasted:
        found.append(_candidate("pasted", pasted))
    return found


def _candidate(source: str, url: str) -> Candidate:
    url = url.strip()
    if unencoded_password(url):
        return Candidate(source, with_sslmode(fix_url(url)), fixed=True)
    return Candidate(source, with_sslmode(url))


def fix_url(url: str) -> str:
    """The URL with its password percent-encoded (a raw '#', '@', '/'... breaks a URL)."""
    parts = _split_userinfo(url)
    if parts is None:
        return url
    scheme, user, password, rest = parts
    if password is None:
        return url

    return f"{scheme}{user}:{quote(unquote(password) if not _bad_percent(password) else password, safe='')}@{rest}"


def with_password(url: str, password: str) -> str:
    """The URL with this password, percent-encoded, as its password."""
    parts = _split_userinfo(url)
    if parts is None:  # callers pass a URL that has a scheme
        raise ValueError("not a connection URL")
    scheme, user, _, rest = parts
    return f"{scheme}{user or 'postgres'}:{quote(password, safe='')}@{rest}"


def _bad_percent(password: str) -> bool:
    return bool(re.search(r"%(?![0-9A-Fa-f]{2})", password))


def url_host(url: str) -> str | None:
    parts = _split_userinfo(url)
    if parts is None:
        return None
    host = re.split(r"[/?]", parts[3], maxsplit=1)[0]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def with_sslmode(url: str) -> str:
    """Remote hosts get sslmode=require unless the URL says otherwise."""
    host = url_host(url)
    if host is None or host in LOCAL_HOSTS or host.startswith("/") or "sslmode=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "sslmode=require"


def save_url(path: Path, name: str, url: str) -> None:
    """Write NAME=url into an env file: that one line is replaced or added, every other line is
    kept as it is, and the file is readable by its owner only."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = f"{name}={url}"
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(name)}\s*=")
    replaced = False
    for i, line in enumerate(lines):
        if pattern.match(line):
            lines[i] = entry
            replaced = True
    if not replaced:
        lines.append(entry)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


def dashboard(ref: str | None) -> dict[str, str]:
    """The dashboard pages a user needs, for a project."""
    base = f"https://supabase.com/dashboard/project/{ref or '_'}"
    return {
        "database_settings": f"{base}/database/settings",
        "connect": f"{base}?showConnect=true",
        "sql_editor": f"{base}/sql/new",
        "access_tokens": "https://supabase.com/dashboard/account/tokens",
    }


def direct_url(ref: str, password: str) -> str:
    """The direct connection to a Supabase project's database, password percent-encoded."""
    return f"postgresql://postgres:{quote(password, safe='')}@db.{ref}.supabase.co:5432/postgres?sslmode=require"


def transaction_pooler(url: str) -> bool:
    """A Supabase pooler URL in transaction mode (port 6543): no session survives a transaction."""
    parts = _split_userinfo(url)
    if parts is None:
        return False
    hostport = re.split(r"[/?]", parts[3], maxsplit=1)[0]
    return hostport.endswith(".pooler.supabase.com:6543")


def url_ref(url: str) -> str | None:
    """The Supabase project ref a connection URL names: db.<ref>.supabase.co, or the pooler's user
    postgres.<ref>."""
    parts = _split_userinfo(url)
    if parts is None:
        return None
    host = url_host(url) or ""
    match = re.match(r"^db\.([a-z]{20})\.supabase\.co$", host)
    if match:
        return match.group(1)
    user = parts[1] or ""
    match = re.match(r"^postgres\.([a-z]{20})$", user)
    return match.group(1) if match and host.endswith(".pooler.supabase.com") else None
