"""appliancectl spans, ports, calls, queues and agents against running fixture daemons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_rig import Rig, make_rig, rig_without_daemons


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with make_rig(tmp_path) as r:
        yield r


def test_spans_list_shows_alarms_in_words(rig: Rig) -> None:
    result = rig.run("spans", "list")
    assert result.exit_code == 0, result.output
    span2 = next(line for line in result.output.splitlines() if line.startswith("span2"))
    assert "alarm" in span2 and "red" in span2 and "down" in span2
    assert rig.json("spans", "list")["spans"][0]["name"] == "span1"


def test_spans_show_lists_counters_and_every_channel(rig: Rig) -> None:
    result = rig.run("spans", "show", "span2")
    assert result.exit_code == 0, result.output
    assert "bpv 1204" in result.output and "slips 3" in result.output
    assert len([line for line in result.output.splitlines() if "blocked" in line]) == 30
    assert len(rig.json("spans", "show", "span1")["channels"]) == 30


def test_busy_out_takes_effect_and_is_audited(rig: Rig) -> None:
    result = rig.run("spans", "busy-out", "span1", "7")
    assert result.exit_code == 0, result.output
    assert "span1 channel 7: blocked-local" in result.output
    channel = next(c for c in rig.json("spans", "show", "span1")["channels"] if c["channel"] == 7)
    assert channel["state"] == "blocked-local"
    assert rig.run("spans", "busy-out", "span1", "7", "--off").exit_code == 0
    rows = rig.audit_rows()
    assert [(r["action"], r["target"], r["outcome"], r["origin"]) for r in rows] == [
        ("span.busy_out", "span1/7", "ok", "cli"),
        ("span.busy_out", "span1/7", "ok", "cli"),
    ]
    assert '"on": false' in rows[1]["detail"]


def test_busy_out_of_a_busy_channel_is_refused_with_exit_4_and_audited(rig: Rig) -> None:
    result = rig.run("spans", "busy-out", "span1", "2")
    assert result.exit_code == 4
    assert "busy with a call" in result.output
    assert rig.audit_rows()[-1]["outcome"].startswith("refused: span1 channel 2 is busy")


def test_bad_channel_and_unknown_span_give_clear_errors(rig: Rig) -> None:
    result = rig.run("spans", "busy-out", "span1", "32")
    assert result.exit_code == 2 and "32 is not in the range 1<=x<=31" in result.output
    result = rig.run("spans", "show", "span9")
    assert result.exit_code == 1 and "no span 'span9'; known: span1, span2" in result.output
    result = rig.run("spans", "loopback", "span1", "sideways")
    assert result.exit_code == 2 and "'sideways' is not one of" in result.output


def test_loopback_sets_the_mode(rig: Rig) -> None:
    result = rig.run("spans", "loopback", "span1", "local")
    assert result.exit_code == 0, result.output
    assert "loopback" in rig.json("spans", "show", "span1")["alarms"]
    assert rig.daemons.requests[-2]["params"] == {"span": "span1", "mode": "local"}


def test_ports_list_and_show(rig: Rig) -> None:
    result = rig.run("ports", "list")
    assert result.exit_code == 0
    fxo2 = next(line for line in result.output.splitlines() if line.startswith("fxo2"))
    assert "NO" in fxo2
    assert rig.json("ports", "show", "fxs1")["hook"] == "off"


def test_calls_hangup_and_originate(rig: Rig) -> None:
    assert [c["call_id"] for c in rig.json("calls", "list")["calls"]] == [
        "c-0001", "c-0002", "c-0003"]
    result = rig.run("calls", "hangup", "c-0002", "--cause", "31")
    assert result.exit_code == 0 and "c-0002: cleared (cause 31)" in result.output
    assert "c-0002" not in rig.run("calls", "list").output
    assert rig.daemons.requests[-2]["params"] == {"call_id": "c-0002", "cause": 31}
    made = rig.json("calls", "originate", "fxo1", "0123456789")
    assert made["callee"] == "0123456789" and made["state"] == "dialing"
    assert [r["action"] for r in rig.audit_rows()] == ["call.hangup", "call.originate"]


def test_originate_rejects_a_number_with_letters(rig: Rig) -> None:
    result = rig.run("calls", "originate", "fxo1", "12ab")
    assert result.exit_code == 2 and "digits, '*', '#'" in result.output
    assert not [r for r in rig.daemons.requests if r["method"] == "calls.originate"]


def test_hangup_of_an_unknown_call_fails_and_is_audited(rig: Rig) -> None:
    result = rig.run("calls", "hangup", "c-9999")
    assert result.exit_code == 1 and "no call_id 'c-9999'" in result.output
    assert rig.audit_rows()[-1]["outcome"].startswith("refused: no call_id")


def test_queues_list_and_show(rig: Rig) -> None:
    result = rig.run("queues", "list")
    assert "1:35" in result.output  # sales: longest wait 95 s
    shown = rig.json("queues", "show", "sales")
    assert shown["waiting"] == 2
    assert [a["name"] for a in shown["agents"]] == ["alice", "bob", "carol", "dave"]
    result = rig.run("queues", "show", "nope")
    assert result.exit_code == 1 and "known: sales, support" in result.output


def test_agents_pause_unpause_login_logout(rig: Rig) -> None:
    assert rig.run("agents", "pause", "carol", "--reason", "training").output.strip() == (
        "carol: paused (training)")
    assert rig.json("agents", "show", "carol")["reason"] == "training"
    assert rig.run("agents", "unpause", "carol").output.strip() == "carol: idle"
    assert rig.run("agents", "logout", "carol").output.strip() == "carol: logged_out"
    assert rig.json("agents", "login", "carol", "fxs1")["device"] == "fxs1"
    result = rig.run("agents", "pause", "erin")
    assert result.exit_code == 4 and "erin is logged out" in result.output
    assert [(r["action"], r["outcome"][:7]) for r in rig.audit_rows()] == [
        ("agent.pause", "ok"), ("agent.unpause", "ok"), ("agent.logout", "ok"),
        ("agent.login", "ok"), ("agent.pause", "refused")]


def test_agents_list_shows_time_in_state(rig: Rig) -> None:
    result = rig.run("agents", "list")
    dave = next(line for line in result.output.splitlines() if line.startswith("dave"))
    assert "paused" in dave and "lunch" in dave


def test_daemon_not_running_exits_3(tmp_path: Path) -> None:
    rig = rig_without_daemons(tmp_path)
    result = rig.run("spans", "list")
    assert result.exit_code == 3 and "is the daemon running?" in result.output
    result = rig.run("agents", "pause", "alice")
    assert result.exit_code == 3
    assert rig.audit_rows()[-1]["outcome"].startswith("refused:")


def test_hung_daemon_exits_3_within_the_timeout(tmp_path: Path) -> None:
    with make_rig(tmp_path, hung="powerd") as rig:
        result = rig.run("power", "status", env={"APPLIANCECTL_TIMEOUT": "0.3"})
    assert result.exit_code == 3 and "no answer within 0.3 s" in result.output
