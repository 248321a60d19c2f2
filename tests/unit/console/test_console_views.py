"""The console's screens as text, and how it sees daemons that are down or hung."""

from __future__ import annotations

import time
from pathlib import Path

from console_fixtures import NOW, initial_state, running_fixtures, span_summary

from appliance.console import views
from appliance.console.app import choose_encoding
from appliance.console.source import DaemonView, DataSource, Snapshot


def plain(row: views.Row) -> str:
    markup = row.markup
    if isinstance(markup, str):
        return markup
    if isinstance(markup, tuple):
        return markup[1]
    return "".join(part if isinstance(part, str) else part[1] for part in markup)


def snapshot() -> Snapshot:
    state = initial_state(NOW)
    tel = DaemonView("telephonyd", "ok", "running", {
        "spans.list": {"spans": [span_summary(s) for s in state["spans"].values()]},
        "spans.show": {**span_summary(state["spans"]["span1"]),
                       "channels": state["spans"]["span1"]["channels"]},
        "ports.list": {"ports": list(state["ports"].values())},
        "calls.list": {"calls": list(state["calls"].values())},
        "queues.list": {"queues": list(state["queues"].values())},
        "agents.list": {"agents": list(state["agents"].values())},
    })
    pwr = DaemonView("powerd", "ok", "running", {"power.status": state["power"],
                                                 "power.history": {"events": state["history"]}})
    return Snapshot(tel, pwr)


def test_overview_fits_80_columns_and_says_alarms_in_words() -> None:
    lines = [plain(r) for r in views.overview(snapshot())]
    assert all(len(line) <= 80 for line in lines)
    span2 = next(line for line in lines if line.startswith("span2"))
    assert "ALARM" in span2 and "RED" in span2 and "D DOWN" in span2
    assert "NO BATTERY" in next(line for line in lines if line.startswith("fxo2"))
    assert "CALLS UP 3" in lines
    sales = next(line for line in lines if line.startswith("sales"))
    assert sales.split()[:3] == ["sales", "2", "1:35"]
    assert any(line.startswith("AGENTS") and "paused 1" in line and "talking 2" in line
               for line in lines)
    assert any("mains ON" in line for line in lines)
    assert len(lines) <= 20  # the body of an 80x24 screen


def test_span_detail_in_the_manner_of_dahdi_tool() -> None:
    lines = [plain(r) for r in views.spans(snapshot(), "span1")]
    assert any(line.startswith("Counters BPV 0  CRC4 2") for line in lines)
    grid = [line for line in lines if line[:2].isdigit()]
    assert len(grid) == 8 and grid[0].startswith("01 BUSY  c-0001")
    assert all(len(line) <= 80 for line in lines)
    assert "select a span" in plain(views.spans(snapshot(), "span2")[-1])


def test_span_detail_shows_lost_audio_and_marks_it_once_any_is_lost() -> None:
    clean = views.audio_row({"frames_missing": 0, "concealed": 0, "slips": 0, "output_slips": 0})
    assert plain(clean) == "Audio Missing 0  Concealed 0  Slips in 0  Slips out 0"
    assert clean.markup[0] == ""
    lossy = views.audio_row({"frames_missing": 2, "concealed": 5, "slips": 1})
    assert plain(lossy) == "Audio Missing 2  Concealed 5  Slips in 1  Slips out 0"
    assert lossy.markup[0] == "warn"


def test_calls_hide_customer_numbers_without_the_permission() -> None:
    shown = [plain(r) for r in views.calls(snapshot(), True, now=NOW)]
    hidden = [plain(r) for r in views.calls(snapshot(), False, now=NOW)]
    assert "0612345001" in shown[1] and "1:00" in shown[1]
    assert "0612345001" not in " ".join(hidden) and "(hidden)" in hidden[1]
    assert [r.key for r in views.calls(snapshot(), True) if r.key] == ["c-0001", "c-0002", "c-0003"]


