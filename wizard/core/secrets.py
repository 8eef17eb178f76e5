"""Secrets as they may be shown: masked values, connection URLs with their password hidden, the
pieces of a URL that are secret (to scrub from any message that might echo them), and whether a
token or key can be sent at all."""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["mask", "mask_url", "scrub", "sendable", "unencoded_password", "url_password", "url_secrets"]


def mask(secret: str, keep: int = 4) -> str:
    """A secret as it may be shown: its first few characters at most (none for a password)."""
    if not secret:
        return ""
    keep = min(keep, len(secret) // 8)
    return (secret[:keep] if keep else "") + "****" + f" ({len(secret)} characters)"


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
    return bool(password and re.search(r"[@#/?:\[\] ]|%(?![0-9A-Fa-f]{2})", password))


def url_secrets(url: str) -> list[str]:
    """The secret fragments of a URL, to scrub from any message that might echo them."""
    secrets = []
    password = url_password(url)
    if password:
        secrets += [password, unquote(password)]
        # a driver that reads the URL otherwise may quote a piece of it, cut at any of a URL's separators
        secrets += [piece for piece in re.split(r"[@#/?:&=;,\s]", password) if len(piece) >= 3]
    secrets += re.findall(r"(?i)password=([^&\s]+)", url)
    return sorted(set(secrets), key=len, reverse=True)


def sendable(secret: str) -> bool:
    """Whether a token or key can go in an HTTP header as it is: printable ASCII, no space. A value
    with a line break, a control or a non-ASCII character was pasted wrong, and sending it would
    fail with an error that quotes it."""
    return secret.isascii() and secret.isprintable() and " " not in secret


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "****")
    return text
