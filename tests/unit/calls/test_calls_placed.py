"""Numbers keyed on our own phones are outbound calls of the call model (PhoneCall)."""

from __future__ import annotations

from appliance.calls.channel import CAUSE_USER_BUSY
from appliance.calls.originate import PhoneCall
from hil.traffic.center import SimCenter


def cdr(center: SimCenter) -> dict[str, object]:
    center.events.flush()
    (row,) = list(center.db.query("SELECT * FROM cdr"))
    return dict(row)


def test_a_keyed_number_rings_back_until_answered_and_ends_with_one_cdr() -> None:
    center = SimCenter({"queues": [], "agents": []})
    phone = center.switch.inbound("201", "201", trunk="")  # the phone's own leg, off-hook
    placed = PhoneCall(center.calls, phone, "external:013812345678", "013812345678",
                       agent="1001", agent_name="Ada")
    (far,) = [leg for leg in center.switch.legs if leg.destination == "external:013812345678"]
    assert phone.playing == "ringback" and placed.call.answer is None
    center.clock.advance(4)
    far.far_answer()
    assert phone.playing == "" and placed.call.answer is not None
    assert placed.call.bridge is not None
    center.clock.advance(30)
    phone.far_hangup()
    row = cdr(center)
    assert (row["direction"], row["caller"], row["callee"], row["agent"], row["caller_name"],
            row["disposition"]) == ("outbound", "201", "013812345678", "1001", "Ada",
                                    "ANSWERED")
    assert far.hung_up


def test_a_busy_number_ends_the_call_busy_and_the_phone_is_released() -> None:
    center = SimCenter({"queues": [], "agents": []})
    phone = center.switch.inbound("202", "202", trunk="")
    PhoneCall(center.calls, phone, "201", "201")
    (far,) = [leg for leg in center.switch.legs if leg.destination == "201"]
    far.far_hangup(CAUSE_USER_BUSY)
    assert cdr(center)["disposition"] == "BUSY" and phone.hung_up


def test_a_party_that_never_answers_is_given_up_after_a_minute() -> None:
    center = SimCenter({"queues": [], "agents": []})
    phone = center.switch.inbound("202", "202", trunk="")
    PhoneCall(center.calls, phone, "201", "201")
    (far,) = [leg for leg in center.switch.legs if leg.destination == "201"]
    center.clock.advance(59)
    assert not far.hung_up
    center.clock.advance(2)
    assert far.hung_up and phone.hung_up
    row = cdr(center)
    assert (row["disposition"], row["cause"]) == ("NO ANSWER", 19)
