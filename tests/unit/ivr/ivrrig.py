"""A call center with a realistic IVR, for the IVR tests."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from appliance.runtime.clock import VirtualClock
from hil.traffic.center import SimCenter

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()

ACD: dict[str, Any] = {
    "agents": [{"id": "1001", "device": "dev1001"}, {"id": "1002", "device": "dev1002"}],
    "queues": [
        {"name": "sales", "strategy": "linear", "members": ["1001"]},
        {"name": "support", "strategy": "linear", "members": ["1002"]},
        {"name": "vip", "strategy": "linear", "members": ["1001", "1002"]},
    ],
}


def node(name: str, type_: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **kw}


MAIN = {
    "name": "main",
    "start": "screen",
    "nodes": [
        node("screen", "callerlist", lists=["blocked", "vips"], vip="vipq", next="hours"),
        node("hours", "time", schedule="office", open="menu", closed="closed", holiday="xmas"),
        node(
            "menu",
            "menu",
            prompt="main-menu",
            choices={"1": "sales", "2": "support-menu", "3": "account"},
            invalid_prompt="invalid",
            timeout_prompt="no-input",
            timeout=5,
            retries=3,
            failure="bye",
        ),
        node("support-menu", "menu", prompt="support-menu", choices={"1": "supportq", "0": "menu"}),
        node("sales", "queue", queue="sales", on_empty="onduty", survey="survey"),
        node("supportq", "queue", queue="support", on_empty="onduty"),
        node("vipq", "queue", queue="vip", on_empty="onduty"),
        node("onduty", "forward", number="01701234567", failure="vm"),
        node("survey", "survey", prompt="survey-question", next="bye"),
        node(
            "account",
            "collect",
            prompt="enter-account",
            variable="account",
            max_digits=6,
            next="crm",
            failure="menu",
        ),
        node(
            "crm",
            "lookup",
            url="http://crm.local/customer/${account}",
            timeout=2,
            next="prio",
            failure="sales",
        ),
        node("prio", "set", variable="priority", value="${tier}", next="sales"),
        node("closed", "play", prompt="closed-message", next="vm"),
        node("xmas", "play", prompt="holiday-message", next=""),
        node("vm", "voicemail", box="100", prompt="vm-greeting", max_seconds=60),
        node("bye", "play", prompt="goodbye"),
    ],
}

IVR: dict[str, Any] = {
    "flows": [
        MAIN,
        {"name": "hotline", "start": "q", "nodes": [node("q", "queue", queue="support")]},
    ],
    "schedules": [
        {
            "name": "office",
            "timezone": "Europe/Berlin",
            "holidays": ["de"],
            "hours": {d: ["08:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        }
    ],
    "holidays": [{"name": "de", "dates": ["12-25", "12-26"]}],
    "caller_lists": [
        {"name": "blocked", "kind": "blacklist", "numbers": ["0900*", "030666"]},
        {"name": "vips", "kind": "vip", "numbers": ["0301111"]},
    ],
    "routes": [
        {"dnis": "200", "flow": "hotline"},
        {"trunk": "fxo1", "flow": "hotline"},
        {"dnis": "1*", "flow": "main"},
    ],
}


def make_ivr_center(epoch: float = MONDAY_10, **kw: Any) -> SimCenter:
    center = SimCenter(ACD, IVR, clock=VirtualClock(epoch=epoch), **kw)
    center.switch.default_prompt_seconds = 2.0
    return center


def visits(center: SimCenter) -> list[tuple[str, str]]:
    center.events.flush()
    return [
        (r["node"], r["result"]) for r in center.db.query("SELECT * FROM ivr_visits ORDER BY id")
    ]
