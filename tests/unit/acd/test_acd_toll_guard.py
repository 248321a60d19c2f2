"""An agent's outside transfers and consultations keep to the phone's class of service
(SEC-4, appliance/calls/tollguard.py)."""

from __future__ import annotations

import pytest
from acdrig import answer, make_center

from appliance.acd.engine import AcdError
from appliance.calls.tollguard import ClassOfService, NumberClass


def test_an_agent_may_not_transfer_the_caller_to_a_number_above_the_phones_class() -> None:
    center = make_center("linear", agents=1)
    center.calls.toll = ClassOfService(international_prefixes=("00",),
                                       default=NumberClass.NATIONAL)
    center.queue_call("sales", "0301")
    answer(center, "1001")
    with pytest.raises(AcdError, match="international number"):
        center.acd.blind_transfer("1001", "external:0044207946000")
    with pytest.raises(AcdError, match="international number"):
        center.acd.consult("1001", "external:0044207946000")
    assert center.acd.sessions  # the agent still has the caller
