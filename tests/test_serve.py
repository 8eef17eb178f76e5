"""The wizard in a real browser: `serve` starts textual-serve, Chromium (the system's package, driven
by Playwright) opens the printed address and walks the wizard. The page draws into a canvas: the
tests read what it shows from xterm.js's buffer, and keep a screenshot of each step."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import MIGRATIONS, cli_env, run_cli

from wizard.tui.screens.manual import PASTE_DIRECTORY

CHROMIUM = next((found for found in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
                 if found and os.access(found, os.X_OK)), None)
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: install the system's package (apt-get install chromium); .ci/run does")

# Keeps xterm.js's terminal where the test can read it: textual.js stores it as `this.terminal`.
CAPTURE = """
window.__terminals = [];
Object.defineProperty(Object.prototype, "terminal", {configurable: true, set(value) {
  Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  if (value && value.buffer) window.__terminals.push(value);
}});
"""
SCREEN = """() => {
  const terminal = window.__terminals[0];
  if (!terminal) return "";
  const buffer = terminal.buffer.active, lines = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
  return lines.join("\\n");
}"""


class Served:
    """`migration-wizard serve ...` in a process of its own; its output kept, whole."""

    def __init__(self, *args, cwd: Path, env: dict | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wizard", "serve", "--port", "0", *map(str, args)], cwd=cwd,
            env=cli_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        readers = [threading.Thread(target=self._read, args=(stream, kept), daemon=True)
                   for stream, kept in ((self.process.stdout, self.out), (self.process.stderr, self.err))]
        for reader in readers:
            reader.start()
        self.readers = readers
        deadline = time.monotonic() + 30
        while not self.out and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.05)
        assert self.out, f"serve printed no address: {''.join(self.err)}"
        self.url = self.out[0].strip()

    @staticmethod
    def _read(stream, kept: list[str]) -> None:
        for line in stream:
            kept.append(line)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for reader in self.readers:
            reader.join(timeout=5)
        return code

    @property
    def output(self) -> str:
        return "".join(self.out) + "".join(self.err)


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(*args, cwd: Path | None = None, env: dict | None = None) -> Served:
        started.append(Served(*args, cwd=cwd or tmp_path, env=env))
        return started[-1]

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser):
    opened = browser.new_context(viewport={"width": 1280, "height": 800},
                                 permissions=["clipboard-read", "clipboard-write"])
    opened.add_init_script(CAPTURE)
    yield opened
    opened.close()


def screen(page) -> str:
    return page.evaluate(SCREEN)


def wait_for(page, text: str, timeout: float = 60) -> str:
    try:
        page.wait_for_function(f"text => ({SCREEN})().includes(text)", arg=text, timeout=timeout * 1000)
    except Exception:
        raise AssertionError(f"{text!r} never appeared; the page shows:\n{screen(page)}") from None
    return screen(page)


def press(page, key: str) -> None:
    page.focus(".xterm-helper-textarea")
    page.keyboard.press(key)


def shot(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"))


def ended(page, timeout: float = 30) -> None:
    """The wizard's process ended: the page shows that it has."""
    page.wait_for_selector("body.-closed", timeout=timeout * 1000)


@needs_browser
def test_the_wizard_in_a_browser_applies_every_migration_to_the_local_database(serve, context, tmp_path):
    local_dir = tmp_path / "local-postgres"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        served = serve("--local", "--local-dir", local_dir, "--migrations", MIGRATIONS)
        assert served.url.startswith("http://127.0.0.1:")
        page = context.new_page()
        page.goto(served.url)
        assert page.title() == "migration-wizard"
        screen_ = wait_for(page, "18 migrations (001 to 018)")
        assert "the local database (embedded PostgreSQL)" in screen_
        shot(page, shots, "1-welcome")
        press(page, "Enter")
        wait_for(page, "✓ ok", timeout=120)
        shot(page, shots, "2-environment")
        press(page, "Enter")
        wait_for(page, "18 pending")
        shot(page, shots, "3-path")
        press(page, "Enter")
        screen_ = wait_for(page, "All 18 migrations are applied", timeout=240)
        assert "018_fix_database_advisor_findings" in screen_ and "100%" in screen_
        shot(page, shots, "4-apply")
        press(page, "Enter")
        wait_for(page, "checks pass", timeout=120)
        shot(page, shots, "5-verify")
        press(page, "Enter")
        wait_for(page, "The database is ready")
        shot(page, shots, "6-done")
        press(page, "c")  # the URL for the backend, on the browser's clipboard
        page.wait_for_function("async () => (await navigator.clipboard.readText()).startsWith('postgresql://')",
                               timeout=10_000)
        assert page.evaluate("navigator.clipboard.readText()").startswith("postgresql://postgres@127.0.0.1:")
        press(page, "Enter")
        ended(page)
        assert sorted(p.name for p in shots.iterdir()) == [
            "1-welcome.png", "2-environment.png", "3-path.png", "4-apply.png", "5-verify.png", "6-done.png"]
        assert served.stop() == 0
        assert "Traceback" not in served.output
        status = run_cli("status", "--local", "--local-dir", local_dir, "--migrations", MIGRATIONS, "--json")
        assert status.code == 0, status.output
        states = [m["state"] for m in status.json()["migrations"]]
        assert states == ["applied"] * 18
    finally:
        if local_dir.exists():
            run_cli("local", "stop", "--local-dir", local_dir)


