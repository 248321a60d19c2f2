"""Console keys drive audited actions; login and roles decide who may act (no terminal)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_fixtures import FixtureDaemons, running_fixtures

from appliance.auth import UserStore
from appliance.auth.guard import AccountGuard
from appliance.console.app import Console
from appliance.console.source import DataSource
from appliance.store import open_database

SIZE = (80, 24)
PASSWORD = "a long enough secret"


class Bench:
    def __init__(self, tmp_path: Path, daemons: FixtureDaemons, users: dict[str, str]) -> None:
        self.db = open_database(str(tmp_path / "a.db"))
        store = UserStore(self.db, scrypt_n=1 << 10)
        for name, role in users.items():
            store.add(name, role, PASSWORD)
        self.daemons = daemons
        # the daemons authorise what the console asks as the account logged in there
        accounts = AccountGuard(str(tmp_path / "a.db")).account
        daemons.telephonyd.accounts = daemons.powerd.accounts = accounts
        self.source = DataSource({d: str(tmp_path / "run" / f"{d}.sock")
                                  for d in ("telephonyd", "powerd")}, timeout=0.5)
        marker = tmp_path / "restarted"
        self.console = Console(
            self.source, db=self.db, network_dir=str(tmp_path / "net"),
            network_apply=f"touch {tmp_path / 'applied'}",
            restart_command=f"{sys.executable} -c \"open('{marker}', 'a').write('{{daemon}} ')\"",
        )
        self.console.start()

    def keys(self, *keys: str) -> None:
        for key in keys:
            if self.console.root.original_widget is self.console.frame:
                handled = self.console.root.keypress(SIZE, key)
                if handled:
                    self.console.handle_key(handled)
                self.console.after_input()
            else:
                self.console.root.keypress(SIZE, key)
            self.source.poll_once()
            self.console.refresh()

    def audit(self) -> list[tuple[str, str, str, str]]:
        return [(r["actor"], r["origin"], r["action"], r["outcome"])
                for r in self.db.query("SELECT * FROM audit_log ORDER BY id")]

    def screen_text(self) -> str:
        canvas = self.console.root.render(SIZE)
        return "\n".join(line.decode("ascii", "replace") for line in canvas.text)


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[FixtureDaemons]:
    with running_fixtures(str(tmp_path / "run")) as d:
        yield d


def test_hang_up_asks_then_acts_and_audits(tmp_path: Path, daemons: FixtureDaemons) -> None:
    bench = Bench(tmp_path, daemons, {})
    bench.keys("c", "down", "h")
    assert "Hang up call c-0002?" in bench.screen_text()
    bench.keys("n")
    assert "c-0002" in bench.screen_text() and not any(
        r["method"] == "calls.hangup" for r in daemons.requests)
    bench.keys("h", "y")
    hangups = [r["params"] for r in daemons.requests if r["method"] == "calls.hangup"]
    assert hangups == [{"call_id": "c-0002", "cause": 16}]
    assert "c-0002 hung up" in bench.screen_text()
    assert bench.audit()[-1][1:] == ("console", "call.hangup", "ok")


def test_pause_and_logout_an_agent(tmp_path: Path, daemons: FixtureDaemons) -> None:
    bench = Bench(tmp_path, daemons, {})
    bench.keys("q", "down", "down", "a")  # alice, bob, carol
    bench.keys("backspace", "backspace", "backspace", "backspace", "backspace", *"meeting",
               "enter")
    assert daemons.state["agents"]["carol"]["state"] == "paused"
    assert daemons.state["agents"]["carol"]["reason"] == "meeting"
    bench.keys("d", "y")
    assert daemons.state["agents"]["carol"]["state"] == "logged_out"
    assert [a[2] for a in bench.audit()] == ["agent.pause", "agent.logout"]


def test_maintenance_busy_out_loopback_and_restart(tmp_path: Path,
                                                   daemons: FixtureDaemons) -> None:
    bench = Bench(tmp_path, daemons, {})
    bench.keys("m", "b", *"9", "enter", "y")
    channel = next(c for c in daemons.state["spans"]["span1"]["channels"] if c["channel"] == 9)
    assert channel["state"] == "blocked-local"
    bench.keys("b", *"2", "enter", "y")
    assert "channel 2 is busy" in bench.screen_text()
    bench.keys("k", "enter", "y")
    assert "loopback" in daemons.state["spans"]["span1"]["alarms"]
    bench.keys("r", "enter", "y")
    assert (tmp_path / "restarted").read_text() == "telephonyd "
    outcomes = [(a[2], a[3][:7]) for a in bench.audit()]
    assert outcomes == [("span.busy_out", "ok"), ("span.busy_out", "refused"),
                        ("span.loopback", "ok"), ("daemon.restart", "ok")]


def test_network_form_writes_a_valid_file_and_refuses_a_bad_one(
        tmp_path: Path, daemons: FixtureDaemons) -> None:
    bench = Bench(tmp_path, daemons, {})
    bench.keys("n", "down", *"192.0.2.10", "down", *"24", "down", *"198.51.100.1",
               "down", "down", "down", "down", "enter")
    assert "NOT WRITTEN" in bench.screen_text() and "not in the local network" in (
        bench.screen_text())
    bench.keys("up", "up", "up", "end", *["backspace"] * 12, *"192.0.2.1",
               "down", "down", "down", "enter")
    text = (tmp_path / "net" / "10-appliance-eth0.network").read_text()
    assert "Address=192.0.2.10/24" in text and "Gateway=192.0.2.1" in text
    assert (tmp_path / "applied").exists()
    assert "written and applied: " in bench.screen_text()
    assert [(a[2], a[3][:7]) for a in bench.audit()] == [("network.write", "refused"),
                                                         ("network.write", "ok"),
                                                         ("network.apply", "ok")]


def test_login_required_once_accounts_exist_and_roles_limit_actions(
        tmp_path: Path, daemons: FixtureDaemons) -> None:
    bench = Bench(tmp_path, daemons, {"ada": "admin", "vic": "viewer"})
    assert "log in" in bench.screen_text()
    bench.keys("c")  # not a screen change before login: typed into the user field
    assert "Calls" not in bench.screen_text().splitlines()[0]
    bench.keys("backspace", *"vic", "enter", *"wrong password", "enter")
    assert "wrong user name or password" in bench.screen_text()
    bench.keys(*PASSWORD, "enter")
    assert "vic" in bench.screen_text().splitlines()[0]
    bench.keys("c")
    assert "(hidden)" in bench.screen_text() and "0612345001" not in bench.screen_text()
    bench.keys("h", "y")
    assert "not allowed: role viewer lacks calls.control" in bench.screen_text()
    assert not any(r["method"] == "calls.hangup" for r in daemons.requests)
    assert [(a[0], a[2], a[3]) for a in bench.audit()] == [
        ("vic", "console.login", "refused: login refused: wrong user name or password"),
        ("vic", "console.login", "ok"),
        ("vic", "call.hangup", "refused: role viewer lacks calls.control"),
    ]
    detail = next(bench.db.query("SELECT detail FROM audit_log WHERE action='call.hangup'"))
    assert json.loads(detail["detail"]) == {}


def test_restart_is_offered_when_telephonyd_is_down(tmp_path: Path) -> None:
    with running_fixtures(str(tmp_path / "run")) as daemons:
        bench = Bench(tmp_path, daemons, {})
    bench.keys("o")
    assert "TELEPHONYD NOT RUNNING - press R" in bench.screen_text()
    bench.keys("R")
    assert "telephonyd is not running. Restart telephonyd?" in bench.screen_text()
    bench.keys("y")
    assert (tmp_path / "restarted").read_text() == "telephonyd "
    assert bench.audit()[-1][2:] == ("daemon.restart", "ok")
