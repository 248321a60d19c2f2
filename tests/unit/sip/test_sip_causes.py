"""SIP responses <-> Q.850 causes (RFC 3398 §7.2.4.1, §8.2.6.1; RFC 3326 Reason)."""

from __future__ import annotations

import pytest

from appliance.calls.channel import (
    CAUSE_CALL_REJECTED,
    CAUSE_NO_ANSWER,
    CAUSE_NORMAL_CLEARING,
    CAUSE_TEMPORARY_FAILURE,
    CAUSE_UNALLOCATED_NUMBER,
    CAUSE_USER_BUSY,
)
from appliance.signalling.sip.causes import cause_from_status, reason_header, status_for_cause


@pytest.mark.parametrize(("status", "cause"), [
    (200, CAUSE_NORMAL_CLEARING),  # a BYE after an answer
    (404, CAUSE_UNALLOCATED_NUMBER),  # Kamailio: the extension has no contact
    (486, CAUSE_USER_BUSY), (600, CAUSE_USER_BUSY),
    (480, 18), (408, 102),  # no user responding, recovery on timer expiry
    (603, CAUSE_CALL_REJECTED), (403, CAUSE_CALL_REJECTED),
    (503, CAUSE_TEMPORARY_FAILURE), (500, CAUSE_TEMPORARY_FAILURE),
    (499, 31), (599, CAUSE_TEMPORARY_FAILURE),  # unlisted: class default
])
def test_a_final_response_maps_to_its_rfc_3398_cause(status: int, cause: int) -> None:
    assert cause_from_status(status) == cause


@pytest.mark.parametrize(("cause", "status"), [
    (CAUSE_USER_BUSY, 486), (CAUSE_NO_ANSWER, 480), (CAUSE_CALL_REJECTED, 603),
    (CAUSE_UNALLOCATED_NUMBER, 404), (CAUSE_TEMPORARY_FAILURE, 503), (34, 503),
    (20, 480), (47, 503),
])
def test_a_refusal_carries_the_response_for_its_cause(cause: int, status: int) -> None:
    assert status_for_cause(cause) == status


def test_the_reason_header_names_the_q850_cause() -> None:
    assert reason_header(17) == ("Reason", "Q.850;cause=17")
