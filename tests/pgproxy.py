"""A TCP proxy between the wizard and a real PostgreSQL, that can lose a connection at the worst
moment: around the COMMIT of the Nth migration.

It reads the protocol's messages as they pass (no TLS: its URLs say ``sslmode=disable``) to find
that moment. A migration's history row is recorded by the one query that ends in ``RETURNING
duration_ms``; the COMMIT after the Nth such query is migration N's.

- ``cut_after_commit = N``: the server commits migration N; the proxy drops the server's answer to
  that COMMIT (and all after it) and closes both sides: the commit happened, its reply was lost.
- ``cut_before_commit = N``: the proxy forwards migration N's statements and history row, not its
  COMMIT, and closes both sides: the server rolls migration N back, and the client cannot know.
- ``down``: refuse every new connection (accept it, close it at once): the database is unreachable.
  ``down_after_cut`` sets it at the moment of the cut.
"""

from __future__ import annotations

import socket
import struct
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

RECORD = b"RETURNING duration_ms"


class Proxy:
    def __init__(self, database_url: str):
        parts = urlsplit(database_url)
        self.database_url = database_url
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_after_commit: int | None = None
        self.cut_before_commit: int | None = None
        self.down = False
        self.down_after_cut = False
        self.cuts = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._records_sent = 0  # history rows the clients asked for (all connections)
        self._records_done = 0  # history rows the server recorded
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        parts = urlsplit(self.database_url)
        netloc = parts.netloc.rsplit("@", 1)
        auth = netloc[0] + "@" if len(netloc) == 2 else ""
        query = dict(parse_qsl(parts.query))
        query.update(sslmode="disable", gssencmode="disable")
        return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{self.port}", parts.path, urlencode(query), ""))

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for sock in list(self._open):
            _close(sock)

    # -- connections -------------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            self.connections += 1
            self._open += [client, server]
            pair = _Pair(self, client, server)
            threading.Thread(target=pair.client_to_server, daemon=True).start()
            threading.Thread(target=pair.server_to_client, daemon=True).start()

    def _cut(self) -> None:
        self.cuts += 1
        self.cut_after_commit = self.cut_before_commit = None
        if self.down_after_cut:
            self.down = True


class _Pair:
    """One client connection and its server connection."""

    def __init__(self, proxy: Proxy, client: socket.socket, server: socket.socket):
        self.proxy = proxy
        self.client = client
        self.server = server
        self.record_pending = False  # the server recorded a history row; its COMMIT not seen yet
        self.commit_is_doomed = False  # the client's next COMMIT is migration N's: cut before it
        self.closed = False

    def close(self) -> None:
        self.closed = True
        _close(self.client)
        _close(self.server)

    def client_to_server(self) -> None:
        buffer = b""
        started = False
        try:
            while not self.closed:
                data = self.client.recv(65536)
                if not data:
                    break
                buffer += data
                out = b""
                while True:
                    if not started:  # the startup packet: no type byte
                        if len(buffer) < 4:
                            break
                        length = struct.unpack("!I", buffer[:4])[0]
                        if len(buffer) < length:
                            break
                        out += buffer[:length]
                        buffer = buffer[length:]
                        started = True
                        continue
                    if len(buffer) < 5:
                        break
                    length = struct.unpack("!I", buffer[1:5])[0]
                    if len(buffer) < 1 + length:
                        break
                    message, buffer = buffer[: 1 + length], buffer[1 + length:]
                    if message[:1] == b"P" and self._doomed(message):
                        self.server.sendall(out)
                        self.proxy._cut()
                        self.close()
                        return
                    out += message
                if out:
                    self.server.sendall(out)
        except OSError:
            pass
        self.close()

    def _doomed(self, parse: bytes) -> bool:
        """Whether this Parse message is the COMMIT to cut before."""
        proxy = self.proxy
        with proxy._lock:
            if RECORD in parse:
                proxy._records_sent += 1
                if proxy.cut_before_commit is not None and proxy._records_sent == proxy.cut_before_commit:
                    self.commit_is_doomed = True
                return False
            query = parse[5:].split(b"\x00", 2)[1] if b"\x00" in parse[5:] else b""
            return self.commit_is_doomed and query.strip().upper() == b"COMMIT"

    def server_to_client(self) -> None:
        buffer = b""
        try:
            while not self.closed:
                data = self.server.recv(65536)
                if not data:
                    break
                buffer += data
                out = b""
                while len(buffer) >= 5:
                    length = struct.unpack("!I", buffer[1:5])[0]
                    if len(buffer) < 1 + length:
                        break
                    message, buffer = buffer[: 1 + length], buffer[1 + length:]
                    if self._lost_reply(message):
                        if out:
                            self.client.sendall(out)
                        self.proxy._cut()
                        self.close()
                        return
                    out += message
                if out:
                    self.client.sendall(out)
        except OSError:
            pass
        self.close()

    def _lost_reply(self, message: bytes) -> bool:
        """Whether this is the answer to migration N's COMMIT, to drop."""
        proxy = self.proxy
        kind = message[:1]
        with proxy._lock:
            if kind == b"T" and message[5:7] == b"\x00\x01" and message[7:].startswith(b"duration_ms\x00"):
                proxy._records_done += 1
                self.record_pending = proxy.cut_after_commit is not None and proxy._records_done == proxy.cut_after_commit
                return False
            return self.record_pending and kind == b"C" and message[5:] == b"COMMIT\x00"


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