def fetch(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_every_request_without_the_token_is_refused(serve, tmp_path):
    served = serve("--migrations", MIGRATIONS)
    token = urlsplit(served.url).path.strip("/")
    assert len(token) >= 32
    assert fetch(served.url)[0] == 200
    assert fetch(served.url + "static/js/textual.js")[0] == 200
    for path in ("/", "/static/js/textual.js", "/ws", "/download/x", f"/{token[:-1]}/", f"/{token}x/",
                 f"/{token.upper()}/", f"/x/{token}/", f"/{token}"):
        code, text = fetch(served.origin + path)
        assert code == 403, path
    assert "printed, with its token" in fetch(served.origin + "/")[1]
    assert fetch(served.url + "?token=" + token)[0] == 200  # the token is the path, whatever the query says
    assert fetch(served.origin + "/?token=" + token)[0] == 403

    # the websocket: with the token, but opened by a page of another site
    parts = urlsplit(served.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", parts.path + "ws", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"})
    assert connection.getresponse().status == 403
    connection.close()
    assert served.stop() == 0
    assert "Traceback" not in served.output


def test_each_start_makes_a_new_token(serve):
    first, second = serve("--migrations", MIGRATIONS), serve("--migrations", MIGRATIONS)
    assert urlsplit(first.url).path != urlsplit(second.url).path
    assert fetch(first.origin + urlsplit(second.url).path)[0] == 403


def test_another_host_than_this_machine_is_said_with_a_warning(serve):
    served = serve("--host", "0.0.0.0", "--migrations", MIGRATIONS)
    assert served.url.startswith("http://127.0.0.1:")
    deadline = time.monotonic() + 10
    while "warning" not in "".join(served.err) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "warning: serving on 0.0.0.0" in "".join(served.err)
    assert "SSH port forwarding" in "".join(served.err)
    assert fetch(served.url)[0] == 200 and fetch(served.origin + "/")[0] == 403
    assert served.stop() == 0

    local = serve("--migrations", MIGRATIONS)
    assert fetch(local.url)[0] == 200
    assert local.stop() == 0
    assert "warning" not in local.output


def test_bad_ports_and_hosts_are_usage_errors(tmp_path):
    for args, said in ((["--port", "70000"], "is not a port"), (["--port", "http"], "is not a port"),
                       (["--sessions", "0"], "a whole number of at least 1"), (["--host", ""], "names no address")):
        done = run_cli("serve", *args, cwd=tmp_path)
        assert done.code == 2, done.output
        assert said in done.err and "Traceback" not in done.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), cwd=tmp_path, timeout=30)
    assert done.code == 2, done.output
    assert f"port {port} on 127.0.0.1 is in use" in done.err and "Traceback" not in done.output
    assert done.out == ""
    done = run_cli("serve", "--host", "192.0.2.1", "--port", "0", cwd=tmp_path, timeout=30)
    assert done.code == 2, done.output
    assert "not an address of this machine" in done.err and "Traceback" not in done.output


@needs_browser
def test_one_wizard_at_a_time_unless_sessions_says_more(serve, browser, tmp_path):
    served = serve("--migrations", MIGRATIONS)
    first, second = browser.new_context(), browser.new_context()
    try:
        for opened in (first, second):
            opened.add_init_script(CAPTURE)
        page = first.new_page()
        page.goto(served.url)
        wait_for(page, "18 migrations (001 to 018)")
        other = second.new_page()
        refused = other.goto(served.url)
        assert refused is not None and refused.status == 409
        assert "already open in another browser" in other.inner_text("#refused")
        shot(other, tmp_path, "refused")
        page.close()  # the first wizard ends; the refused page tries again by itself
        wait_for(other, "18 migrations (001 to 018)", timeout=30)
    finally:
        first.close()
        second.close()

    two = serve("--migrations", MIGRATIONS, "--sessions", "2")
    contexts = [browser.new_context(), browser.new_context()]
    try:
        pages = []
        for opened in contexts:
            opened.add_init_script(CAPTURE)
            pages.append(opened.new_page())
            pages[-1].goto(two.url)
        for page in pages:
            wait_for(page, "18 migrations (001 to 018)")
    finally:
        for opened in contexts:
            opened.close()
    assert served.stop() == 0 and two.stop() == 0


