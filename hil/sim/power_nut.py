"""NUT's own upsd and dummy-ups, run in a temporary folder for tests and benchmarks.

Both binaries come from Debian's nut-server (``/lib/nut/upsd``,
``/lib/nut/dummy-ups``) and run as ordinary foreground processes with their
configuration in a private folder (NUT_CONFPATH, NUT_STATEPATH,
NUT_ALTPIDPATH), listening on a loopback port. The UPS is driven through a
dummy-ups ``.dev`` file (:class:`hil.sim.mains.NutDevFile`). Users:
``monuser``/``monpass`` (upsmon secondary) and ``admin``/``adminpass``
(upsmon primary, may set FSD).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

from hil.sim.mains import NutDevFile

NUT_BIN = os.environ.get("NUT_BIN", "/lib/nut")


def nut_available() -> bool:
    return all(os.access(os.path.join(NUT_BIN, b), os.X_OK) for b in ("upsd", "dummy-ups"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NutServer:
    """upsd + dummy-ups serving UPS ``name`` from a .dev file; a context manager."""

    def __init__(
        self, name: str = "hilups", values: dict[str, str] | None = None, seq: str | None = None
    ) -> None:
        """``values`` start the .dev file; ``seq`` (a dummy-ups sequence with TIMER lines,
        dummy-loop mode) replaces it as the driver's input when given."""
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="hil-nut-")
        self.port = free_port()
        self.dev = NutDevFile(os.path.join(self.dir, f"{name}.dev"), values)
        self.data_file = self.dev.path
        if seq is not None:
            self.data_file = os.path.join(self.dir, f"{name}.seq")
            with open(self.data_file, "w", encoding="ascii") as handle:
                handle.write(seq)
        self.upsd: subprocess.Popen[bytes] | None = None
        self.driver: subprocess.Popen[bytes] | None = None
        self._write_config()

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "NUT_CONFPATH": self.dir, "NUT_STATEPATH": self.dir,
                "NUT_ALTPIDPATH": self.dir}

    @property
    def address(self) -> str:
        return f"nut://{self.name}@127.0.0.1:{self.port}?user=monuser&password=monpass&timeout=1"

    def _write_config(self) -> None:
        files = {
            "ups.conf": f"[{self.name}]\n  driver = dummy-ups\n  port = {self.data_file}\n"
                        "  pollinterval = 1\n  desc = \"hil\"\n",
            "upsd.conf": f"LISTEN 127.0.0.1 {self.port}\nMAXAGE 5\n",
            "upsd.users": "[monuser]\n  password = monpass\n  upsmon secondary\n"
                          "[admin]\n  password = adminpass\n  upsmon primary\n",
            "nut.conf": "MODE=standalone\n",
        }
        for name, text in files.items():
            path = os.path.join(self.dir, name)
            with open(path, "w", encoding="ascii") as handle:
                handle.write(text)
            os.chmod(path, 0o600)

    def _user(self) -> list[str]:
        return ["-u", "root"] if os.geteuid() == 0 else []

    def start_driver(self) -> None:
        self.driver = subprocess.Popen(
            [os.path.join(NUT_BIN, "dummy-ups"), "-a", self.name, "-F", *self._user()],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        sock = os.path.join(self.dir, f"dummy-ups-{self.name}")
        self._wait(lambda: os.path.exists(sock), "dummy-ups socket")

    def start_upsd(self) -> None:
        self.upsd = subprocess.Popen(
            [os.path.join(NUT_BIN, "upsd"), "-F", *self._user()],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._wait(self._listening, "upsd port")

    def start(self) -> NutServer:
        self.start_driver()
        self.start_upsd()
        self._wait(lambda: bool(self.status() & {"OL", "OB"}), "upsd data from dummy-ups")
        return self

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _wait(self, predicate: object, what: str, limit: float = 10.0) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            with contextlib.suppress(OSError):
                if predicate():  # type: ignore[operator]
                    return
            time.sleep(0.05)
        raise RuntimeError(f"NUT test server: no {what} after {limit} s (see {self.dir})")

    def query(self, *lines: str, user: str | None = None, password: str | None = None) -> str:
        """Send protocol lines on a fresh connection; the reply to the last one."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as s:
            stream = s.makefile("rwb")
            prelude = [f"USERNAME {user}", f"PASSWORD {password}"] if user else []
            reply = ""
            for line in [*prelude, *lines]:
                stream.write(line.encode() + b"\n")
                stream.flush()
                reply = stream.readline().decode().strip()
            return reply

    def status(self) -> set[str]:
        """ups.status flags as upsd has them now."""
        reply = self.query(f"GET VAR {self.name} ups.status")
        words = shlex.split(reply) if reply.startswith("VAR") else []
        return set(words[3].split()) if len(words) == 4 else set()

    def set_fsd(self) -> str:
        """What upsmon primary does on a critical UPS: FSD, latched by upsd until it restarts."""
        return self.query(f"LOGIN {self.name}", f"MASTER {self.name}", f"FSD {self.name}",
                          user="admin", password="adminpass")

    def stop_process(self, which: str) -> None:
        process = getattr(self, which)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        setattr(self, which, None)

    def stop(self) -> None:
        self.stop_process("upsd")
        self.stop_process("driver")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> NutServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
