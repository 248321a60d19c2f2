"""A bench of E1 lines: simulators on the network side, PriSpans on the appliance side.

Used by the integration tests and ``bench/pri.py``: everything runs on one
asyncio loop, the appliance side reached only through ``open_span(address)``.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from appliance.config.sections.spans import PriTimers, SpanEntry
from appliance.runtime.clock import Clock, RealClock
from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.span import MediaPort, PriSpan
from hil.sim.e1 import E1Simulator

# Short LAPD timers so fault recovery takes well under a second in tests
FAST_TIMERS = {"T200": 300, "N200": 3, "T203": 2000}


def answer_all(span: PriSpan, call: PriCall) -> None:
    """An application that alerts and answers every offered call at once."""
    span.alert(call)
    span.answer(call)


@dataclass
class E1Line:
    sim: E1Simulator
    pri: PriSpan


@dataclass
class E1Rig:
    """``spans`` E1 lines in ``directory``."""

    directory: Path
    spans: int = 1
    clock: Clock = field(default_factory=RealClock)
    on_incoming: Callable[[PriSpan, PriCall], None] | None = answer_all
    media: MediaPort | None = None
    entry_overrides: dict[str, Any] = field(default_factory=dict)
    pcap: bool = True
    spy: bool = False  # wrap each span in drivers.span.spy (logs every D-channel frame)
    lines: list[E1Line] = field(default_factory=list)

    async def __aenter__(self) -> E1Rig:
        for index in range(1, self.spans + 1):
            path = self.directory / f"e1-{index}.sock"
            entry = SpanEntry(name=f"span{index}",
                              address=f"{'spy:' if self.spy else ''}sim:{path}",
                              timers=PriTimers(t200=300, n200=3, t203=2000),
                              recovery_holdoff=0.05)
            entry = replace(entry, **self.entry_overrides)
            sim = E1Simulator(path, pcap=self.directory / f"e1-{index}.pcap" if self.pcap else None,
                              timers=FAST_TIMERS, switchtype=entry.switchtype,
                              node="cpe" if entry.node == "network" else "network")
            await sim.start()
            pri = PriSpan.open(entry, self.clock, on_incoming=self.on_incoming, media=self.media)
            self.lines.append(E1Line(sim, pri))
        await self.wait_in_service()
        return self

    async def wait_in_service(self, timeout: float = 5.0) -> None:
        """Until every span has its D-channel up and every B-channel idle."""
        await self.wait_for(lambda: all(
            line.pri.alarm is None and line.pri.status()["channel_counts"].get("idle") == 30
            for line in self.lines), timeout, "spans in service")

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0,
                       what: str = "condition") -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise TimeoutError(f"E1 rig: timed out waiting for {what}")
            await asyncio.sleep(0.005)

    async def __aexit__(self, *exc: object) -> None:
        for line in self.lines:
            line.pri.close()
            await line.sim.close()


def short_tempdir() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory with a short path (UNIX socket paths are limited to 107 octets)."""
    return tempfile.TemporaryDirectory(prefix="e1-", dir="/tmp")


async def pump_audio(rig: E1Rig, blocks: int) -> None:
    """Clock ``blocks`` x 20 ms through every line and wait for the appliance's answers
    (a media engine behind the spans ticks on the first line's blocks: its timing source)."""
    for _ in range(blocks):
        targets = [line.sim.blocks_received + 1 for line in rig.lines]
        for line in rig.lines:
            line.sim.send_tdm(1)
        await rig.wait_for(lambda t=targets: all(  # type: ignore[misc]
            line.sim.blocks_received >= want for line, want in zip(rig.lines, t, strict=True)),
            2.0, "TDM answer from the appliance")
