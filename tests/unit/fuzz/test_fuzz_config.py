"""Configuration files an admin (or an attacker) might write (issue 13: fuzzing; ADM-1).

Documents are drawn from the schema itself: real section and key names, values
of the right type, the wrong type, out of range, non-finite, huge or nested.
Every one either loads or is refused with ``FILE:LINE: key: message`` errors;
nothing else may escape (a traceback here is a traceback in every appliancectl
command and an unhandled task on SIGHUP).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

import pytest
from fuzz_budget import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from appliance.config import ApplianceConfig
from appliance.config.errors import ConfigErrors
from appliance.config.load import load_config_text
from appliance.config.render import render_toml

pytestmark = pytest.mark.fuzz


def _fields(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


SECTIONS = {name: tp for name, tp in _fields(ApplianceConfig).items()
            if dataclasses.is_dataclass(tp)}

scalars = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=60),
    st.integers(4097, 6000).map(lambda n: "x" * n),  # past the 4096-character cap
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=4, unique=True)):
        keys = sorted(_fields(SECTIONS[section]))
        chosen = draw(st.lists(st.sampled_from(keys), max_size=5, unique=True)) if keys else []
        table = {key: draw(values) for key in chosen}
        if draw(st.booleans()):
            table[draw(st.text(min_size=1, max_size=12))] = draw(scalars)  # unknown key
        tree[section] = table
    return tree


def _toml(tree: dict[str, Any]) -> str:
    try:
        return render_toml(tree)
    except (ValueError, TypeError):  # not expressible in TOML (e.g. a nan the renderer refuses)
        return ""


@settings(max_examples=examples(150))
@given(documents())
@example({"power": {"rail_min_volts": math.nan}})
@example({"power": {"watchdog_interval": math.inf}})
@example({"logging": {"level": "x" * 5000}})
def test_a_schema_shaped_document_loads_or_names_every_problem(tree: dict[str, Any]) -> None:
    text = _toml(tree)
    try:
        config = load_config_text(text, "fuzz.toml")
    except ConfigErrors as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.file == "fuzz.toml" and error.line >= 1 and error.message
        return
    assert isinstance(config, ApplianceConfig)
    _assert_finite(dataclasses.asdict(config))


def _assert_finite(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for item in value.values():
            _assert_finite(item)
    elif isinstance(value, list):
        for item in value:
            _assert_finite(item)


@given(st.text(max_size=400))
@example("a = " + "[" * 100_000)
@example("a = " + "9" * 5000)
@example("[power]\nrail_min_volts = nan\n")
def test_any_text_loads_or_names_every_problem(text: str) -> None:
    try:
        load_config_text(text, "fuzz.toml")
    except ConfigErrors as exc:
        assert all(str(error).startswith("fuzz.toml:") for error in exc.errors)
