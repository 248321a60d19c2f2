"""National analog-line profiles: ring cadences, tones and caller-ID practice.

Tones use the media engine's notation (``appliance.media.dsp.tones``:
``F1[+F2][/MS]`` segments). Sources: ITU-T E.180 Supplement 2 (national tone
plans), Telcordia GR-30-CORE (US caller ID between the first and second ring),
ETSI EN 300 659-1 §5.3 (caller ID before the first ring, announced by a line
reversal and the DT-AS dual tone, or after the first ring), BT SIN 227 (UK),
YD/T 1401 practice in China (FSK between the first and second ring), and
ETSI ES 200 778-1 / DTMF caller ID before the first ring (Netherlands,
Denmark).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CallerIdStandard = Literal["bell202", "v23", "dtmf", "none"]
# when caller ID arrives on an FXO line / is sent to an FXS phone:
#   "after-first-ring": in the silent interval after the first ring (GR-30, EN 300 659-1 §5.3.2)
#   "before-ring": before the first ring, announced by a polarity reversal (EN 300 659-1 §5.3.1)
CallerIdTiming = Literal["after-first-ring", "before-ring"]


@dataclass(frozen=True)
class CountryProfile:
    code: str
    ring_cadence_ms: tuple[int, ...]  # on/off pairs of one ring cycle
    dial_tone: str
    busy_tone: str
    ringback_tone: str
    reorder_tone: str
    howler_tone: str
    callerid_standard: CallerIdStandard
    callerid_timing: CallerIdTiming
    flash_ms: int = 100  # timed break recall the carrier expects (FXO) / the default for phones

    @property
    def ring_cycle_ms(self) -> int:
        return sum(self.ring_cadence_ms)

    def tone(self, name: str) -> str | None:
        """The call-progress tone a call leg asks for by its tone-plan name (``dial``,
        ``busy``, ``ringback``, ``congestion``, ``howler``), as this country sounds it."""
        return {"dial": self.dial_tone, "busy": self.busy_tone, "ringback": self.ringback_tone,
                "congestion": self.reorder_tone, "reorder": self.reorder_tone,
                "howler": self.howler_tone}.get(name)


COUNTRIES: dict[str, CountryProfile] = {
    p.code: p
    for p in (
        CountryProfile(
            code="US", ring_cadence_ms=(2000, 4000), dial_tone="350+440",
            busy_tone="480+620/500,0/500", ringback_tone="440+480/2000,0/4000",
            reorder_tone="480+620/250,0/250", howler_tone="1400+2060+2450+2600/100,0/100",
            callerid_standard="bell202", callerid_timing="after-first-ring", flash_ms=500,
        ),
        CountryProfile(
            code="CN", ring_cadence_ms=(1000, 4000), dial_tone="450",
            busy_tone="450/350,0/350", ringback_tone="450/1000,0/4000",
            reorder_tone="450/700,0/700", howler_tone="950/400,0/400",
            callerid_standard="bell202", callerid_timing="after-first-ring", flash_ms=100,
        ),
        CountryProfile(
            code="GB", ring_cadence_ms=(400, 200, 400, 2000), dial_tone="350+440",
            busy_tone="400/375,0/375", ringback_tone="400+450/400,0/200,400+450/400,0/2000",
            reorder_tone="400/400,0/350,400/225,0/525", howler_tone="800+2400/500,0/500",
            callerid_standard="v23", callerid_timing="before-ring", flash_ms=100,
        ),
        CountryProfile(
            code="DE", ring_cadence_ms=(1000, 4000), dial_tone="425",
            busy_tone="425/480,0/480", ringback_tone="425/1000,0/4000",
            reorder_tone="425/240,0/240", howler_tone="2000/250,0/250",
            callerid_standard="v23", callerid_timing="after-first-ring", flash_ms=100,
        ),
        CountryProfile(
            code="FR", ring_cadence_ms=(1500, 3500), dial_tone="440",
            busy_tone="440/500,0/500", ringback_tone="440/1500,0/3500",
            reorder_tone="440/250,0/250", howler_tone="1000/500,0/500",
            callerid_standard="v23", callerid_timing="before-ring", flash_ms=270,
        ),
        CountryProfile(
            code="NL", ring_cadence_ms=(1000, 4000), dial_tone="425",
            busy_tone="425/500,0/500", ringback_tone="425/1000,0/4000",
            reorder_tone="425/250,0/250", howler_tone="1000/500,0/500",
            callerid_standard="dtmf", callerid_timing="before-ring", flash_ms=100,
        ),
    )
}


def country(code: str) -> CountryProfile:
    try:
        return COUNTRIES[code.upper()]
    except KeyError:
        raise ValueError(
            f"country {code!r} has no analog profile; known: {', '.join(sorted(COUNTRIES))}"
        ) from None
