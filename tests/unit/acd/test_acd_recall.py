"""Register recall (hook flash) on an agent's phone during a queue call (Acd.recall, ACD-4)."""

from __future__ import annotations

from acdrig import answer, make_center

from appliance.calls.technology import (
    RECALL_CONNECTED,
    RECALL_DIAL,
    RECALL_DIALTONE,
    RECALL_FLASH,
    RECALL_HANGUP,
    RECALL_HOLD,
    RECALL_RETRIEVE,
)


def events(center: object) -> list[str]:
    return [r["event"] for r in center.queue_log()]  # type: ignore[attr-defined]


def test_flash_dial_and_hang_up_is_an_attended_transfer() -> None:
    center = make_center("linear", agents=2)
    call, _ = center.queue_call("sales", "0301")
    leg = answer(center, "1001")
    assert center.acd.recall(leg, RECALL_FLASH) == RECALL_DIALTONE
    assert call.on_hold and "HOLD" in events(center)
    assert center.acd.recall(leg, RECALL_DIAL, "dev1009") == RECALL_CONNECTED
    assert leg.playing == "ringback"  # the agent hears the colleague's phone ring
    (consult,) = center.switch.ringing("dev1009")
    consult.far_answer()
    assert leg.playing == ""
    assert center.acd.recall(leg, RECALL_HANGUP) == RECALL_CONNECTED
    assert "ATTENDEDTRANSFER" in events(center)
    assert call.bridge is not None and set(call.bridge.channels) == {call.channel, consult}


def test_a_second_flash_drops_the_consultation_and_takes_the_caller_back() -> None:
    center = make_center("linear", agents=2)
    call, _ = center.queue_call("sales", "0301")
    leg = answer(center, "1001")
    center.acd.recall(leg, RECALL_FLASH)
    center.acd.recall(leg, RECALL_DIAL, "dev1009")
    (consult,) = center.switch.ringing("dev1009")
    assert center.acd.recall(leg, RECALL_FLASH) == RECALL_CONNECTED
    assert consult.hung_up and not call.on_hold
    assert events(center).count("UNHOLD") == 1
    assert center.acd.recall(leg, RECALL_FLASH) == RECALL_DIALTONE  # and again


def test_a_flash_on_no_agent_call_is_not_taken_and_on_hook_without_a_colleague_hands_nothing() -> None:
    center = make_center("linear", agents=1)
    call, channel = center.queue_call("sales", "0301")
    assert center.acd.recall(channel, RECALL_FLASH) == ""  # the caller's leg: no agent's
    leg = answer(center, "1001")
    center.acd.recall(leg, RECALL_FLASH)
    assert center.acd.recall(leg, RECALL_HANGUP) == ""  # on-hook with the caller held
    assert call.on_hold  # nothing transferred: the agent's hang-up then ends the call
    assert center.acd.recall(leg, RECALL_FLASH) == RECALL_CONNECTED and not call.on_hold


def test_the_phones_own_hold_and_retrieve_never_toggle() -> None:
    """A SIP phone's hold key: held by the CLI first, the phone's hold changes nothing (a
    flash would take the caller back); retrieve takes back once; both leave a
    consultation alone."""
    center = make_center("linear", agents=2)
    call, _ = center.queue_call("sales", "0301")
    leg = answer(center, "1001")
    assert center.acd.recall(leg, RECALL_HOLD) == RECALL_DIALTONE and call.on_hold
    assert center.acd.recall(leg, RECALL_HOLD) == RECALL_DIALTONE and call.on_hold
    assert center.acd.recall(leg, RECALL_RETRIEVE) == RECALL_CONNECTED and not call.on_hold
    assert center.acd.recall(leg, RECALL_RETRIEVE) == RECALL_CONNECTED and not call.on_hold
    assert (events(center).count("HOLD"), events(center).count("UNHOLD")) == (1, 1)
    center.acd.recall(leg, RECALL_FLASH)
    center.acd.recall(leg, RECALL_DIAL, "dev1009")
    (consult,) = center.switch.ringing("dev1009")
    assert center.acd.recall(leg, RECALL_RETRIEVE) == ""  # consulting: the caller stays held
    assert call.on_hold and not consult.hung_up
