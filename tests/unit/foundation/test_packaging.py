"""Every Python folder is a regular package, so a wheel (the image) contains it.

Regression: appliance/acd and appliance/ivr had no __init__.py; the editable
install found them as namespace packages, but the wheel built for the
appliance image left them out and appliancectl failed to import.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[3]


def test_every_folder_with_python_modules_is_a_package_setuptools_finds() -> None:
    found = set(find_packages(str(ROOT), include=["appliance*", "drivers*", "hil*"]))
    missing = []
    for top in ("appliance", "drivers", "hil"):
        for folder in (ROOT / top).rglob("*"):
            if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py")):
                name = ".".join(folder.relative_to(ROOT).parts)
                if name not in found:
                    missing.append(name)
    assert missing == [], f"folders a wheel would leave out (add __init__.py): {missing}"
