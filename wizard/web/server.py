"""The wizard in a browser, safely: textual-serve runs one wizard process per browser session.

What it guarantees:

- Every address the server answers lies under ``/<token>/``, a random token made at each start:
  the page, its websocket, its static files and downloads. Any other request is refused (403),
  before anything else happens; the token is compared in constant time.
- The websocket also refuses a page of another origin (a site the browser happens to show cannot
  open a wizard, even if it guessed the address).
- At most ``sessions`` wizards run at a time; one more browser gets a page that says so, and tries
  again every few seconds.
- What the person types goes over the websocket to the wizard's process only: never into a URL, a
  log or the page's title. The server keeps no access log, and the wizard's own error output (a
  crash report may show what it held) does not reach the server's output.
- A page the wizard opens (the SQL editor, in a new tab) gets neither the address (no referrer)
  nor a hold on the wizard's page (no opener).
- The wizard's process is started without a shell, with the options it was given on the server's
  command line.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import secrets
import shlex
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from wizard.core.errors import ExitCode, WizardError

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOPBACK_NAMES = ("localhost",)


class ServeError(WizardError):
    """The server cannot start: the address is taken or cannot be used."""

    kind = "serve"
    exit_code = ExitCode.USAGE


def is_loopback(host: str) -> bool:
    """Whether ``host`` only reaches this machine (127.0.0.1, ::1, localhost)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """What binding to ``host`` means, when it is more than this machine; None for a loopback."""
    if is_loopback(host):
        return None
    return (f"warning: serving on {host}: anyone who can reach this machine over the network and has the URL "
            "(its token) can open the wizard, and through it the database. Prefer the default, 127.0.0.1, with "
            "SSH port forwarding (ssh -L) or your editor's port forwarding.")


def address(host: str, port: int) -> str:
    """``host:port`` for a URL: an IPv6 address in brackets, a wildcard as this machine's loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{shown}:{port}"


class WizardProcess(AppService):
    """One wizard for one browser session: the argv run without a shell, its error output dropped
    (a crash report may show what was typed)."""

    def __init__(self, argv: list[str], **kwargs) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = argv

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=environment)
        nothing = asyncio.StreamReader()
        nothing.feed_eof()
        process.stderr = nothing  # textual-serve reads it, and would print it
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def end(self, grace: float = 5.0) -> None:
        """Ask the wizard to quit; end its process if it has not within ``grace`` seconds."""
        try:
            await asyncio.wait_for(self.stop(), grace)
        except (asyncio.TimeoutError, OSError):
            pass
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


@dataclass
class Sessions:
    """The wizards running now, and how many may."""

    limit: int
    open: set[WizardProcess] = field(default_factory=set)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)

    @property
    def full(self) -> bool:
        return len(self.open) >= self.limit


class WizardServer(Server):
    """textual-serve's server, every route under the token, a limit on sessions."""

    def __init__(self, argv: list[str], host: str, port: int, sessions: int = 1) -> None:
        super().__init__(shlex.join(argv), host=host, port=port, title="migration-wizard",
                         templates_path=TEMPLATES)
        self.argv = argv
        self.token = secrets.token_urlsafe(24)
        self.sessions = Sessions(sessions)
        self.bound_port = port

    @property
    def prefix(self) -> str:
        return f"/{self.token}/"

    @property
    def url(self) -> str:
        return f"http://{address(self.host, self.bound_port)}{self.prefix}"

    # -- the gate -----------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        path = request.rel_url.raw_path
        given = path[1:].partition("/")[0] if path.startswith("/") else ""
        return path.startswith(f"/{given}/") and hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def gate(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if not self._authorised(request):
            return web.Response(status=403, text="403 Forbidden: open the address that `migration-wizard serve` "
                                "printed, with its token.\n")
        response = await handler(request)
        if not response.prepared:  # (a websocket's answer went out when it opened)
            # the address holds the token: no page it opens (the SQL editor) learns it, or reaches back
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.gate])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True)
        prefix = self.prefix
        app.add_routes([
            web.get(prefix, self.handle_page, name="index"),
            web.get(prefix + "ws", self.handle_websocket, name="websocket"),
            web.get(prefix + "download/{key}", self.handle_download, name="download"),
            web.static(prefix + "static", self.statics_path, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    # -- the page and its wizard ----------------------------------------------------------------

    async def handle_page(self, request: web.Request) -> web.Response:
        if self.sessions.full:
            return aiohttp_jinja2.render_template("refused.html", request, {
                "sessions": len(self.sessions.open), "limit": self.sessions.limit}, status=409)
        scheme = "wss" if request.secure else "ws"
        return aiohttp_jinja2.render_template("index.html", request, {
            "static_url": f"{self.prefix}static/",
            "websocket_url": f"{scheme}://{request.host}{self.prefix}ws",
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
        })

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser: it holds the token, and no page can make it act
            return True
        return origin.partition("://")[2].rstrip("/") == request.host

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="403 Forbidden: a page of another site cannot open the wizard.\n")
        for _ in range(30):  # a reloaded page: its old session ends as the new one starts
            if not self.sessions.full:
                break
            await asyncio.sleep(0.1)
        else:
            raise web.HTTPConflict(text="409 Conflict: the wizard is already open in another browser.\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        wizard = WizardProcess(self.argv, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                               close=websocket.close, download_manager=self.download_manager)
        self.sessions.open.add(wizard)
        self.sessions.sockets.add(websocket)
        try:
            await websocket.prepare(request)
            await wizard.start(to_int(request.query.get("width", "80"), 80),
                               to_int(request.query.get("height", "24"), 24))
            await self._process_messages(websocket, wizard)
        except Exception:  # a message the page should not have sent, a socket gone: the session ends
            pass
        finally:
            self.sessions.open.discard(wizard)
            self.sessions.sockets.discard(websocket)
            await wizard.end()
            await websocket.close()
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        for websocket in list(self.sessions.sockets):
            await websocket.close()
        await asyncio.gather(*(wizard.end() for wizard in list(self.sessions.open)))

    # -- running ------------------------------------------------------------------------------

    def run(self, started: Callable[[WizardServer], None]) -> None:
        """Serve until SIGINT or SIGTERM; ``started`` is called once the address is bound."""
        asyncio.run(self._serve(started))

    async def _serve(self, started: Callable[[WizardServer], None]) -> None:
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False, shutdown_timeout=10)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                raise ServeError(_bind_failure(self.host, self.port, exc)) from None
            self.bound_port = _port(runner, self.port)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
            started(self)
            await stop.wait()
        finally:
            await runner.cleanup()


def _port(runner: web.AppRunner, asked: int) -> int:
    """The port bound: the one asked for, or the one the system chose for 0."""
    for bound in runner.addresses:
        if isinstance(bound, tuple) and len(bound) >= 2:
            return int(bound[1])
    return asked


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use: choose another with --port (--port 0 takes a free one), "
                "or stop what holds it")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot listen on port {port}: it needs privileges; choose one above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: give --host one of its addresses (default 127.0.0.1)"
    return f"cannot listen on {host} port {port}: {exc.strerror or exc}; check --host and --port"
