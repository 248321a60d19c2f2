"""``[calls]``: the call core's own settings (outbound route for outside numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.config.validate import Problem, setting

#: Classes of service, lowest first (appliance/calls/tollguard.py ``NumberClass``).
CLASSES = ("internal", "national", "international", "premium")

TECHNOLOGY_NAMES = ("pri", "analog")  # the default order; "sip" may be named too
TECHNOLOGIES = (*TECHNOLOGY_NAMES, "sip")


def _trunk_list(value: object) -> str | None:
    if not isinstance(value, list) or not value or len(value) > 64 or \
            not all(isinstance(v, str) and 0 < len(v) <= 32 for v in value):
        return "expected a non-empty list of trunk or technology names, e.g. [\"e1a\", \"analog\"]"
    if len(set(value)) != len(value):
        return "a trunk is listed twice"
    return None


def _prefixes(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > 64 or not all(
            isinstance(p, str) and p.isascii() and p.isdigit() and 0 < len(p) <= 15
            for p in value):
        return "expected a list of digit prefixes, e.g. [\"00\"]"
    return None


def _class_name(value: Any) -> str | None:
    return None if value in CLASSES else f"expected one of {list(CLASSES)}"


def _class_table(value: Any) -> str | None:
    if not isinstance(value, dict) or len(value) > 4096:
        return "expected a table of NAME = CLASS"
    bad = sorted(str(k) for k, v in value.items() if v not in CLASSES)
    if bad:
        return f"{', '.join(bad)}: the class must be one of {list(CLASSES)}"
    return None


@dataclass(frozen=True)
class CallsSection:
    outbound_trunks: list[str] = setting(
        doc="Outside numbers (forward, transfer, click-to-dial) are dialled on the first of "
        "these that has a free circuit: a span, FXO port or SIP trunk name, or 'pri' / "
        "'analog' / 'sip' for all spans / all FXO lines / all SIP trunks",
        default_factory=lambda: list(TECHNOLOGY_NAMES),
        check=_trunk_list,
    )
    # -- toll-fraud guards (SEC-4; appliance/calls/tollguard.py) --------------------------
    international_prefixes: list[str] = setting(
        doc="Numbers starting with one of these (or '+') are international",
        default_factory=lambda: ["00"], check=_prefixes,
    )
    premium_prefixes: list[str] = setting(
        doc="Numbers starting with one of these are premium-rate (tested before "
        "international)", default_factory=list, check=_prefixes,
    )
    default_class: str = setting(
        "national", doc="Class of service of a phone not in 'classes': internal (no outside "
        "number), national, international or premium (everything)", check=_class_name,
    )
    classes: dict[str, str] = setting(
        doc="Class of service by extension or phone (\"201\", \"fxs1\", \"sip:2001\"), for "
        "the numbers people choose: dialled, click-to-dial, an agent's transfer or "
        "consultation", default_factory=dict, check=_class_table,
    )
    trunk_classes: dict[str, str] = setting(
        doc="Highest class of number a trunk may carry, by trunk name (default: every class)",
        default_factory=dict, check=_class_table,
    )
    max_outbound_calls: int = setting(
        30, doc="Outside calls up at once on all trunks together", ge=1, le=1000,
    )
    outbound_minutes_alarm: int = setting(
        900, doc="Alarm when outside calls used more trunk minutes than this in the last "
        "hour (0: no alarm)", ge=0, le=1_000_000,
    )


def check_calls(calls: CallsSection, spans: list[str], fxo_lines: list[str],
                sip_trunks: list[str], phones: list[str]) -> list[Problem]:
    """Every outbound trunk names a configured span, FXO port, SIP trunk or technology;
    every class of service a phone (an extension or a device name) or a trunk."""
    trunks = {*spans, *fxo_lines, *sip_trunks}
    problems = [
        Problem(("calls", "classes", key), f"{key!r} is no phone of ours (an extension, "
                "an FXS port, sip:NUMBER)")
        for key in calls.classes if key not in phones
    ] + [
        Problem(("calls", "trunk_classes", key), f"{key!r} is no span, FXO line or SIP trunk")
        for key in calls.trunk_classes if key not in trunks
    ]
    known = {*TECHNOLOGIES, *trunks}
    return problems + [
        Problem(("calls", "outbound_trunks", index),
                f"{name!r} is neither a span, an FXO port, a SIP trunk nor one of "
                f"{list(TECHNOLOGIES)}")
        for index, name in enumerate(calls.outbound_trunks)
        if name not in known
    ]
