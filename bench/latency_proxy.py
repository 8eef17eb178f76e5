"""A TCP proxy that adds a fixed delay in each direction, as a network would: every chunk read from
one side is written to the other ``delay`` seconds after it arrived, in order (a delay, not a
throttle: a chunk read at t goes out at t + delay, whatever else is in flight). One proxy fronts a
whole PostgreSQL server: the database is in each connection's own startup message.

    .venv/bin/python bench/latency_proxy.py --target 127.0.0.1:5432 [--listen 127.0.0.1:0] [--delay-ms 20] [--log FILE]

It prints ``listening on HOST:PORT`` on stdout once it accepts connections, and runs until it is
stopped (SIGTERM, SIGINT). With --log, one JSON line per closed connection: when it opened and
closed (time.time()), the database named in its startup message, the bytes and chunks each way,
and its turns: the times the client sent after the server had answered, which is the number of
round trips the client waited for (each costs twice the delay); with --trace, the start of what
the client sent at each turn (its first query), to see what each round trip is for. Standard
library only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import struct
import sys
import time
from dataclasses import asdict, dataclass

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104


@dataclass
class Connection:
    opened: float
    closed: float = 0.0
    database: str | None = None
    bytes_up: int = 0  # client to server
    bytes_down: int = 0
    chunks_up: int = 0
    chunks_down: int = 0
    turns: int = 0  # client chunks that came after a server chunk (the first one included)
    forced: bool = False  # one side had closed and the other had not two seconds later: closed by the proxy
    trace: list[str] | None = None  # with --trace: the start of what the client sent at each turn
    _last: str = ""
    _startup: bytes = b""

    def heard(self, direction: str, data: bytes) -> None:
        if direction == "up":
            self.bytes_up += len(data)
            self.chunks_up += 1
            if self._last != "up":
                self.turns += 1
                if self.trace is not None:
                    self.trace.append(f"{time.time() - self.opened:7.3f} {_preview(data)}")
            if self.database is None and len(self._startup) < 4096:
                self._startup += data
                self.database = _database(self._startup)
        else:
            self.bytes_down += len(data)
            self.chunks_down += 1
        self._last = direction

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def _database(data: bytes) -> str | None:
    """The database of a startup message, after any SSL or GSS request; None until it is all there."""
    while len(data) >= 8:
        length, code = struct.unpack("!ii", data[:8])
        if code in (SSL_REQUEST, GSS_REQUEST) and length == 8:
            data = data[8:]
            continue
        if len(data) < length:
            return None
        fields = data[8:length].split(b"\0")
        pairs = dict(zip(fields[0::2], fields[1::2]))
        name = pairs.get(b"database") or pairs.get(b"user") or b""
        return name.decode("utf-8", "replace")
    return None


def _preview(data: bytes) -> str:
    """The first query text of a chunk (a simple or an extended-protocol query), else its message types."""
    position, kinds = 0, []
    while position + 5 <= len(data):
        kind = data[position:position + 1]
        length = struct.unpack("!i", data[position + 1:position + 5])[0]
        body = data[position + 5:position + 1 + length]
        if kind == b"Q":
            return " ".join(body.rstrip(b"\0").decode("utf-8", "replace").split())[:160]
        if kind == b"P":
            query = body.split(b"\0")[1] if body.count(b"\0") >= 2 else b""
            return "(extended) " + " ".join(query.decode("utf-8", "replace").split())[:160]
        if not kind.isalpha() or length < 4:
            return f"{len(data)} bytes"
        kinds.append(kind.decode())
        position += 1 + length
    return "messages " + "".join(kinds) if kinds else f"{len(data)} bytes"


class LatencyProxy:
    def __init__(self, target: tuple[str, int], delay: float, listen: tuple[str, int] = ("127.0.0.1", 0),
                 log=None, trace: bool = False) -> None:
        self.target, self.delay, self.listen, self.log, self.trace = target, delay, listen, log, trace
        self.server: asyncio.base_events.Server | None = None
        self.running: set[asyncio.Task] = set()

    async def start(self) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._handle, *self.listen)
        host, port = self.server.sockets[0].getsockname()[:2]
        return host, port

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        record = Connection(time.time(), trace=[] if self.trace else None)
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        for writer in (client_writer, server_writer):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pumps = [asyncio.create_task(self._pump(client_reader, server_writer, record, "up")),
                 asyncio.create_task(self._pump(server_reader, client_writer, record, "down"))]
        handler = asyncio.current_task()
        if handler is not None:
            self.running.add(handler)  # a task nothing else holds could be collected while it waits
        try:
            _, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            if pending:  # one side is done: the other has its delayed chunks to deliver, then closes too
                _, pending = await asyncio.wait(pending, timeout=2 * self.delay + 2)
            record.forced = bool(pending)
            for task in pending:
                task.cancel()
        finally:
            self.running.discard(handler)
            for writer in (client_writer, server_writer):
                writer.close()
            record.closed = time.time()
            if self.log is not None:
                self.log.write(json.dumps(record.to_json()) + "\n")
                self.log.flush()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Connection,
                    direction: str) -> None:
        """Read as it comes; write each chunk ``delay`` after it was read, in order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            while True:
                try:
                    data = await reader.read(65536)
                except OSError:
                    data = b""
                queue.put_nowait((loop.time() + self.delay, data))
                if not data:
                    return
                record.heard(direction, data)

        reading = asyncio.create_task(read())
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, RuntimeError):  # the other side went away
            return
        finally:
            reading.cancel()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _serve(args: argparse.Namespace) -> None:
    log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115 - open while serving
    proxy = LatencyProxy(_address(args.target), args.delay_ms / 1000, _address(args.listen), log, args.trace)
    host, port = await proxy.start()
    print(f"listening on {host}:{port}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()
    if log is not None:
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A TCP proxy adding a fixed delay each way.")
    parser.add_argument("--target", required=True, metavar="HOST:PORT", help="where to forward connections")
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                        help="where to accept them (default 127.0.0.1, a free port)")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="delay added in each direction (default 20)")
    parser.add_argument("--log", metavar="FILE", help="append one JSON line per closed connection")
    parser.add_argument("--trace", action="store_true",
                        help="log also the start of what the client sent at each turn (what each round trip is for)")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
