"""The outbound route: an outside number (``external:NUMBER``) onto the first trunk that takes it.

Forwarding, transfers, click-to-dial and the after-hours on-duty number all
dial out through :class:`OutboundRoute`. ``[calls] outbound_trunks`` gives the
order: each entry is a trunk (a span such as ``e1a``, a line such as ``fxo1``)
or a technology name (``pri``, ``analog``) standing for all of its trunks in
their configured order. A trunk that is down or has no free circuit refuses
at once (:class:`~appliance.calls.technology.TrunkUnavailable`) and the next
is tried; when none takes the call the leg is reported released with Q.850
cause 34 (no circuit/channel available) on the next turn of the clock, after
the caller holds it.

The toll-fraud guards that hold for every outside call whoever placed it live here
too (:mod:`appliance.calls.tollguard`): a trunk whose class may not carry the number
is passed over, and beyond ``[calls] max_outbound_calls`` outside calls up at once
the call is refused (cause 34); the :class:`OutboundMeter` counts their minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from appliance.calls.channel import CAUSE_NO_CIRCUIT_AVAILABLE, Channel, ChannelListener
from appliance.calls.technology import Technology, TechnologyRegistry, TrunkUnavailable
from appliance.calls.tollguard import ClassOfService, OutboundMeter
from appliance.runtime.clock import Clock

log = logging.getLogger("appliance.calls")


class UnroutedLeg(Channel):
    """An outside call no trunk took: it only ever reports its release."""

    def __init__(self, clock: Clock, number: str, listener: ChannelListener) -> None:
        super().__init__(f"unrouted/{number}", dnis=number)
        self.set_listener(listener)
        clock.call_later(0.0, self._emit_hangup, CAUSE_NO_CIRCUIT_AVAILABLE)

    def answer(self) -> None:
        """Nothing to answer: the call never left the box."""

    def play(self, prompt: str, *, loop: bool = False) -> None:
        """No audio path: nothing is played."""

    def stop_play(self) -> None:
        """No audio path: nothing is playing."""

    def _release(self, cause: int) -> None:
        """No circuit was seized: nothing to clear."""


class OutboundRoute:
    """Trunks tried in the configured order, failing over when one is busy or down."""

    def __init__(self, registry: TechnologyRegistry, clock: Clock, order: Sequence[str],
                 *, max_calls: int = 1000) -> None:
        self.registry = registry
        self.clock = clock
        self.order = tuple(order)
        self.policy = ClassOfService()  # which trunk may carry which number
        self.max_calls = max_calls
        self.meter = OutboundMeter(clock)

    def candidates(self) -> Iterator[tuple[Technology, str]]:
        """(technology, trunk) pairs in the order they are tried, each trunk once."""
        seen: set[str] = set()
        for entry in self.order:
            named = self.registry.get(entry)
            if named is not None:
                pairs = [(named, trunk) for trunk in named.trunks()]
            else:
                pairs = [(t, entry) for t in self.registry if entry in t.trunks()]
            for technology, trunk in pairs:
                if trunk not in seen:
                    seen.add(trunk)
                    yield technology, trunk

    def dial(self, number: str, caller_id: str, listener: ChannelListener) -> Channel:
        """A leg to ``number`` on the first trunk that takes it; ValueError if none is
        configured at all."""
        refused: list[str] = []
        if self.meter.up() >= self.max_calls:
            log.warning("outside call to %s refused: %d outside calls up, the most "
                        "[calls] max_outbound_calls allows", number, self.max_calls)
            return UnroutedLeg(self.clock, number, listener)
        for technology, trunk in self.candidates():
            if not self.policy.carries(trunk, number):
                refused.append(f"{trunk}: may not carry {self.policy.classify(number).label} "
                               "numbers ([calls] trunk_classes)")
                continue
            try:
                leg = technology.dial(trunk, number, caller_id, listener)
            except TrunkUnavailable as exc:
                refused.append(f"{trunk}: {exc}")
                continue
            if refused:
                log.info("outside call to %s on %s after %s", number, trunk, "; ".join(refused),
                         extra={"trunk": trunk})
            self.meter.seized(leg)
            return leg
        if not refused:
            raise ValueError(f"no outbound trunk for {number!r}: none of "
                             f"{list(self.order)} is configured ([calls] outbound_trunks)")
        log.warning("outside call to %s: every trunk refused (%s)", number, "; ".join(refused))
        return UnroutedLeg(self.clock, number, listener)
