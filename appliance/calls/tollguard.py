"""Toll-fraud guards on outside calls (SEC-4), for every technology alike.

* **Class of service.** Every outside number falls in a class: ``premium`` (a
  ``[calls] premium_prefixes`` number), ``international`` (an
  ``international_prefixes`` number) or ``national``. Every phone has a class of
  service (``[calls] classes``, keyed by extension or device, else
  ``default_class``) and may call numbers up to it; ``internal`` calls no outside
  number at all. A number one of our people chooses (a phone's dialling, click-to-dial,
  an agent's transfer or consultation) is checked against that person's phone; the
  destinations the administrator configured (IVR forwards, overflow, the on-duty
  number) are the administrator's choice and are not. A trunk carries numbers up to
  its ``[calls] trunk_classes`` class (every class by default): the outbound route
  passes a trunk that may not carry a number.
* **A ceiling on concurrent outside calls** (``max_outbound_calls``), whoever placed them.
* **An alarm when outbound minutes jump**: trunk minutes (seizure to release) of the
  last hour, measured every :data:`SWEEP_S`; above ``outbound_minutes_alarm`` the
  alarm is raised once (journal and event bus) and cleared when they fall back.

A barred call is refused with Q.850 cause 52, "outgoing calls barred" (Q.931 (1988)
Table 4-13; Asterisk's ``AST_CAUSE_OUTGOING_CALL_BARRED``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from appliance.calls.channel import CAUSE_OUTGOING_CALLS_BARRED, Channel
from appliance.config.sections.calls import CallsSection
from appliance.runtime.clock import Clock, TimerHandle

log = logging.getLogger("appliance.calls")

WINDOW_S = 3600.0  # outbound minutes are counted over the last hour
SWEEP_S = 30.0  # how often the minutes are measured while outside calls are up


class NumberClass(IntEnum):
    """Classes of outside numbers, and classes of service (what a phone may call)."""

    INTERNAL = 0  # as a class of service: our own phones only
    NATIONAL = 1
    INTERNATIONAL = 2
    PREMIUM = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class OutboundBarred(ValueError):
    """A person's phone may not call that number (its class of service)."""

    cause = CAUSE_OUTGOING_CALLS_BARRED


@dataclass(frozen=True)
class ClassOfService:
    """Which phone may call which outside number, and which trunk may carry it."""

    international_prefixes: tuple[str, ...] = ()
    premium_prefixes: tuple[str, ...] = ()
    default: NumberClass = NumberClass.PREMIUM  # no configuration: nothing barred
    devices: Mapping[str, NumberClass] = field(default_factory=dict)
    trunks: Mapping[str, NumberClass] = field(default_factory=dict)
    #: a device's one name (``201`` -> ``fxs1``), so a class keyed either way applies
    canonical: Callable[[str], str | None] = field(default=lambda device: device)

    @classmethod
    def from_config(cls, calls: CallsSection,
                    canonical: Callable[[str], str | None]) -> ClassOfService:
        """From ``[calls]`` (validated: its class names are :data:`CLASSES`, these labels)."""
        def level(name: str) -> NumberClass:
            return NumberClass[name.upper()]
        return cls(tuple(calls.international_prefixes), tuple(calls.premium_prefixes),
                   level(calls.default_class),
                   {key: level(value) for key, value in calls.classes.items()},
                   {key: level(value) for key, value in calls.trunk_classes.items()},
                   canonical)

    def classify(self, number: str) -> NumberClass:
        """The class of outside number ``number``, as dialled (premium is tested first:
        an international premium number is premium)."""
        digits = number.removeprefix("+")
        if any(digits.startswith(p) for p in self.premium_prefixes):
            return NumberClass.PREMIUM
        if number.startswith("+") or any(digits.startswith(p)
                                         for p in self.international_prefixes):
            return NumberClass.INTERNATIONAL
        return NumberClass.NATIONAL

    def class_of(self, device: str) -> NumberClass:
        """``device``'s class of service (keyed by its extension or by its name)."""
        one = self.canonical(device) or device
        for key, level in self.devices.items():
            if key == device or (self.canonical(key) or key) == one:
                return level
        return self.default

    def check(self, device: str, number: str) -> None:
        """Raise :class:`OutboundBarred` when ``device`` may not call ``number``."""
        wanted, allowed = self.classify(number), self.class_of(device)
        if wanted > allowed:
            may = "no outside number" if allowed is NumberClass.INTERNAL else \
                f"{allowed.label} numbers at most"
            article = "an" if wanted.label[0] in "aeiou" else "a"
            raise OutboundBarred(f"{number} is {article} {wanted.label} number and {device} "
                                 f"may call {may} ([calls] classes / default_class)")

    def carries(self, trunk: str, number: str) -> bool:
        """Whether ``trunk`` may carry ``number`` (``[calls] trunk_classes``)."""
        return self.classify(number) <= self.trunks.get(trunk, NumberClass.PREMIUM)


Alarm = Callable[[bool, float, int], object]  # (raised, minutes in the last hour, threshold)


class OutboundMeter:
    """Outside calls up now and their trunk minutes over the last hour (the alarm)."""

    def __init__(self, clock: Clock, threshold_minutes: int = 0,
                 on_alarm: Alarm | None = None) -> None:
        self.clock = clock
        self.threshold = threshold_minutes  # 0: no alarm
        self.on_alarm = on_alarm
        self.alarmed = False
        self._up: list[tuple[Channel, float]] = []  # (leg, seized at)
        self._ended: deque[tuple[float, float]] = deque()  # (seized, released), last hour
        self._timer: TimerHandle | None = None

    def up(self) -> int:
        """Outside calls up now."""
        self._sweep_ended()
        return len(self._up)

    def seized(self, leg: Channel) -> None:
        self._up.append((leg, self.clock.time()))
        if self._timer is None:
            self._timer = self.clock.call_later(SWEEP_S, self._sweep)

    def minutes(self) -> float:
        """Trunk minutes of outside calls in the last hour, the calls still up included."""
        self._sweep_ended()
        now = self.clock.time()
        since = now - WINDOW_S
        while self._ended and self._ended[0][1] < since:
            self._ended.popleft()
        seconds = sum(end - max(start, since) for start, end in self._ended)
        seconds += sum(now - max(start, since) for _, start in self._up)
        return seconds / 60.0

    def _sweep_ended(self) -> None:
        now = self.clock.time()
        for leg, start in [entry for entry in self._up if entry[0].hung_up]:
            self._up.remove((leg, start))
            self._ended.append((start, now))

    def _sweep(self) -> None:
        self._timer = None
        minutes = self.minutes()
        if self.threshold:
            over = minutes > self.threshold
            if over != self.alarmed:
                self.alarmed = over
                if over:
                    log.warning("toll-fraud alarm: %.0f outbound minutes in the last hour "
                                "(alarm above %d, [calls] outbound_minutes_alarm)", minutes,
                                self.threshold)
                else:
                    log.info("toll-fraud alarm cleared: %.0f outbound minutes in the last "
                             "hour", minutes)
                if self.on_alarm is not None:
                    self.on_alarm(over, minutes, self.threshold)
        if self._up or self._ended:
            self._timer = self.clock.call_later(SWEEP_S, self._sweep)

    def status(self) -> dict[str, Any]:
        return {"up": self.up(), "minutes_last_hour": round(self.minutes(), 1),
                "alarm_minutes": self.threshold, "alarm": self.alarmed}
