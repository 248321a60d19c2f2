"""Rig files: which simulator (or real instrument) stands behind each appliance port.

A rig is a short TOML file in the manner of labgrid's environment files::

    name = "demo"
    description = "one E1 span, two analog lines, UPS and board"

    [[simulators]]
    name = "loop1"          # process name; its control socket is RUN_DIR/loop1.ctl
    device = "loopplug"     # a module of hil.sim (hil.sim.DEVICES)
    options = { delay = 0.0 }
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from appliance.config.errors import ConfigError, ConfigErrors
from appliance.config.locate import LineLocator
from appliance.config.validate import Problem, build, dotted, setting
from hil.sim import DEVICES


def _known_device(value: object) -> str | None:
    if value not in DEVICES:
        return f"unknown device {value!r}; known: {', '.join(sorted(DEVICES))}"
    return None


@dataclass(frozen=True)
class SimulatorEntry:
    name: str = setting(doc="Process name, unique in the rig", pattern=r"[A-Za-z0-9_.-]{1,32}")
    device: str = setting(doc="Simulated device (a module of hil.sim)", check=_known_device)
    options: dict[str, Any] = setting(doc="Device options", default_factory=dict)
    start_timeout: float = setting(10.0, doc="Seconds to wait for its control socket", gt=0, le=120)


@dataclass(frozen=True)
class Rig:
    name: str = setting(doc="Rig name")
    description: str = setting("", doc="What the rig is for")
    simulators: list[SimulatorEntry] = setting(
        doc="Simulators, started in order", default_factory=list
    )


def load_rig(path: str) -> Rig:
    """Read and validate a rig file; every error is reported as FILE:LINE: key: message."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigErrors([ConfigError(path, 0, "", f"cannot read rig: {exc}")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigErrors([ConfigError(path, 1, "", f"TOML syntax: {exc}")]) from exc
    problems: list[Problem] = []
    rig = build(Rig, data, (), problems)
    if not problems:
        names = Counter(s.name for s in rig.simulators)
        problems.extend(
            Problem(("simulators", i, "name"), f"duplicate simulator name {s.name!r}")
            for i, s in enumerate(rig.simulators)
            if names[s.name] > 1
        )
    if problems:
        locator = LineLocator(text)
        raise ConfigErrors(
            [
                ConfigError(path, locator.line_of(p.path), dotted(p.path), p.message)
                for p in problems
            ]
        )
    return rig
