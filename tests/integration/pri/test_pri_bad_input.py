"""Bad input from the far end: malformed Q.931, unknown IEs, a SETUP flood.

No crash, no leaked channel, the event logged with what was wrong, and the
span keeps taking calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.signalling.pri import causes
from appliance.signalling.pri import libpri as lp
from hil.sim.e1_rig import E1Rig, short_tempdir

pytestmark = pytest.mark.integration

SETUP = 0x05  # Q.931 Table 4-2 message type
BEARER_CAPABILITY = 0x04  # Q.931 §4.5.5


def _on_setup(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes | None]:
    def mutate(q931: bytes) -> bytes | None:
        # Q.931 §4: protocol discriminator, call reference (length + 2 octets on PRI), type
        if len(q931) > 4 and q931[0] == 0x08 and q931[4] == SETUP:
            return change(q931)
        return None

    return mutate


def _strip_ie(q931: bytes, ie_id: int) -> bytes:
    out = bytearray(q931[:5])
    i = 5
    while i < len(q931):
        ie = q931[i]
        if ie & 0x80:  # single-octet IE (Q.931 §4.5.1)
            out.append(ie)
            i += 1
            continue
        length = q931[i + 1]
        if ie != ie_id:
            out += q931[i:i + 2 + length]
        i += 2 + length
    return bytes(out)


EXPECTED = {
    "truncated": "no message type",
    "bad-protocol-discriminator": "unknown protocol discriminator 0x41",
    "unknown-ie": "unrecognised IE 0x2f",
    "mandatory-ie-missing": "mandatory IE bearer capability missing",
    "ie-length-overrun": "IE 0x70 length 64 runs past the end",
}

CASES: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda q: q[:4],
    "bad-protocol-discriminator": lambda q: b"\x41" + q[1:],
    "unknown-ie": lambda q: q + b"\x2f\x03\x01\x02\x03",  # IE 0x2f not defined in codeset 0
    "mandatory-ie-missing": lambda q: _strip_ie(q, BEARER_CAPABILITY),
    "ie-length-overrun": lambda q: q + b"\x70\x40\x81",  # called party number, length past end
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_setup_is_survived_and_logged(case: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                line.sim.mutate_next_q931(_on_setup(CASES[case]))
                bad = line.sim.place_call(4, "100", "0301")
                await asyncio.sleep(0.3)
                del bad
                # whatever became of it, the span is consistent and takes the next call
                busy = [ts for ts, ch in line.pri.channels.items() if ch.call is not None]
                assert len(line.pri.calls) == len(busy)
                good = line.sim.place_call(5, "200", "0301")
                await asyncio.wait_for(good.connected.wait(), 3)
                for call in list(line.sim.calls.values()):
                    line.sim.hangup(call)
                await rig.wait_for(lambda: line.pri.status()["channel_counts"] == {"idle": 30},
                                   5, "all channels idle again")
                assert line.pri.calls == {}

    with caplog.at_level(logging.DEBUG, logger="appliance.signalling.pri"):
        asyncio.run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("malformed Q.931" in m and EXPECTED[case] in m and "span1" in m
               for m in warnings), warnings


def test_setup_flood_is_refused_beyond_capacity_without_leaks() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                first = [line.sim.place_call(ts, "1", "2") for ts in range(1, 32) if ts != 16]
                await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in first)), 5)
                flood = [line.sim.place_call(ts, "9", "9") for ts in (1, 2, 3) * 10]
                await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in flood)), 5)
                assert {c.cause for c in flood} == {44}  # Q.850: requested channel unavailable
                status = line.pri.status()
                assert status["stats"]["rejected"] == 30
                assert status["channel_counts"] == {"busy": 30}
                for call in first:
                    line.sim.hangup(call)
                await rig.wait_for(lambda: line.pri.status()["channel_counts"] == {"idle": 30})
                assert line.pri.calls == {}

    asyncio.run(scenario())


def test_far_end_restart_of_a_nonexistent_channel_and_a_failing_application() -> None:
    def broken(span: object, call: object) -> None:
        raise RuntimeError("application bug")

    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), on_incoming=broken) as rig:
                line = rig.lines[0]
                lp.restart_channel(line.sim.ctrl, 40)  # no such B-channel on an E1
                line.sim._reschedule()
                call = line.sim.place_call(3, "1", "2")
                await asyncio.wait_for(call.done.wait(), 3)
                assert call.cause == causes.TEMPORARY_FAILURE  # cleared, not left ringing
                await rig.wait_for(lambda: line.pri.status()["channel_counts"] == {"idle": 30})
                assert line.pri.stats.anomalies >= 1

    asyncio.run(scenario())