def test_queues_agents_power_and_maintenance_rows() -> None:
    agents = {r.key: plain(r) for r in views.queues(snapshot(), now=NOW) if r.key}
    assert "PAUSED" in agents["dave"] and "15:00" in agents["dave"] and "lunch" in agents["dave"]
    power = [plain(r) for r in views.power(snapshot())]
    assert any("relay pair 1: energised" in line for line in power)
    assert any("mains lost" in line for line in power)
    maint = [plain(r) for r in views.maintenance(snapshot())]
    assert "span1 channels out of service: none" in maint
    snap = snapshot()
    detail = snap.telephonyd.results["spans.show"]
    detail["channels"][4]["state"] = "blocked-local"  # busied out by the engineer
    detail["channels"][6]["state"] = "blocked-remote"  # SERVICE from the far end
    maint = [plain(r) for r in views.maintenance(snap)]
    assert "span1 channels out of service: 5 (by us), 7 (far end)" in maint


def test_a_down_daemon_is_said_with_the_way_out() -> None:
    snap = snapshot()
    snap.telephonyd = DaemonView("telephonyd", "down", "telephonyd is not running")
    lines = [plain(r) for r in views.overview(snap)]
    assert lines[0] == "*** TELEPHONYD NOT RUNNING - press R to restart it ***"
    snap.telephonyd = DaemonView("telephonyd", "hung", "telephonyd is not answering (hung?)")
    assert "NOT ANSWERING" in plain(views.calls(snap, True)[0])


def test_journal_rows() -> None:
    snap = snapshot()
    snap.journal = [{"at": NOW, "daemon": "appliance-powerd", "priority": "err",
                     "message": "UPS stale", "fields": {}}]
    assert plain(views.journal(snap)[0]).endswith("appliance- UPS stale")
    snap.journal_error = "journalctl: not found"
    assert "journal unavailable" in plain(views.journal(snap)[0])


def test_source_polls_and_reports_down_and_hung_daemons(tmp_path: Path) -> None:
    run = tmp_path / "run"
    sockets = {d: str(run / f"{d}.sock") for d in ("telephonyd", "powerd")}
    source = DataSource(sockets, timeout=0.3)
    snap = source.poll_once()
    assert (snap.telephonyd.health, snap.powerd.health) == ("down", "down")
    with running_fixtures(str(run), hung="telephonyd"):
        started = time.monotonic()
        snap = source.poll_once()
        assert time.monotonic() - started < 1.5
        assert snap.telephonyd.health == "hung" and "not answering" in snap.telephonyd.message
        assert snap.powerd.health == "ok" and snap.powerd.results["power.status"]["mains"]
    with running_fixtures(str(run)) as daemons:
        source.span_detail = "span2"
        snap = source.poll_once()
        assert snap.telephonyd.results["spans.show"]["name"] == "span2"
        assert source.call("telephonyd", "agents.pause", agent="carol", reason="x")["state"] == (
            "paused")
        assert daemons.requests[-1]["method"] == "agents.pause"


def test_encoding_choice() -> None:
    assert choose_encoding("auto", {"TERM": "vt100", "LANG": "en_GB.UTF-8"}) == "ascii"
    assert choose_encoding("auto", {"TERM": "vt220"}) == "ascii"
    assert choose_encoding("auto", {"TERM": "xterm", "LC_ALL": "C"}) == "ascii"
    assert choose_encoding("auto", {"TERM": "xterm", "LANG": "C.UTF-8"}) == "utf-8"
    assert choose_encoding("utf8", {"TERM": "vt100"}) == "utf-8"
    assert choose_encoding("dec", {"LANG": "C.UTF-8"}) == "ascii"


def test_port_detail_and_span_channels_in_words() -> None:
    """Issue 12 item 8: no Python spellings on the console; telephonyd's channel states."""
    snap = snapshot()
    port = snap.telephonyd.results["ports.list"]["ports"][0]
    port.update({"busied_out": False, "history": [{"event": "ring"}], "call_id": None})
    detail = [plain(r) for r in views.ports(snap, port["name"])]
    shown = "\n".join(detail[detail.index(f"Port {port['name']}"):])
    for raw in ("False", "True", "None", "["):
        assert raw not in shown, shown
    assert "busied out" in shown and all(len(line) <= 80 for line in detail)
    channels = snap.telephonyd.results["spans.show"]["channels"]
    channels[4]["state"], channels[6]["state"] = "blocked-local", "blocked-remote"
    span = "\n".join(plain(r) for r in views.spans(snap, "span1"))
    assert "05 OOS" in span and "07 FAR" in span
