"""docs/configuration.md is generated from the schema and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from appliance.config.docs import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_configuration_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `.venv/bin/python -m appliance.config.docs > docs/configuration.md`"
    )


def test_every_key_is_documented() -> None:
    for line in render().splitlines():
        if line.startswith("| `"):
            assert line.rstrip(" |").split("|")[-1].strip(), f"undocumented key: {line}"
