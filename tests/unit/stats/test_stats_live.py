"""MON-1..3 live snapshot: trunks busy/idle, calls waiting and longest wait, agents by state."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from statslog import EventLog, schema_database

import appliance.stats.live as live_module
from appliance.stats.live import register_live_method, snapshot

T0 = 1_767_225_600.0


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    events = EventLog(schema_database(str(tmp_path / "a.db")))
    events.event(T0, "AGENTLOGIN", "", "sales", "a1", "sip/a1")
    events.event(T0, "AGENTLOGIN", "", "sales", "a2", "sip/a2")
    events.event(T0, "AGENTLOGIN", "", "sales", "a3", "sip/a3")
    events.answered("c1", "sales", "a1", T0 + 10, wait=5, ring=2, talk=30)  # ended at +45
    events.event(T0 + 45, "WRAPUPSTART", "c1", "sales", "a1", 30)
    events.event(T0 + 50, "ENTERQUEUE", "c2", "sales", "", "0612", "3000", 0, "span1")
    events.event(T0 + 52, "RINGING", "c2", "sales", "a2", 1)
    events.event(T0 + 55, "CONNECT", "c2", "sales", "a2", 5, "sip/a2", 3)
    events.event(T0 + 60, "ENTERQUEUE", "c3", "sales", "", "0612", "3000", 0, "span1")
    events.event(T0 + 80, "ENTERQUEUE", "c4", "sales", "", "0612", "3000", 0, "span1")
    events.abandoned("c5", "sales", T0 + 20, wait=10)
    events.flush()
    return events


def test_snapshot_from_the_event_log(log: EventLog) -> None:
    snap = snapshot(log.db, T0 + 100, trunk_channels={"span1": {"1": True, "2": True, "3": False}})
    assert snap.trunks["span1"] == {"busy": 2, "idle": 1, "busy_channels": ["1", "2"]}
    sales = snap.queues["sales"]
    assert (sales.waiting, sales.longest_wait) == (2, 40.0)  # c3 since +60, c4 since +80
    assert sales.completed_today == 1 and sales.agents_idle == 1  # a3
    assert {a: (v["state"], v["time_in_state"]) for a, v in snap.agents.items()} == {
        "a1": ("wrap-up", 55.0), "a2": ("talking", 45.0), "a3": ("idle", 100.0)}


def test_live_method_on_a_control_server(log: EventLog, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    methods: dict[str, Any] = {}
    threads: list[str] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return snapshot(*args, **kwargs)

    monkeypatch.setattr(live_module, "snapshot", spy)

    class Server:
        def register(self, name: str, handler: Any, *, needs: str) -> None:
            methods[name] = handler

    register_live_method(Server(), str(tmp_path / "a.db"), lambda: T0 + 100, lambda: {},
                         lambda: {"missing_frames": 3, "slips": 1})
    answer = asyncio.run(methods["stats.live"]({}))
    assert answer["queues"]["sales"]["waiting"] == 2
    assert answer["media"] == {"missing_frames": 3, "slips": 1}
    assert threads and threads[0] != threading.main_thread().name  # off the event loop
