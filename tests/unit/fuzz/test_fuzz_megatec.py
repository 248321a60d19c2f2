"""Megatec Q1 replies from a UPS that answers garbage (issue 13: fuzzing; PWR-1).

Whatever bytes the serial line returns, the driver hands back a reading or a
stale one naming the error: never an exception, never a NaN or negative figure
that the power policy would act on. Well-formed replies read back exactly.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from fuzz_budget import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers.ups.errors import UpsProtocolError
from drivers.ups.megatec import MegatecUps, parse_q1

pytestmark = pytest.mark.fuzz

RATING = b"#220.0 003 12.00 50.0\r"
IDENT = b"#HIL UPS SIM     MEGA-1000  1.0       \r"


class LineOfReplies:
    """A serial port whose UPS answers F and I properly and Q1 with ``q1``."""

    def __init__(self, q1: bytes) -> None:
        self.q1 = q1
        self.last = b""
        self.timeout = 1.0

    def reset_input_buffer(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.last = data

    def read_until(self, terminator: bytes) -> bytes:
        return {b"F\r": RATING, b"I\r": IDENT}.get(self.last, self.q1)

    def close(self) -> None:
        pass


def _ups(q1: bytes) -> MegatecUps:
    def factory(*args: Any, **kwargs: Any) -> LineOfReplies:
        return LineOfReplies(q1)

    return MegatecUps("/dev/ttyFUZZ", serial_factory=factory, now=lambda: 100.0)


field = st.floats(min_value=0.0, max_value=999.9, allow_nan=False).map(lambda v: f"{v:05.1f}")
bits = st.text(alphabet="01", min_size=8, max_size=8)


@given(st.binary(max_size=120))
@example(b"(nan nan nan 000 50.0 nan 25.0 00001000\r")
@example(b"(230.0 230.0 230.0 -01 50.0 13.0 25.0 00001000\r")
@example(b"(230.0 230.0 230.0 010 50.0 13.0 25.0 0000100\r")
@example(b"\xff\xfe\r")
def test_any_q1_reply_gives_a_reading_or_a_stale_one_never_an_exception(reply: bytes) -> None:
    reading = _ups(reply).read()
    if reading.stale:
        assert reading.error  # the engineer is told why
        return
    for value in (reading.charge, reading.runtime, reading.input_voltage,
                  reading.battery_voltage, reading.load):
        assert value is not None and math.isfinite(value) and value >= 0
    assert reading.status & {"OL", "OB"}


@settings(max_examples=examples(100))
@given(st.lists(field, min_size=7, max_size=7), bits)
def test_well_formed_q1_replies_read_back_field_for_field(values: list[str], flags: str) -> None:
    parsed = parse_q1("(" + " ".join(values) + " " + flags)
    assert parsed["input_voltage"] == float(values[0])
    assert parsed["battery_voltage"] == float(values[5])
    assert parsed["utility_fail"] == (flags[0] == "1")
    assert parsed["beeper"] == (flags[7] == "1")


@given(st.text(max_size=80))
def test_parse_q1_accepts_or_names_what_is_wrong(reply: str) -> None:
    try:
        parse_q1(reply)
    except UpsProtocolError as exc:
        assert "Q1" in str(exc)
