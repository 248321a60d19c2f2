"""One convention across the driver seam (issue 12): every device class names its backends
in a ``BackendRegistry`` called REGISTRY (FXO_/FXS_ for the two analog kinds), and one
error class means one thing everywhere."""

from __future__ import annotations

import importlib

import pytest

import drivers.analog
import drivers.span
from drivers import dahdi_abi
from drivers.errors import AddressError, DahdiAbsentError, DriverInitError
from drivers.registry import BackendRegistry, DeviceAddress

REGISTRIES = {
    "drivers.span": ["REGISTRY"],
    "drivers.analog": ["FXO_REGISTRY", "FXS_REGISTRY"],
    "drivers.board": ["REGISTRY"],
    "drivers.ups": ["REGISTRY"],
    "drivers.watchdog": ["REGISTRY"],
}


@pytest.mark.parametrize("package", sorted(REGISTRIES))
def test_every_device_class_names_its_backends_in_one_registry(package: str) -> None:
    module = importlib.import_module(package)
    for name in REGISTRIES[package]:
        registry = getattr(module, name)
        assert isinstance(registry, BackendRegistry)
        assert "sim" in registry.schemes  # every class has its simulator backend
        with pytest.raises(AddressError, match="unknown scheme 'nope'"):
            registry.resolve(DeviceAddress.parse("nope:1"))


def test_dahdi_absent_is_one_class_for_spans_and_ports() -> None:
    from drivers.analog.errors import DahdiAbsentError as analog_absent
    from drivers.span.errors import DahdiAbsentError as span_absent

    assert span_absent is analog_absent is DahdiAbsentError
    assert issubclass(DahdiAbsentError, DriverInitError)
    assert drivers.span.open_span and drivers.analog.open_analog  # the packages load


def test_both_dahdi_backends_share_the_one_abi() -> None:
    from drivers.analog import dahdi as analog_dahdi
    from drivers.span import dahdi as span_dahdi

    assert span_dahdi.abi is analog_dahdi.abi is dahdi_abi
    # user.h: DAHDI_GETEVENT = _IOR(DAHDI_CODE, 8, int)
    assert dahdi_abi.DAHDI_GETEVENT == (2 << 30) | (4 << 16) | (0xDA << 8) | 8