@needs_browser
def test_secrets_typed_in_the_browser_reach_only_the_wizard(serve, context, tmp_path, database, secret_watch):
    password = secret_watch.secret("typed password", "Br0wser-Typed-Pa55word")
    token = secret_watch.secret("typed access token", "sbp_" + "b1e5" * 10)
    project = tmp_path / "project"
    project.mkdir()
    secret_watch.folder(project)
    (project / ".env").write_text("SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\n")
    with socket.socket() as closed:  # a port nothing listens on: the pasted ways fail at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    served = serve("--database-url", database, "--migrations", MIGRATIONS, "--api-url", f"http://127.0.0.1:{port}",
                   cwd=project)
    page = context.new_page()
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    page.on("websocket", lambda websocket: addresses.append(websocket.url))
    page.on("framenavigated", lambda frame: addresses.append(frame.url))
    page.goto(served.url)
    wait_for(page, "18 migrations (001 to 018)")
    press(page, "Enter")
    wait_for(page, "✓ ok")
    for secret, shown in ((f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", f"****@127.0.0.1:{port}"),
                          (token, "Management API")):
        press(page, "p")  # the box takes the focus: its key leaves the footer
        page.wait_for_function(f"() => !({SCREEN})().includes('p Paste a secret')", timeout=10_000)
        page.keyboard.insert_text(secret)  # in one piece, as a paste arrives
        assert secret not in screen(page)
        press(page, "Enter")
        wait_for(page, shown)
        wait_for(page, "Fix.")  # the failure explained, over the step: back to it
        press(page, "Escape")
        page.wait_for_function(f"() => !({SCREEN})().includes('Fix.')", timeout=10_000)
    assert "pasted" in screen(page)
    time.sleep(1)  # what the attempts say, said
    shot(page, tmp_path, "pasted")
    title = page.title()
    storage = page.evaluate("JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}, location.href])")
    page_screen = screen(page)
    press(page, "Control+q")
    ended(page)
    assert served.stop() == 0
    secret_watch.text("the server's stdout", "".join(served.out))
    secret_watch.text("the server's stderr", "".join(served.err))
    secret_watch.text("the page's title", title)
    secret_watch.text("the page's storage and address", storage)
    secret_watch.text("the addresses the page asked for", "\n".join(addresses))
    secret_watch.text("the page", page_screen)
    secret_watch.check()
    assert len(addresses) >= 3


@needs_browser
def test_by_hand_in_a_browser_the_copy_and_the_sql_editor_go_to_the_browser(serve, context, tmp_path):
    """The manual path: c puts the migration on the browser's clipboard, o opens the dashboard's SQL
    editor in a new tab of the browser (a stand-in page answers for the dashboard)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env.local").write_text("SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\n"
                                        "SUPABASE_ANON_KEY=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl\n")
    context.route("https://supabase.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>SQL editor (stand-in)</title>"))
    served = serve("--migrations", MIGRATIONS, cwd=project)
    page = context.new_page()
    page.goto(served.url)
    wait_for(page, "18 migrations (001 to 018)")
    press(page, "Enter")
    wait_for(page, "m runs the migrations by hand")
    press(page, "m")
    wait_for(page, "Start by hand")
    press(page, "Enter")
    wait_for(page, "001_create_schema.sql")
    press(page, "c")
    wait_for(page, "sent to the browser's clipboard")
    pasted = page.evaluate("navigator.clipboard.readText()")
    assert "CREATE" in pasted and "supabase_migrations.schema_migrations" in pasted
    [saved] = (project / PASTE_DIRECTORY).glob("001_*")
    assert saved.read_text() == pasted  # the copy the wizard saved beside it: the same text
    with context.expect_page(timeout=20_000) as opened:
        press(page, "o")
    editor = opened.value
    editor.wait_for_load_state()
    assert editor.url == "https://supabase.com/dashboard/project/abcdefghijklmnopqrst/sql/new"
    assert editor.title() == "SQL editor (stand-in)"
    assert editor.evaluate("[document.referrer, window.opener === null]") == ["", True]  # the token stays home
    wait_for(page, "Opened the SQL editor in the browser")
    shot(page, tmp_path, "by-hand")
    assert served.stop() == 0
    assert "Traceback" not in served.output


def test_the_other_commands_never_load_the_server():
    code = ("import sys, wizard.cli\n"
            "wizard.cli.build_parser()\n"
            "for name in ('plan', 'apply', 'status', 'verify', 'doctor', 'local'):\n"
            "    wizard.cli._command(name)\n"
            "print(sorted(m for m in ('textual_serve', 'aiohttp', 'wizard.web', 'textual') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_json_says_where_it_serves(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "wizard", "serve", "--port", "0", "--json", "--sessions", "3"],
                               cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        text = ""
        while not text.endswith("}\n"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            text += line
        served = json.loads(text)
        assert served["url"].startswith("http://127.0.0.1:") and served["host"] == "127.0.0.1"
        assert urlsplit(served["url"]).port == served["port"] and served["sessions"] == 3
        assert fetch(served["url"])[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()
