"""appliance-console in a real terminal: tmux at 80x24, TERM=vt100, C locale, keyboard only.

The fixture daemons (tests/console_fixtures.py) run as their own process on
real control sockets; the console is the installed ``appliance-console``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import minimal_config
from console_terminal import Terminal

from appliance.auth import UserStore
from appliance.store import open_database

pytestmark = pytest.mark.integration

TESTS = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BAUD_115200 = 11520  # bytes per second at 8N1


class Rig:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.run_dir = root / "run"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.config = minimal_config(root)
        self.fixtures: list[subprocess.Popen[bytes]] = []
        self.terminals: list[Terminal] = []

    def fixture_command(self, *options: str) -> list[str]:
        return [sys.executable, str(TESTS / "console_fixtures.py"), "--run-dir", str(self.run_dir),
                "--database", str(self.root / "state" / "appliance.db"), *options]

    def start_fixtures(self, *options: str) -> None:
        ready = self.run_dir / "fixtures.ready"
        ready.unlink(missing_ok=True)
        self.fixtures.append(subprocess.Popen(self.fixture_command(*options)))
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert time.monotonic() < deadline, "fixture daemons did not start"
            time.sleep(0.05)

    def console(self, restart: str = "true", **env: str) -> Terminal:
        terminal = Terminal(self.root, f"{BIN}/appliance-console --config {self.config} "
                            f"--network-dir {self.root}/net --network-apply '' "
                            "--interval 0.5 --timeout 0.5 "
                            f"--restart-command {shlex.quote(restart)}",
                            {"TERM": "vt100", "LC_ALL": "C", "PATH": os.environ.get("PATH", ""),
                             "HOME": str(self.root), **env})
        self.terminals.append(terminal)
        return terminal

    def requests(self) -> list[dict[str, object]]:
        path = self.run_dir / "requests.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def audit(self) -> list[tuple[str, str, str]]:
        db = open_database(str(self.root / "state" / "appliance.db"))
        return [(r["origin"], r["action"], r["outcome"])
                for r in db.query("SELECT * FROM audit_log ORDER BY id")]

    def close(self) -> None:
        for terminal in self.terminals:
            terminal.close()
        for process in self.fixtures:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(5)
        ready = self.run_dir / "fixtures.ready"  # the fixtures a console restart started
        if ready.exists():
            pid = int(ready.read_text())
            if pid not in [p.pid for p in self.fixtures]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    try:
        yield r
    finally:
        r.close()


def test_every_screen_renders_and_key_actions_take_effect(rig: Rig) -> None:
    rig.start_fixtures()
    term = rig.console()
    screen = term.wait_for("span2  ALARM alarms RED")
    assert "fxo2   fxo no-battery  on-hook NO BATTERY" in screen
    assert "CALLS UP 3" in screen and "mains ON" in screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    for key, title, expected in (
        ("F2", "Span detail", "Counters BPV 0  CRC4 2"),
        ("F3", "Port detail", "Port fxo1"),
        ("F4", "Calls", "c-0003      inb  span1/3"),
        ("F1", "Overview", "QUEUES"),
        ("q", "Queues and agents", "dave        PAUSED"),
        ("w", "Power", "relay pair 2: energised"),
        ("l", "Logs", ""),
        ("n", "Network set-up", "Interface  eth0"),
        ("Escape", "Overview", "SPANS"),
        ("m", "Maintenance", "telephonyd  RUNNING"),
        ("s", "Span detail", "01 BUSY  c-0001"),
    ):
        term.keys(key)
        screen = term.wait_for(f" {title}")
        if expected:
            term.wait_for(expected)
    # span detail follows the selection (Down to span2)
    term.keys("Down")
    term.wait_for("Counters BPV 1204  CRC4 88")
    # hang up a call, with confirmation
    term.keys("c", "Down", "h")
    term.wait_for("Hang up call c-0002?")
    term.keys("y")
    term.wait_for("c-0002 hung up")
    # pause an agent with a reason
    term.keys("q", "Down", "Down", "a")
    term.wait_for("Pause reason:")
    term.keys("BSpace", "BSpace", "BSpace", "BSpace", "BSpace")
    term.keys("training", literal=True)
    term.keys("Enter")
    term.wait_for("carol: paused")
    term.wait_for("training")
    # busy out a B-channel from the maintenance screen
    term.keys("m", "b")
    term.wait_for("Busy out which channel")
    term.keys("BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace")
    term.keys("span1/9", literal=True)
    term.keys("Enter", "y")
    term.wait_for("span1 channel 9: blocked-local")
    term.wait_for("span1 channels out of service: 9 (by us)")
    # lifeline test, with confirmation
    term.keys("w", "t")
    term.wait_for("lifeline phones for 10 s?")
    term.keys("y")
    term.wait_for("ENGAGED")
    methods = [(r["method"], r["params"]) for r in rig.requests()
               if not str(r["method"]).endswith((".list", ".show", ".status", ".history"))]
    assert methods == [
        ("calls.hangup", {"call_id": "c-0002", "cause": 16}),
        ("agents.pause", {"agent": "carol", "reason": "training"}),
        ("spans.busy_out", {"span": "span1", "channel": 9, "on": True}),
        ("power.test_lifeline", {"seconds": 10}),
    ]
    assert rig.audit() == [("console", "call.hangup", "ok"), ("console", "agent.pause", "ok"),
                           ("console", "span.busy_out", "ok"),
                           ("console", "power.test_lifeline", "ok")]
    term.keys("F10")
    deadline = time.monotonic() + 5
    while "sleep" not in term._tmux("display-message", "-p", "-t", "c", "#{pane_current_command}"):
        assert time.monotonic() < deadline, "F10 did not quit"
        time.sleep(0.05)
    assert "Traceback" not in (rig.root / "console.err").read_text()


def test_dec_line_drawing_without_utf8(rig: Rig) -> None:
    rig.start_fixtures()
    term = rig.console()
    term.wait_for("SPANS")
    term.keys("c", "h")
    term.wait_for("Hang up call c-0001?")
    raw = term.output.read_bytes()
    assert b"\x1b(0" in raw or b"\x0e" in raw  # DEC special graphics for the dialog's box
    assert max(raw) < 0x80  # 7-bit clean: nothing a C locale / VT100 cannot show
    term.keys("n")
    term.wait_for("cancelled")


def test_telephonyd_down_is_said_and_a_restart_brings_it_back(rig: Rig) -> None:
    restart = " ".join(shlex.quote(p) for p in rig.fixture_command())
    term = rig.console(restart=f"sh -c {shlex.quote(restart + ' > /dev/null 2>&1 &')}")
    term.wait_for("*** TELEPHONYD NOT RUNNING - press R to restart it ***")
    term.keys("R")
    term.wait_for("telephonyd is not running. Restart telephonyd?")
    term.keys("y")
    term.wait_for("telephonyd restarted")
    term.wait_for("telephonyd ok", timeout=10)
    term.wait_for("span1  UP")
    assert rig.audit() == [("console", "daemon.restart", "ok")]


def test_hung_telephonyd_is_reported_while_power_stays_live(rig: Rig) -> None:
    rig.start_fixtures("--hung", "telephonyd")
    term = rig.console()
    term.wait_for("TELEPHONYD NOT ANSWERING - press R")
    term.keys("w")
    term.wait_for("mains ON")


def test_login_is_asked_once_accounts_exist(rig: Rig) -> None:
    rig.start_fixtures()
    db = open_database(str(rig.root / "state" / "appliance.db"))
    UserStore(db, scrypt_n=1 << 10).add("eve", "engineer", "engineer's password")
    term = rig.console()
    term.wait_for("Appliance console - log in")
    term.keys("eve", literal=True)
    term.keys("Enter")
    term.keys("engineer's password", literal=True)
    term.keys("Enter")
    term.wait_for("powerd ok                   eve ")  # the header names the user
    term.keys("c")
    screen = term.wait_for("(hidden)")
    assert "0612345001" not in screen
    assert rig.audit() == [("console", "console.login", "ok")]


def test_bytes_per_second_in_a_busy_state_fit_115200_baud(rig: Rig) -> None:
    rig.start_fixtures("--busy")
    term = rig.console()
    term.wait_for("SPANS")
    term.keys("s")
    term.wait_for("Counters")
    start_bytes, start = term.bytes_written(), time.monotonic()
    time.sleep(3.0)
    rate = (term.bytes_written() - start_bytes) / (time.monotonic() - start)
    print(f"span detail, busy, 2 polls/s: {rate:.0f} B/s = {rate / BAUD_115200:.1%} of 115200 baud")
    assert 0 < rate < BAUD_115200 / 4


@pytest.mark.parametrize(("term", "lang", "utf8"), [
    ("vt220", "C.UTF-8", False),  # a real VT220 cannot show UTF-8 whatever the locale says
    ("xterm", "C.UTF-8", True),
])
def test_terminals_and_locales(rig: Rig, term: str, lang: str, utf8: bool) -> None:
    rig.start_fixtures()
    terminal = rig.console(TERM=term, LANG=lang, LC_ALL="")
    terminal.wait_for("span2  ALARM alarms RED")
    terminal.keys("c", "h")
    terminal.wait_for("Hang up call c-0001?")
    raw = terminal.output.read_bytes()
    assert ("┌".encode() in raw) is utf8
    assert (max(raw) < 0x80) is not utf8


def test_logs_screen_tails_the_journal(rig: Rig) -> None:
    rig.start_fixtures()
    journal = rig.root / "journal.json"
    journal.write_text(json.dumps({
        "__REALTIME_TIMESTAMP": "1795000000000000", "SYSLOG_IDENTIFIER": "appliance-telephonyd",
        "PRIORITY": "3", "MESSAGE": "span2: red alarm (loss of signal)", "SPAN": "span2"}) + "\n")
    fake = rig.root / "journalctl"
    fake.write_text(f"#!/bin/sh\ncat {journal}\n")
    fake.chmod(0o755)
    term = rig.console(APPLIANCE_JOURNALCTL=str(fake))
    term.wait_for("SPANS")
    term.keys("F7")
    term.wait_for("appliance- span2: red alarm (loss of signal)")
