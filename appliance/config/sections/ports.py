"""``[[rig.ports]]``: analog FXO (carrier line) and FXS (phone) ports.

Keys beyond name/kind/address tune the analog state machines
(appliance.signalling.analog, docs/analog.md). FXO-only keys are ignored on an
FXS port and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.sections.addresses import address_check
from appliance.config.validate import setting
from appliance.signalling.analog.countries import COUNTRIES
from appliance.signalling.analog.dialplan import DialPlan, DialRule

DisconnectMethod = Literal["battery", "cpc", "polarity", "tone", "silence"]
FEATURE_NAMES = ("agent-login", "agent-logout", "agent-pause", "agent-unpause")


#: The feature codes of a phone (FXS port or SIP extension) unless configured otherwise.
DEFAULT_FEATURES = {"*51": "agent-login", "*52": "agent-logout", "*53": "agent-pause",
                    "*54": "agent-unpause"}


def _country_check(value: object) -> str | None:
    if str(value).upper() not in COUNTRIES:
        return f"country {value!r} has no analog profile; known: {', '.join(sorted(COUNTRIES))}"
    return None


def _pattern_check(value: object) -> str | None:
    try:
        DialPlan([DialRule(str(value), "ext")])
    except ValueError as exc:
        return str(exc)
    return None


def _features_check(value: object) -> str | None:
    assert isinstance(value, dict)
    for code, name in value.items():
        if not code or any(ch not in "0123456789*#" for ch in code):
            return f"feature code {code!r}: use digits, '*' and '#' only"
        if name not in FEATURE_NAMES:
            return f"feature {name!r} for {code!r}: choose one of {', '.join(FEATURE_NAMES)}"
    return None


@dataclass(frozen=True)
class DialPlanEntry:
    pattern: str = setting(
        doc="Digits pattern: X any digit, Z 1-9, N 2-9, [1-5] a set, '.' one or more digits more",
        check=_pattern_check,
    )
    target: str = setting(
        "ext", doc="'ext' (the FXS port with this extension), 'trunk' (an idle FXO line) "
        "or a port name",
    )
    strip: int = setting(0, doc="Leading digits (access code) not sent to the trunk", ge=0, le=8)


@dataclass(frozen=True)
class PortEntry:
    name: str = setting(
        doc="Port name used in logs, the CLI and the console", pattern=r"[A-Za-z0-9_.-]{1,32}"
    )
    kind: Literal["fxo", "fxs"] = setting(doc="'fxo' faces a carrier line, 'fxs' feeds a phone")
    address: str = setting(
        doc="Device address: 'dahdi:CHANNEL' or 'sim:/path/to/port.sock'",
        check=address_check("dahdi", "sim"),
    )
    country: str = setting(
        "CN", doc="National profile: ring cadence, tones, caller-ID practice (CN US GB DE FR NL)",
        check=_country_check,
    )
    callerid: Literal["auto", "bell202", "v23", "dtmf", "none"] = setting(
        "auto", doc="Caller-ID standard; 'auto' takes the country's"
    )
    callerid_timing: Literal["auto", "after-first-ring", "before-ring"] = setting(
        "auto", doc="When caller ID comes: in the first ring pause or before the first ring"
    )
    # FXO
    rings_before_answer: int = setting(2, doc="FXO: answer after this many rings", ge=1, le=15)
    ring_tolerance: float = setting(
        0.25, doc="FXO: allowed deviation of ring bursts and pauses from the cadence",
        gt=0.0, le=0.6,
    )
    disconnect: list[DisconnectMethod] = setting(
        doc="FXO: far-end hang-up detection methods (battery, cpc, polarity, tone, silence)",
        default_factory=lambda: ["battery", "cpc", "polarity", "tone", "silence"],
    )
    battery_drop_ms: int = setting(
        600, doc="FXO: battery gone this long means the far end cleared", ge=50, le=10000)
    cpc_min_ms: int = setting(
        90, doc="FXO: shortest loop-current break taken as CPC (calling party control)",
        ge=10, le=2000)
    silence_timeout_s: float = setting(
        30.0, doc="FXO: silence this long in a call means the far end is gone", gt=0.0, le=3600.0)
    silence_dbm0: float = setting(
        -45.0, doc="FXO: level below which a frame counts as silence", ge=-80.0, le=-20.0)
    dial_tone_wait_s: float = setting(
        3.0, doc="FXO: how long to wait for dial tone before giving up", gt=0.0, le=30.0)
    blind_dial: bool = setting(False, doc="FXO: dial even when no dial tone was heard")
    # FXS
    extension: str = setting("", doc="FXS: the phone's extension number", pattern=r"[0-9]{0,8}")
    first_digit_s: float = setting(
        10.0, doc="FXS: dial tone this long without a digit gives reorder", gt=0.0, le=120.0)
    interdigit_s: float = setting(
        4.0, doc="FXS: pause that ends a variable-length number", gt=0.0, le=30.0)
    off_hook_warning_s: float = setting(
        20.0, doc="FXS: busy/reorder this long, then the howler tone", gt=0.0, le=600.0)
    howler_s: float = setting(30.0, doc="FXS: howler this long, then silence", gt=0.0, le=600.0)
    disconnect_signal: Literal["cpc", "polarity", "none"] = setting(
        "cpc", doc="FXS: how the phone is told the far end cleared")
    dial_plan: list[DialPlanEntry] = setting(
        doc="FXS: dial plan; empty means every FXS extension, and '9' + number via a trunk",
        default_factory=list,
    )
    features: dict[str, str] = setting(
        doc="FXS: feature codes (digits may follow, end with '#'), e.g. {'*51' = 'agent-login'}",
        default_factory=lambda: dict(DEFAULT_FEATURES),
        check=_features_check,
    )
