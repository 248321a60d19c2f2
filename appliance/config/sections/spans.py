"""``[[rig.spans]]``: E1 spans, where each one is reached and how its PRI is set up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.sections.addresses import address_check
from appliance.config.validate import setting

_B_CHANNELS = tuple(ts for ts in range(1, 32) if ts != 16)


def _hunt_list_check(value: object) -> str | None:
    if not isinstance(value, list):
        return "expected a list of B-channel timeslots"
    bad = [ts for ts in value if ts not in _B_CHANNELS]
    if bad:
        return f"B-channel timeslots {bad} are not 1-15 or 17-31"
    if len(set(value)) != len(value):
        return "a B-channel appears twice in the hunt list"
    return None


@dataclass(frozen=True)
class PriTimers:
    """libpri timer overrides in milliseconds (Q.921 §5.9, Q.931 Table 9-1). 0 keeps the default."""

    t200: int = setting(0, doc="Q.921 T200 retransmission timer (default 1000 ms)", ge=0, le=10_000)
    n200: int = setting(0, doc="Q.921 N200 maximum retransmissions (default 3)", ge=0, le=20)
    t203: int = setting(0, doc="Q.921 T203 idle link poll (default 10000 ms)", ge=0, le=60_000)
    t309: int = setting(0, doc="Q.931 T309 active calls survive a link loss (default 6000 ms)",
                        ge=0, le=120_000)


@dataclass(frozen=True)
class SpanEntry:
    name: str = setting(
        doc="Span name used in logs, the CLI and the console", pattern=r"[A-Za-z0-9_.-]{1,32}"
    )
    address: str = setting(
        doc="Device address: 'dahdi:N' for DAHDI span N, 'sim:/path/to/e1.sock' for the simulator",
        check=address_check("dahdi", "sim", "spy"),
    )
    framing: Literal["ccs", "cas"] = setting("ccs", doc="E1 framing: 'ccs' (ISDN PRI) or 'cas'")
    crc4: bool = setting(True, doc="CRC-4 multiframe (G.704 §2.3.3); most carriers require it")
    linecode: Literal["hdb3", "ami"] = setting("hdb3", doc="Line code (G.703 §9): 'hdb3' or 'ami'")
    clock_priority: int = setting(
        1, doc="Timing source priority: 1 = primary, 2 = secondary..., 0 = never take clock", ge=0,
        le=32,
    )
    lbo: int = setting(0, doc="Line build-out index (DAHDI lbo 0-7; 0 for E1 120 ohm)", ge=0, le=7)
    switchtype: Literal[
        "euroisdn_e1", "euroisdn_t1", "qsig", "ni2", "ni1", "dms100", "lucent5e", "att4ess"
    ] = setting("euroisdn_e1", doc="Q.931 variant spoken on the D-channel")
    node: Literal["cpe", "network"] = setting(
        "cpe", doc="Our side of the D-channel: 'cpe' (user, towards a carrier) or 'network'"
    )
    overlap: bool = setting(False, doc="Overlap receiving: accept the called number digit by digit")
    overlap_digits: int = setting(
        0, doc="With overlap: DNIS length that completes the number (0: wait for timeout)", ge=0,
        le=32,
    )
    overlap_timeout: float = setting(
        5.0, doc="With overlap: seconds without a digit before the number is taken as complete",
        gt=0, le=60,
    )
    hunt: Literal["ascending", "descending", "round-robin", "list"] = setting(
        "descending", doc="Outbound B-channel choice; 'descending' avoids glare with carriers "
        "that hunt ascending",
    )
    hunt_list: list[int] = setting(
        doc="With hunt = 'list': B-channel timeslots in preference order",
        default_factory=list, check=_hunt_list_check,
    )
    exclusive: bool = setting(
        False, doc="Outbound SETUP asks for its B-channel exclusively (else 'preferred')"
    )
    recovery_holdoff: float = setting(
        1.0, doc="Seconds a cleared alarm must stay clear before the span is restarted", ge=0,
        le=60,
    )
    timers: PriTimers = setting(doc="libpri timer overrides", default_factory=PriTimers)
