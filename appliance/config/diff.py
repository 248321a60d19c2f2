"""What changed between two configurations, key by key (issue 12: a reload that says what it did).

Keys are ``section`` for a section changed as a whole when it is not a table of
settings, else ``section.key`` (``acd.queues``, ``rig.spans``, ``power.low_runtime``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from appliance.config.schema import ApplianceConfig


def changed_keys(old: ApplianceConfig, new: ApplianceConfig) -> list[str]:
    """Every ``section.key`` whose value differs, in schema order."""
    changed: list[str] = []
    for section in dataclasses.fields(ApplianceConfig):
        before: Any = getattr(old, section.name)
        after: Any = getattr(new, section.name)
        if before == after:
            continue
        if dataclasses.is_dataclass(before) and dataclasses.is_dataclass(after):
            changed.extend(f"{section.name}.{f.name}" for f in dataclasses.fields(before)
                           if getattr(before, f.name) != getattr(after, f.name))
        else:
            changed.append(section.name)
    return changed


def covered(key: str, patterns: frozenset[str]) -> bool:
    """``key`` is named by ``patterns`` itself or through its section."""
    return key in patterns or key.split(".", 1)[0] in patterns
