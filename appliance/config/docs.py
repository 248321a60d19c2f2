"""Generate docs/configuration.md from the schema (``python -m appliance.config.docs``).

A test fails when the committed document differs from what this prints, so
the reference never drifts from the code.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, get_args, get_origin, get_type_hints

from appliance.config.schema import ApplianceConfig
from appliance.config.validate import MISSING, section_doc

HEADER = """# Configuration reference

One TOML file, `/etc/appliance/appliance.toml` by default (`--config FILE` or
`$APPLIANCE_CONFIG` choose another). `appliancectl config validate FILE`
reports every error as `FILE:LINE: key.path: message`; `appliancectl config
show` prints the effective configuration with every default filled in. A
running daemon takes a new file on `systemctl reload` (SIGHUP) or
`appliancectl config apply FILE`, and keeps its running configuration when the
new file is refused. The answer names the sections that took effect and those
that wait for a restart of the daemon; a file that would take away every span
and every port is refused unless forced (`config apply --force`). Taken live
live: `logging.level`; `rig.spans` (spans added, removed or changed are
re-opened); `acd` (queues and agents matched by name and id: waiting callers,
logins and calls are kept, a removed agent leaves after its call, the callers
of a removed queue leave it as from an empty queue); `ivr` (new calls follow
the new routes and flows, a call in a flow finishes it as it began);
`calls.outbound_trunks`; `recording` (for recordings started from then on,
feature codes included); `media.lost_audio_alarm`; in powerd every `power`
key but `power.pairs` (from the next check; an outage in progress keeps its
start for the time-on-battery limit, and a new `lifeline_on` switches the lines
at once). Every other changed key a daemon reads (ports, lifeline pairs,
paths, SIP, the media engine) is reported as
waiting for its restart and listed in `status` as `restart_required`. Only a
regular file of at most 1 MiB is read; every number must be finite (no `nan`
or `inf`) and no string is longer than 4096 characters.

This document is generated from the schema by `python -m appliance.config.docs`.
"""


def _section_type(tp: Any) -> tuple[type, str] | None:
    """The dataclass a field holds and how: a ``table``, an ``array`` of tables, or
    ``named`` tables (``dict[str, X]``: ``[sip.trunks.NAME]``)."""
    if dataclasses.is_dataclass(tp):
        return typing.cast(type, tp), "table"
    origin = get_origin(tp)
    if origin in (list, dict):
        item = get_args(tp)[-1]
        if dataclasses.is_dataclass(item):
            return typing.cast(type, item), "array" if origin is list else "named"
    return None


def _heading(name: str, kind: str) -> str:
    return {"array": f"[[{name}]]", "named": f"[{name}.NAME]"}.get(kind, f"[{name}]")


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not MISSING:
        return f"`{field.default!r}`" if field.default != "" else '`""`'
    factory: Any = field.default_factory
    if factory is not MISSING:
        value = factory()
        if isinstance(value, list | dict) and not value:
            return "empty"
        return "(table)"
    return "**required**"


def _limits(field: dataclasses.Field[Any]) -> str:
    meta = field.metadata
    parts = []
    for key, text in (("ge", ">="), ("gt", ">"), ("le", "<=")):
        if meta.get(key) is not None:
            parts.append(f"{text} {meta[key]}")
    if meta.get("max_length") is not None:
        parts.append(f"at most {meta['max_length']} characters")
    if meta.get("pattern"):
        pattern = str(meta["pattern"]).replace("|", "\\|")  # not a table cell's end
        parts.append(f"form `{pattern}`")
    return ", ".join(parts)


def render(cls: type = ApplianceConfig) -> str:
    out = [HEADER]
    todo: list[tuple[str, type, str]] = []
    hints = get_type_hints(cls)
    for field in dataclasses.fields(cls):
        found = _section_type(hints[field.name])
        if found is not None:
            todo.append((field.name, *found))
    while todo:
        name, section, kind = todo.pop(0)
        out.append(f"\n## `{_heading(name, kind)}`\n")
        if section.__doc__ and not section.__doc__.startswith(section.__name__ + "("):
            out.append(section.__doc__.strip() + "\n")
        out.append("| key | type | default | limits | meaning |\n|---|---|---|---|---|")
        section_hints = get_type_hints(section)
        fields = {f.name: f for f in dataclasses.fields(section)}
        for key, type_name, doc in section_doc(section):
            nested = _section_type(section_hints[key])
            if nested is not None:
                todo.append((f"{name}.{key}", *nested))
            field = fields[key]
            out.append(f"| `{key}` | {type_name} | {_default(field)} | {_limits(field)} | {doc} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
