"""appliancectl ports busy-out against the fixture telephonyd: effect, audit, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_rig import Rig, make_rig, rig_without_daemons


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with make_rig(tmp_path) as r:
        yield r


def test_ports_busy_out_blocks_an_idle_port_returns_it_and_is_audited(rig: Rig) -> None:
    result = rig.run("ports", "busy-out", "fxo1")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fxo1: blocked"
    shown = rig.json("ports", "show", "fxo1")
    assert shown["state"] == "blocked" and shown["busied_out"] is True
    assert rig.daemons.requests[-2]["params"] == {"port": "fxo1", "on": True}
    result = rig.run("ports", "busy-out", "fxo1", "--off")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fxo1: idle"
    assert rig.json("ports", "show", "fxo1")["busied_out"] is False
    rows = rig.audit_rows()
    assert [(r["action"], r["target"], r["outcome"], r["origin"]) for r in rows] == [
        ("port.busy_out", "fxo1", "ok", "cli"),
        ("port.busy_out", "fxo1", "ok", "cli"),
    ]
    assert json.loads(rows[0]["detail"]) == {"port": "fxo1", "on": True}
    assert json.loads(rows[1]["detail"]) == {"port": "fxo1", "on": False}


def test_ports_busy_out_of_a_port_in_a_call_says_it_waits_for_the_call(rig: Rig) -> None:
    result = rig.run("ports", "busy-out", "fxs1")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fxs1: talking; blocked when its call ends"
    shown = rig.json("ports", "busy-out", "fxs1")
    assert shown["busied_out"] is True and shown["call_id"] == "c-0003"


def test_ports_busy_out_of_an_unknown_port_fails_and_is_audited_as_refused(rig: Rig) -> None:
    result = rig.run("ports", "busy-out", "fxo9")
    assert result.exit_code == 1
    assert "no port 'fxo9'; known: fxo1, fxo2, fxs1" in result.output
    row = rig.audit_rows()[-1]
    assert (row["action"], row["target"]) == ("port.busy_out", "fxo9")
    assert row["outcome"].startswith("refused: no port 'fxo9'")


def test_ports_busy_out_without_telephonyd_exits_3(tmp_path: Path) -> None:
    rig = rig_without_daemons(tmp_path)
    result = rig.run("ports", "busy-out", "fxo1")
    assert result.exit_code == 3, result.output
