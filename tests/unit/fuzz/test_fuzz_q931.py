"""Q.931 messages from a far end that sends anything (issue 13: fuzzing; TRUNK-1, Q.931 §5.8).

Pure: the structural check every received I-frame goes through names problems
and never raises. Through the span: a simulated network (libpri, the other side)
sends SETUPs whose Q.931 part Hypothesis rewrote (replaced, truncated, flipped,
extended); the appliance's PRI span must survive every one, leak no B-channel,
and take the next well-formed call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_budget import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appliance.signalling.pri.q931check import check_q931
from hil.sim.e1_rig import E1Rig, short_tempdir

pytestmark = pytest.mark.fuzz

SETUP = 0x05  # Q.931 Table 4-2


@given(st.binary(max_size=300))
@example(b"\x08\x02\x00\x01\x05\x70\xff")  # IE length far past the end
@example(b"\x08\x0f\x00")  # call reference length beyond the message
def test_structural_check_names_problems_and_never_raises(message: bytes) -> None:
    problems = check_q931(message)
    assert all(isinstance(p, str) and p for p in problems)


Rewrite = tuple[str, bytes, int]
rewrites = st.tuples(st.sampled_from(["replace", "truncate", "flip", "append"]),
                     st.binary(min_size=1, max_size=40), st.integers(0, 400))


def _apply(rewrite: Rewrite) -> Callable[[bytes], bytes | None]:
    kind, data, index = rewrite

    def mutate(q931: bytes) -> bytes | None:
        if len(q931) <= 4 or q931[4] != SETUP:
            return None  # only the SETUP of the call placed for this rewrite
        if kind == "replace":
            return data
        if kind == "truncate":
            return q931[: index % len(q931)]
        if kind == "flip":
            i = index % len(q931)
            return q931[:i] + bytes([q931[i] ^ (data[0] or 0xFF)]) + q931[i + 1:]
        return q931 + data

    return mutate


@settings(max_examples=examples(4), suppress_health_check=list(HealthCheck))
@given(st.lists(rewrites, min_size=6, max_size=6))
@example([("truncate", b"\x00", 3), ("replace", b"\x08\x02\x80", 0),
          ("append", b"\x2f\x03\x01", 0), ("flip", b"\x80", 4), ("flip", b"\x01", 1),
          ("append", b"\x70\x40\x81", 0)])
def test_span_survives_rewritten_setups_and_takes_the_next_call(batch: list[Rewrite]) -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                for timeslot, rewrite in enumerate(batch, start=1):
                    line.sim.mutate_next_q931(_apply(rewrite))
                    line.sim.place_call(timeslot, "100", "0301")
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.3)
                busy = [ts for ts, ch in line.pri.channels.items() if ch.call is not None]
                assert len(line.pri.calls) == len(busy)
                for call in list(line.sim.calls.values()):
                    line.sim.hangup(call)
                await rig.wait_for(lambda: line.pri.status()["channel_counts"] == {"idle": 30},
                                   10, "all channels idle again")
                good = line.sim.place_call(20, "200", "0301")
                await asyncio.wait_for(good.connected.wait(), 5)
                line.sim.hangup(good)
                await rig.wait_for(lambda: line.pri.calls == {}, 5, "the good call cleared")

    asyncio.run(scenario())
