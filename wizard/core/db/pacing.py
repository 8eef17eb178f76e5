"""The Management API's rate limit, kept on this side: 60 requests a minute per user, counted over
all the requests of that user's access tokens; past it, every call is refused (429) for the next
minute. A fleet of projects reached with one token would cross it and then wait a whole minute
for every target at once; one ``Pacer`` per token, shared by every ``ApiDatabase`` of the process
that uses it, keeps the requests of any 60 seconds under the limit instead, and holds all of them
back together after a 429 the service sent anyway (another tool of the same user), for as long as
the service asked."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

LIMIT = 60  # requests
WINDOW = 61.0  # seconds: the service's minute, and a second for the clocks' difference


class Pacer:
    """At most ``limit`` requests in any ``window`` seconds (None: no count kept), across threads."""

    def __init__(self, limit: int | None = LIMIT, window: float = WINDOW):
        self.limit = limit
        self.window = window
        self._sent: deque[float] = deque()  # when each request of the last window went
        self._blocked_until = 0.0  # after a 429: no request before this
        self._lock = threading.Lock()

    def wait_turn(self, on_wait: Callable[[float, bool], None] = lambda seconds, blocked: None,
                  stopping: Callable[[], bool] = lambda: False) -> bool:
        """Wait until a request may go, and count it as sent; ``on_wait`` is told first how long,
        and whether because of a 429 (only when it waits). False, and nothing counted, when
        ``stopping`` says so while it waits."""
        told = False
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                blocked = self._blocked_until - now
                full = 0.0
                if self.limit is not None and len(self._sent) >= self.limit:
                    full = self._sent[0] + self.window - now
                wait = max(blocked, full)
                if wait <= 0:
                    if self.limit is not None:
                        self._sent.append(now)
                    return True
            if stopping():
                return False
            if not told:
                on_wait(wait, blocked >= full)
                told = True
            time.sleep(min(wait, 0.2))

    def blocked_for(self, seconds: float) -> None:
        """The service refused a request (429): nothing goes for this long, from any thread."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)


_PACERS: dict[str, Pacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(api_url: str, token: str) -> Pacer:
    """The one pacer of this process for a token at an API address (kept under a digest: the
    token itself is never a key). Supabase's service is held to its limit; another address (a
    stand-in, a proxy of one's own) only to the waits its 429s ask for."""
    key = hashlib.sha256(f"{api_url}\0{token}".encode()).hexdigest()
    host = urlsplit(api_url).hostname or ""
    limit = LIMIT if host == "supabase.com" or host.endswith(".supabase.com") else None
    with _PACERS_LOCK:
        return _PACERS.setdefault(key, Pacer(limit))
