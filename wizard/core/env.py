"""The environment: ``.env`` files and process variables, and the database they point at.

``.env`` then ``.env.local`` from the working directory (the latter wins), then ``--env-file``,
then the process environment, which wins over every file. Values are secrets: nothing here prints
them; ``mask`` is how they are shown.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from dotenv import dotenv_values

# Variables that hold a whole connection URL, in the order they are tried: direct connections
# (what migrations want) before pooled ones.
URL_VARIABLES = ("SUPABASE_DB_URL", "DIRECT_URL", "POSTGRES_URL_NON_POOLING", "DATABASE_URL", "POSTGRES_URL")
SUPABASE_URL_VARIABLES = ("SUPABASE_URL", "NEXT_PUBLIC_SUPABASE_URL")
_REF = re.compile(r"^https?://([a-z]{20})\.supabase\.(co|in)/?$")


class EnvFileError(Exception):
    """An --env-file that cannot be read."""


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


def load(cwd: Path | None = None, env_file: Path | None = None, process: dict | None = None) -> Environment:
    cwd = cwd or Path.cwd()
    environment = Environment()
    files = [cwd / ".env", cwd / ".env.local"]
    if env_file is not None:
        if not env_file.is_file():
            raise EnvFileError(f"the env file {env_file} does not exist")
        files.append(env_file)
    for path in files:
        if not path.is_file():
            continue
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


def direct_url(ref: str, password: str) -> str:
    """The direct connection to a Supabase project's database, password percent-encoded."""
    return f"postgresql://postgres:{quote(password, safe='')}@db.{ref}.supabase.co:5432/postgres?sslmode=require"


def mask(secret: str, keep: int = 4) -> str:
    """A secret as it may be shown: its first few characters at most."""
    if not secret:
        return ""
    keep = min(keep, len(secret) // 4)
    return secret[:keep] + "…" + f"({len(secret)} chars)"


_URL = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?:(?P<userinfo>.*)@)?(?P<rest>[^@]*)$", re.DOTALL)


def _split_userinfo(url: str) -> tuple[str, str | None, str | None, str] | None:
    """(scheme, user, password, rest) with the userinfo ending at the last '@': a password with
    an unencoded '@', '#' or '/' still stays inside it."""
    match = _URL.match(url.strip())
    if not match:
        return None
    userinfo = match.group("userinfo")
    if userinfo is None:
        return match.group("scheme"), None, None, match.group("rest")
    user, _, password = userinfo.partition(":")
    return match.group("scheme"), user, (password if ":" in userinfo else None), match.group("rest")


def mask_url(url: str) -> str:
    """A connection URL with its password replaced by ****."""
    parts = _split_userinfo(url)
    if parts is None:
        return re.sub(r"(?i)(password=)[^&\s]*", r"\1****", url)
    scheme, user, password, rest = parts
    rest = re.sub(r"(?i)(password=)[^&]*", r"\1****", rest)
    if user is None:
        return scheme + rest
    return f"{scheme}{user}{':****' if password is not None else ''}@{rest}"


def url_password(url: str) -> str | None:
    parts = _split_userinfo(url)
    return parts[2] if parts else None


def unencoded_password(url: str) -> bool:
    """True when the password holds a character that must be percent-encoded in a URL."""
    password = url_password(url)
    return bool(password) and bool(re.search(r"[@#/?:\[\] ]|%(?![0-9A-Fa-f]{2})", password))


def url_secrets(url: str) -> list[str]:
    """The secret fragments of a URL, to scrub from any message that might echo them."""
    secrets = []
    password = url_password(url)
    if password:
        secrets.append(password)
        secrets += [piece for piece in re.split(r"[@#/?:]", password) if len(piece) >= 3]
    secrets += re.findall(r"(?i)password=([^&\s]+)", url)
    return sorted(set(secrets), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "****")
    return text
