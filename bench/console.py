"""Bytes per second appliance-console writes at 80x24 in a busy state, against 115200 baud.

Runs the fixture daemons in busy mode (tests/console_fixtures.py: counters,
channels, waits and agent states change on every poll) and the real console
in a pseudo-terminal of 80x24 with TERM=vt100 and a C locale, then counts the
bytes it writes on each screen after the first paint. 115200 baud 8N1 carries
11520 bytes per second.

    .venv/bin/python bench/console.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAUD_115200 = 11520
SCREENS = (
    ("o", "overview"),
    ("s", "span detail"),
    ("p", "port detail"),
    ("c", "calls"),
    ("q", "queues and agents"),
    ("w", "power"),
    ("m", "maintenance"),
)


def drain(fd: int, seconds: float) -> int:
    """Read everything the console writes for ``seconds``; returns the byte count."""
    total = 0
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                total += len(os.read(fd, 65536))
            except OSError:
                break
    return total


def run(seconds: float, interval: float, env_extra: dict[str, str]) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "run").mkdir()
        config = root / "appliance.toml"
        config.write_text(f'[paths]\nstate_dir = "{root}/state"\nrun_dir = "{root}/run"\n')
        fixtures = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "console_fixtures.py"),
                "--run-dir",
                str(root / "run"),
                "--busy",
            ]
        )
        try:
            while not (root / "run" / "fixtures.ready").exists():
                time.sleep(0.05)
            pid, fd = pty.fork()
            if pid == 0:
                os.execve(
                    str(Path(sys.executable).parent / "appliance-console"),
                    [
                        "appliance-console",
                        "--config",
                        str(config),
                        "--interval",
                        str(interval),
                        "--network-dir",
                        str(root / "net"),
                    ],
                    {"PATH": os.environ.get("PATH", ""), "HOME": tmp, **env_extra},
                )
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            os.kill(pid, signal.SIGWINCH)
            drain(fd, 1.5)  # first paint
            results = []
            for key, name in SCREENS:
                os.write(fd, key.encode())
                drain(fd, 1.0)  # the screen change itself is not an update
                results.append((name, drain(fd, seconds) / seconds))
            os.write(fd, b"x")
            os.waitpid(pid, 0)
            return results
        finally:
            fixtures.terminate()
            fixtures.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    for label, env in (
        ("TERM=vt100 LC_ALL=C", {"TERM": "vt100", "LC_ALL": "C"}),
        ("TERM=xterm LANG=C.UTF-8", {"TERM": "xterm", "LANG": "C.UTF-8"}),
    ):
        print(f"appliance-console 80x24 {label}, busy fixtures, poll every {args.interval:g} s")
        worst = 0.0
        for name, rate in run(args.seconds, args.interval, env):
            worst = max(worst, rate)
            print(
                f"  {name:<18} {rate:7.0f} B/s  {rate * args.interval:7.0f} B/update  "
                f"{rate / BAUD_115200:6.1%} of 115200 baud"
            )
        print(
            f"  worst screen: {worst:.0f} B/s = {worst / BAUD_115200:.1%} of 11520 B/s "
            f"(headroom x{BAUD_115200 / max(worst, 1):.1f})"
        )


if __name__ == "__main__":
    main()
