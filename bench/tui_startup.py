"""Time from launching the terminal wizard to its first screen on the terminal.

Runs `python -m wizard` in a pseudo-terminal (80x24) as a user would, and measures how long until
the Welcome screen's footer ("Start") has been written: the first full paint. The wizard connects to
nothing before its second step, so no database is needed. Prints each run and the median; the
target is under half a second.

    .venv/bin/python bench/tui_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAINTED = b"Start"  # the footer's first key label, written with the first full frame
TARGET = 0.5


def first_paint(timeout: float = 10.0) -> float:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE", "DATABASE_URL", "POSTGRES_URL"))}
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "wizard", "--migrations", str(ROOT / "migrations"),
         "--database-url", "postgresql://postgres@127.0.0.1:1/postgres"],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        while PAINTED not in seen:
            left = timeout - (time.perf_counter() - started)
            if left <= 0:
                raise TimeoutError(f"no first paint within {timeout} s; the terminal got: {seen[-400:]!r}")
            readable, _, _ = select.select([master], [], [], left)
            if readable:
                seen += os.read(master, 65536)
        return time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        os.close(master)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    first_paint()  # warm the file system cache and the bytecode
    times = []
    for run in range(1, args.runs + 1):
        times.append(first_paint())
        print(f"run {run}: first paint after {times[-1] * 1000:.0f} ms")
    median = statistics.median(times)
    verdict = "within" if median < TARGET else "OVER"
    print(f"median: {median * 1000:.0f} ms ({verdict} the {TARGET * 1000:.0f} ms target)")


if __name__ == "__main__":
    main()
