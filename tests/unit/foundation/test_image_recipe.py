"""The image ships a configuration that validates, and a recipe the shell accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from appliance.config import load_config

IMAGE = Path(__file__).resolve().parents[3] / "image"


def test_shipped_configuration_validates_and_describes_a_90_seat_site() -> None:
    config = load_config(str(IMAGE / "overlay" / "etc" / "appliance" / "appliance.toml"))
    assert [s.address for s in config.rig.spans] == ["dahdi:1", "dahdi:2", "dahdi:3"]  # SCALE-1: 3 x E1
    assert {p.kind for p in config.rig.ports} == {"fxo", "fxs"}
    assert config.rig.board.startswith("i2c:") and config.rig.ups.startswith("nut://")


def test_build_script_is_valid_shell() -> None:
    assert subprocess.run(["sh", "-n", str(IMAGE / "build")], capture_output=True).returncode == 0
