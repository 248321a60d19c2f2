"""Caller-ID bursts off the line (issue 13: fuzzing; ANA caller ID, ETSI EN 300 659-3, Bell SR-TSV-002476).

Any byte string a noisy line hands the FSK decoder is a caller ID or a
``CallerIdError`` naming what was wrong; every message the FXS side sends
parses back to what was sent.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from appliance.signalling.analog.callerid import (
    CallerId,
    CallerIdError,
    build_dtmf,
    build_mdmf,
    build_sdmf,
    parse_dtmf,
    parse_fsk,
)

pytestmark = pytest.mark.fuzz

printable = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=15)
digits = st.text(alphabet="0123456789", min_size=1, max_size=15)
datetime = st.text(alphabet="0123456789", min_size=8, max_size=8)


@given(st.binary(max_size=300))
@example(b"\x80\x02\x02\x05\x77")  # parameter length runs past the message
@example(b"\x04\x00\xfc")  # SDMF without its date/time
@example(b"\x80\x00\x80")  # empty MDMF, checksum right
def test_any_burst_is_a_caller_id_or_a_named_error(message: bytes) -> None:
    try:
        cid = parse_fsk(message)
    except CallerIdError as exc:
        assert str(exc)
        return
    assert all(text.isprintable() for text in (cid.number, cid.name, cid.datetime))


@given(digits, printable, datetime)
def test_mdmf_sent_is_mdmf_received(number: str, name: str, when: str) -> None:
    sent = CallerId(number=number, name=name, datetime=when)
    assert parse_fsk(build_mdmf(sent)) == sent


@given(digits, datetime)
def test_sdmf_sent_is_sdmf_received(number: str, when: str) -> None:
    sent = CallerId(number=number, datetime=when)
    assert parse_fsk(build_sdmf(sent)) == sent


@given(st.text(max_size=40))
def test_any_dtmf_caller_id_string_is_parsed_or_refused(digits_heard: str) -> None:
    try:
        parse_dtmf(digits_heard)
    except CallerIdError as exc:
        assert repr(digits_heard) in str(exc)


@given(digits)
def test_dtmf_caller_id_round_trips(number: str) -> None:
    assert parse_dtmf(build_dtmf(CallerId(number=number))).number == number
