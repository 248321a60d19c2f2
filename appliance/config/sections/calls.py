"""``[calls]``: the call core's own settings (outbound route for outside numbers)."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config.validate import Problem, setting

TECHNOLOGY_NAMES = ("pri", "analog")  # the default order; "sip" may be named too
TECHNOLOGIES = (*TECHNOLOGY_NAMES, "sip")


def _trunk_list(value: object) -> str | None:
    if not isinstance(value, list) or not value or len(value) > 64 or \
            not all(isinstance(v, str) and 0 < len(v) <= 32 for v in value):
        return "expected a non-empty list of trunk or technology names, e.g. [\"e1a\", \"analog\"]"
    if len(set(value)) != len(value):
        return "a trunk is listed twice"
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


def check_calls(calls: CallsSection, spans: list[str], fxo_lines: list[str],
                sip_trunks: list[str]) -> list[Problem]:
    """Every outbound trunk names a configured span, FXO port, SIP trunk or technology."""
    known = {*TECHNOLOGIES, *spans, *fxo_lines, *sip_trunks}
    return [
        Problem(("calls", "outbound_trunks", index),
                f"{name!r} is neither a span, an FXO port, a SIP trunk nor one of "
                f"{list(TECHNOLOGIES)}")
        for index, name in enumerate(calls.outbound_trunks)
        if name not in known
    ]
