"""The appliance image builds from this checkout and holds a working installation.

Slow (about a minute, 800 MB, Debian mirror access, root and mmdebstrap): run
it with `make test-slow`. The build itself already refuses an image whose
appliancectl cannot validate the shipped configuration.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]


def test_image_builds_with_the_daemons_enabled(tmp_path: Path) -> None:
    output = tmp_path / "image.tar"
    done = subprocess.run([str(REPO / "image" / "build"), str(output)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    with tarfile.open(output) as image:
        names = set(image.getnames())
    for path in (
        "./usr/bin/appliancectl",
        "./etc/appliance/appliance.toml",
        "./etc/systemd/system/multi-user.target.wants/appliance.target",
        "./etc/systemd/system/appliance.target.wants/appliance-telephonyd.service",
        "./etc/systemd/system/appliance.target.wants/appliance-powerd.service",
        "./opt/appliance/venv/lib/python3.11/site-packages/appliance/signalling/pri/_libpri.abi3.so",
    ):
        assert path in names, f"{path} missing from the image"
