"""Callers walking IVR flows: menus, caller lists, time, routes, queues, forward, survey, lookup."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ivrrig import make_ivr_center, visits

from hil.traffic.switch import SimChannel


def dial(center, caller: str = "0307777", dnis: str = "100", trunk: str = "span1"):
    channel = center.switch.inbound(caller, dnis, trunk)
    call = center.ivr.incoming(channel)
    return call, channel


def ring_answer(center, device: str) -> SimChannel:
    (leg,) = center.switch.ringing(device)
    leg.far_answer()
    return leg


def test_two_level_menu_reaches_the_support_queue() -> None:
    center = make_ivr_center()
    center.acd.login("1002")
    call, ch = dial(center)
    assert ch.answered and ch.playing == "main-menu"
    center.clock.advance(1)
    ch.press("2")  # barge-in during the prompt
    assert ch.playing == "support-menu"
    center.clock.advance(3)
    ch.press("1")
    assert center.switch.ringing("dev1002")
    assert call.ivr_path == ["screen", "hours", "menu", "support-menu", "supportq"]
    assert visits(center) == [
        ("screen", "none"),
        ("hours", "open"),
        ("menu", "2"),
        ("support-menu", "1"),
    ]


def test_menu_retries_on_invalid_keys_and_timeouts_then_fails() -> None:
    center = make_ivr_center()
    _call, ch = dial(center)
    ch.press("7")
    assert ch.played[-1] == "invalid"
    center.clock.advance(2)
    assert ch.played[-1] == "main-menu"  # the menu is repeated after the error prompt
    center.clock.advance(2 + 5)  # prompt, then 5 s without a key
    assert ch.played[-1] == "no-input"
    center.clock.advance(4 + 5)
    assert ch.played[-1] == "goodbye"
    center.clock.advance(2)
    assert ch.hung_up
    assert visits(center)[2:] == [("menu", "timeout"), ("bye", "done")]
    center.events.flush()
    counts = {
        (r["node"], r["result"]): r["visits"]
        for r in center.db.query("SELECT * FROM ivr_node_counts")
    }
    assert counts[("menu", "timeout")] == 1 and counts[("bye", "done")] == 1


def test_blacklisted_caller_is_rejected_unanswered() -> None:
    center = make_ivr_center()
    _call, ch = dial(center, caller="09001234")
    assert ch.hung_up and not ch.answered and ch.hangup_cause == 21
    (cdr,) = list(center.db.query("SELECT disposition, answer, ivr_path FROM cdr"))
    assert cdr == {"disposition": "REJECTED", "answer": None, "ivr_path": "screen"}
    assert visits(center) == [("screen", "blacklist")]


def test_vip_caller_goes_to_the_vip_queue_with_priority() -> None:
    center = make_ivr_center()
    center.acd.login("1001")
    center.acd.pause("1001", "break")
    call, _ch = dial(center, caller="0301111")
    assert call.vip and call.queue == "vip"
    assert center.queue_log("ENTERQUEUE")[0]["data3"] == "10"


def test_after_hours_and_holidays_take_their_branches() -> None:
    evening = dt.datetime(2026, 11, 23, 18, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    center = make_ivr_center(epoch=evening)
    call, ch = dial(center)
    assert ch.playing == "closed-message"
    center.clock.advance(2)
    assert ch.playing == "vm-greeting"
    center.clock.advance(2)
    assert ch.playing == "beep"
    center.clock.advance(2 + 60)
    assert ch.hung_up
    assert call.ivr_path == ["screen", "hours", "closed", "vm"]
    xmas = dt.datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    center = make_ivr_center(epoch=xmas)
    call, ch = dial(center)
    assert ch.playing == "holiday-message"
    assert visits(center)[-1] == ("hours", "holiday")


def test_inbound_routes_by_dnis_and_trunk() -> None:
    center = make_ivr_center()
    center.acd.login("1002")
    call, _ = dial(center, dnis="200")
    assert call.ivr_path == ["q"] and call.queue == "support"
    call, _ = dial(center, dnis="555", trunk="fxo1")
    assert call.ivr_path == ["q"]
    call, ch = dial(center, dnis="555", trunk="span1")
    assert ch.hung_up
    assert list(center.db.query("SELECT disposition FROM cdr"))[-1]["disposition"] == "REJECTED"


def test_no_agent_logged_in_forwards_to_the_on_duty_mobile() -> None:
    center = make_ivr_center()
    _call, ch = dial(center)
    ch.press("1")
    (mobile,) = center.switch.ringing("external:01701234567")
    assert ch.playing == "ringback"
    center.clock.advance(8)
    mobile.far_answer()
    assert center.switch.bridges[-1].channels == [ch, mobile]
    center.clock.advance(120)
    mobile.far_hangup()
    assert ch.hung_up
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert cdr["ivr_path"] == "screen>hours>menu>sales>onduty"
    assert ("sales", "empty") in visits(center) and ("onduty", "answered") in visits(center)


def test_unanswered_forward_falls_back_to_voicemail() -> None:
    center = make_ivr_center()
    _call, ch = dial(center)
    ch.press("1")
    center.clock.advance(30)
    assert center.switch.legs[-1].hung_up
    assert ch.playing == "vm-greeting"


def test_survey_after_the_agent_hangs_up() -> None:
    center = make_ivr_center()
    center.acd.login("1001")
    _call, ch = dial(center)
    ch.press("1")
    agent = ring_answer(center, "dev1001")
    center.clock.advance(90)
    agent.far_hangup()
    assert ch.playing == "survey-question" and not ch.hung_up
    center.clock.advance(2)
    ch.press("1")
    center.clock.advance(2)
    assert ch.hung_up
    (cdr,) = list(center.db.query("SELECT satisfaction, agent FROM cdr"))
    assert cdr == {"satisfaction": 1, "agent": "1001"}
    (row,) = list(center.db.query("SELECT * FROM survey_results"))
    assert row["queue"] == "sales" and row["satisfaction_rate"] == 1.0


def test_collect_and_customer_lookup_set_the_priority() -> None:
    center = make_ivr_center()
    requests: list[str] = []

    def crm(url, reply):
        requests.append(url)
        center.clock.call_later(0.5, reply, {"tier": "7", "name": "Ada"})

    center.ivr.lookup = crm
    center.acd.login("1001")
    center.acd.pause("1001", "break")
    call, ch = dial(center)
    ch.press("3")
    ch.press("4711#")
    center.clock.advance(1)
    assert requests == ["http://crm.local/customer/4711"]
    assert call.variables["name"] == "Ada" and call.priority == 7
    assert center.queue_log("ENTERQUEUE")[0]["data3"] == "7"
    assert ("account", "4711") in visits(center) and ("crm", "found") in visits(center)


def test_lookup_timeout_takes_the_fallback_and_ignores_a_late_reply() -> None:
    center = make_ivr_center()
    center.ivr.lookup = lambda url, reply: center.clock.call_later(5, reply, {"tier": "9"})
    center.acd.login("1001")
    center.acd.pause("1001", "break")
    call, ch = dial(center)
    ch.press("3")
    ch.press("1#")
    center.clock.advance(2)
    assert call.queue == "sales" and call.priority == 0
    center.clock.advance(5)
    assert call.priority == 0
    assert ("crm", "timeout") in visits(center)


def test_caller_hanging_up_in_a_menu_is_counted() -> None:
    center = make_ivr_center()
    _call, ch = dial(center)
    center.clock.advance(1)
    ch.far_hangup()
    assert visits(center)[-1] == ("menu", "hangup")
    (cdr,) = list(center.db.query("SELECT disposition, ivr_path FROM cdr"))
    assert cdr == {"disposition": "ANSWERED", "ivr_path": "screen>hours>menu"}


def test_customer_record_picks_the_queue_and_route_nodes_match_dnis_and_trunk() -> None:
    from typing import Any

    from ivrrig import ACD, node

    from appliance.runtime.clock import VirtualClock
    from hil.traffic.center import SimCenter

    flow: dict[str, Any] = {
        "name": "crm",
        "start": "by-dnis",
        "nodes": [
            node("by-dnis", "route_dnis", routes={"100": "look", "49*": "by-trunk"}, next="look"),
            node("by-trunk", "route_trunk", routes={"fxo2": "support"}, next="look"),
            node("look", "lookup", url="http://crm/${caller}", timeout=2, next="q", failure="q"),
            node("q", "queue", queue="${queue}"),
            node("support", "queue", queue="support"),
        ],
    }
    center = SimCenter(ACD, {"flows": [flow], "routes": [{"flow": "crm"}]}, clock=VirtualClock())
    center.ivr.lookup = lambda url, reply: reply({"queue": "vip" if url.endswith("1") else "sales"})
    for agent in ("1001", "1002"):
        center.acd.login(agent)
        center.acd.pause(agent, "break")
    first, _ = dial(center, caller="0301", dnis="100")
    second, _ = dial(center, caller="0302", dnis="4930", trunk="fxo2")
    third, _ = dial(center, caller="0303", dnis="4930", trunk="span1")
    assert first.queue == "vip" and first.ivr_path == ["by-dnis", "look", "q"]
    assert second.queue == "support" and second.ivr_path == ["by-dnis", "by-trunk", "support"]
    assert third.queue == "sales"
    assert ("by-dnis", "49*") in visits(center) and ("by-trunk", "default") in visits(center)


def test_timeout_destination_and_blind_transfer_continue_in_the_ivr() -> None:
    import copy

    from ivrrig import ACD, IVR, MONDAY_10

    from appliance.runtime.clock import VirtualClock
    from hil.traffic.center import SimCenter

    acd = copy.deepcopy(ACD)
    acd["queues"][1].update(max_wait=60, timeout_destination="voicemail:200")
    center = SimCenter(acd, IVR, clock=VirtualClock(epoch=MONDAY_10))
    center.acd.login("1001")
    center.acd.login("1002")
    center.acd.pause("1002", "break")
    call, ch = dial(center, dnis="200")  # the hotline flow: straight into 'support'
    center.clock.advance(60)
    assert ch.playing == "vm-greeting" and call.variables["voicemail_box"] == "200"
    # a second caller is served by 1001 in sales, then transferred blind to support
    call2, ch2 = dial(center)
    ch2.press("1")
    ring_answer(center, "dev1001")
    center.acd.blind_transfer("1001", "queue:support")
    assert call2.queue == "support" and not ch2.hung_up
    assert [r["queue"] for r in center.queue_log("ENTERQUEUE")][-1] == "support"
    assert center.acd.agent_status()[0]["state"] == "idle"


def test_a_blind_transfer_out_or_to_a_phone_connects_the_caller_when_answered() -> None:
    """The forwarded party of a blind transfer is bridged to the caller when it answers
    (no IVR node is current then), outside (external:) or on one of our phones (ext:)."""
    from ivrrig import ACD, IVR, MONDAY_10

    from appliance.runtime.clock import VirtualClock
    from hil.traffic.center import SimCenter

    center = SimCenter(ACD, IVR, clock=VirtualClock(epoch=MONDAY_10))
    center.acd.login("1001")
    for target, rung in (("external:5550100", "external:5550100"), ("ext:dev1002", "dev1002")):
        call, ch = dial(center)
        ch.press("1")
        ring_answer(center, "dev1001")
        center.acd.blind_transfer("1001", target)
        center.clock.advance(5)
        far = ring_answer(center, rung)
        assert ch.bridged_with is not None and far in ch.bridged_with.channels, target
        center.clock.advance(60)  # no ring timer left to cut the conversation
        assert not ch.hung_up and not far.hung_up, target
        far.far_hangup()
        assert ch.hung_up and call.ended
        center.clock.advance(10)  # the agent's wrap-up
