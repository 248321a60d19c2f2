"""appliance-console in a real terminal for scenarios: tmux at 80x24, TERM=vt100, C locale.

The one tmux harness of the console scenarios (tests/integration/console) and the
operations scenarios (tests/integration/operations); it lives next to conftest.py so
both import it.

Each :class:`Terminal` runs its own tmux server (own socket), pipes every byte
the console writes to ``pane.bytes`` (so a test can measure bytes per second)
and reads the screen back as the field engineer sees it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


class Terminal:
    """A tmux session of its own (own server socket) running the console."""

    def __init__(self, root: Path, command: str, env: dict[str, str]) -> None:
        self.server = f"console-test-{os.getpid()}-{id(self)}"
        self.root = root
        self.output = root / "pane.bytes"
        environment = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self._tmux("new-session", "-d", "-s", "c", "-x", "80", "-y", "24",
                   f"env -i {environment} {command} 2> {root}/console.err; sleep 60")
        self._tmux("pipe-pane", "-t", "c", "-o", f"cat >> {self.output}")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True,
                              check=True, timeout=10)
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "c")

    def keys(self, *keys: str, literal: bool = False) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", "c", *(["-l"] if literal else []), key)
            time.sleep(0.05)

    def wait_for(self, text: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{screen}\n"
                             f"console stderr:\n{self.errors()[-2000:]}")

    def errors(self) -> str:
        """What the console wrote to stderr (a traceback when it crashed)."""
        path = self.root / "console.err"
        return path.read_text() if path.exists() else ""

    def bytes_written(self) -> int:
        return self.output.stat().st_size if self.output.exists() else 0

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True, check=False)


def console_on(root: Path, config: Path, interval: float = 0.5) -> Terminal:
    """The installed ``appliance-console`` on the appliance configured by ``config``."""
    return Terminal(root, f"{BIN}/appliance-console --config {config} "
                    f"--network-dir {root}/net --network-apply '' "
                    f"--interval {interval} --timeout 2 --restart-command true",
                    {"TERM": "vt100", "LC_ALL": "C", "PATH": os.environ.get("PATH", ""),
                     "HOME": str(root)})
