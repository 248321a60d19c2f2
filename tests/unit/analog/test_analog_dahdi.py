"""DAHDI backend against the layouts of dahdi/user.h, ioctl mocked at the FFI boundary."""

from __future__ import annotations

import errno
import os
import struct

import pytest

from drivers import dahdi_abi as abi
from drivers.analog.base import PortEventType
from drivers.analog.dahdi import DahdiFxoPort, DahdiFxsPort, decode_fxo_event, decode_fxs_event
from drivers.analog.errors import AnalogPortError, AnalogPortInitError, DahdiAbsentError
from drivers.registry import DeviceAddress


def test_ioctl_numbers_follow_linux_ioc_encoding() -> None:
    # _IOW('\xDA', 7, int): dir=1 << 30 | sizeof(int)=4 << 16 | 0xDA << 8 | 7
    assert abi.DAHDI_HOOK == 0x4004DA07
    assert abi.DAHDI_GETEVENT == 0x8004DA08  # _IOR
    assert abi.DAHDI_SPECIFY == 0x4004DA26
    assert abi.DAHDI_SETLINEAR == 0x4004DA28
    assert abi.DAHDI_SETCADENCE == 0x4040DA2A  # struct of 16 ints = 64 bytes
    assert abi.DAHDI_GET_PARAMS == 0xC088DA05  # _IOWR, struct dahdi_params = 136 bytes
    assert abi.DAHDI_SETPOLARITY == 0x4004DA5C
    assert abi.DAHDI_VMWI == 0xC004DA5E


def test_structure_sizes_match_the_header() -> None:
    assert abi.PARAMS_SIZE == 12 * 4 + 40 + 11 * 4 + 4
    assert abi.CADENCE_SIZE == 16 * 4


def test_cadence_is_packed_zero_terminated() -> None:
    packed = abi.pack_cadence((400, 200, 400, 2000))
    assert struct.unpack("=16i", packed) == (400, 200, 400, 2000) + (0,) * 12
    with pytest.raises(ValueError):
        abi.pack_cadence(tuple(range(1, 18)))


class FakeDahdi:
    """Stands in for the kernel behind ioctl(): records calls, queues events."""

    def __init__(self, sigtype: int, rxisoffhook: int = 0) -> None:
        self.sigtype = sigtype
        self.rxisoffhook = rxisoffhook
        self.calls: list[tuple[int, bytes]] = []
        self.events: list[int] = []
        self.fail: dict[int, int] = {}
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)

    def open(self, path: str) -> int:
        assert path == "/dev/dahdi/channel"
        return self.read_fd

    def ioctl(self, fd: int, request: int, arg: bytes) -> bytes:
        assert fd == self.read_fd
        self.calls.append((request, arg))
        if request in self.fail:
            raise OSError(self.fail[request], os.strerror(self.fail[request]))
        if request == abi.DAHDI_GETEVENT:
            return abi.pack_int(self.events.pop(0) if self.events else 0)
        if request == abi.DAHDI_GET_PARAMS:
            name = b"WCTDM/0/3"
            return struct.pack(abi.PARAMS_FORMAT, 4, 1, 4, self.sigtype, 0, self.rxisoffhook,
                               0, 0, 0, 0, 1, 0, name, 0, 0, 0, 750, 0, 0, 1250, 600, 0, 0, 0,
                               0)
        return arg


def _addr(text: str = "dahdi:4") -> DeviceAddress:
    return DeviceAddress.parse(text)


def test_fxo_open_specifies_the_channel_and_sets_linear_20ms_blocks() -> None:
    kernel = FakeDahdi(abi.DAHDI_SIG_FXSKS)
    port = DahdiFxoPort(_addr(), "line1", ioctl=kernel.ioctl, open_device=kernel.open)
    params = abi.DahdiParams.unpack(kernel.ioctl(kernel.read_fd, abi.DAHDI_GET_PARAMS, b""))
    assert (params.name, params.flashtime, params.rxflashtime, params.debouncetime) == (
        "WCTDM/0/3", 750, 1250, 600)
    requests = [(r, abi.unpack_int(a)) for r, a in kernel.calls[:3]]
    assert requests == [(abi.DAHDI_SPECIFY, 4), (abi.DAHDI_SET_BLOCKSIZE, 160),
                        (abi.DAHDI_SETLINEAR, 1)]
    port.set_hook(True)
    port.flash(100)
    port.set_hook(False)
    hooks = [abi.unpack_int(a) for r, a in kernel.calls if r == abi.DAHDI_HOOK]
    assert hooks == [abi.DAHDI_OFFHOOK, abi.DAHDI_FLASH, abi.DAHDI_ONHOOK]
    assert port.status()["channel"] == 4
    port.close()
    port.close()  # safe twice


def test_fxo_events_are_decoded_and_tracked() -> None:
    kernel = FakeDahdi(abi.DAHDI_SIG_FXSKS)
    port = DahdiFxoPort(_addr(), "line1", ioctl=kernel.ioctl, open_device=kernel.open)
    kernel.events = [abi.DAHDI_EVENT_RINGBEGIN, abi.DAHDI_EVENT_RINGEROFF,
                     abi.DAHDI_EVENT_POLARITY, abi.DAHDI_EVENT_ONHOOK, 99]
    types = [e.type for e in port.poll_events()]
    assert types == [PortEventType.RING_BEGIN, PortEventType.RING_END,
                     PortEventType.POLARITY_REVERSAL, PortEventType.BATTERY_LOST]
    assert port.polarity_reversed and not port.battery and not port.ringing
    port.close()


def test_fxs_events_include_pulse_digits_or_ed_with_the_digit() -> None:
    assert decode_fxs_event(abi.DAHDI_EVENT_PULSEDIGIT | ord("7"))[0].digit == "7"
    assert decode_fxs_event(abi.DAHDI_EVENT_WINKFLASH)[0].type is PortEventType.FLASH
    assert decode_fxs_event(abi.DAHDI_EVENT_RINGOFFHOOK)[0].type is PortEventType.OFF_HOOK
    assert decode_fxo_event(abi.DAHDI_EVENT_NOALARM)[1].type is PortEventType.BATTERY_RESTORED
    assert decode_fxs_event(12345) == []


def test_fxs_ring_cadence_polarity_and_mwi_ioctls() -> None:
    kernel = FakeDahdi(abi.DAHDI_SIG_FXOKS)
    port = DahdiFxsPort(_addr("dahdi:9"), "phone1", ioctl=kernel.ioctl, open_device=kernel.open)
    port.set_cadence((1000, 4000))
    port.ring(True)
    port.set_polarity(True)
    port.set_mwi(2)
    port.on_hook_transfer(1200)
    sent = {r: a for r, a in kernel.calls}
    assert abi.unpack_int(sent[abi.DAHDI_ONHOOKTRANSFER]) == 1200
    assert struct.unpack("=16i", sent[abi.DAHDI_SETCADENCE])[:3] == (1000, 4000, 0)
    assert abi.unpack_int(sent[abi.DAHDI_HOOK]) == abi.DAHDI_RING
    assert abi.unpack_int(sent[abi.DAHDI_SETPOLARITY]) == 1
    assert abi.unpack_int(sent[abi.DAHDI_VMWI]) == 2
    kernel.events = [abi.DAHDI_EVENT_RINGOFFHOOK]
    port.poll_events()
    assert port.off_hook and port.status()["mwi"] == 2
    port.close()


def test_audio_is_read_as_linear_160_sample_blocks() -> None:
    kernel = FakeDahdi(abi.DAHDI_SIG_FXSKS)
    port = DahdiFxoPort(_addr(), "line1", ioctl=kernel.ioctl, open_device=kernel.open)
    assert port.read_frame() is None  # nothing waiting: non-blocking
    os.write(kernel.write_fd, struct.pack("<160h", *range(-80, 80)))
    frame = port.read_frame()
    assert frame is not None and frame[0] == -80 and frame[-1] == 79
    port.close()


def test_dahdi_absent_is_said_plainly() -> None:
    def no_device(path: str) -> int:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)

    with pytest.raises(DahdiAbsentError, match="DAHDI is not loaded"):
        DahdiFxoPort(_addr(), "line1", open_device=no_device)


def test_real_open_here_reports_dahdi_absent_when_no_device() -> None:
    if os.path.exists("/dev/dahdi/channel"):
        pytest.fail("this test expects a machine without DAHDI")
    with pytest.raises(DahdiAbsentError):
        DahdiFxsPort(_addr(), "phone1")


def test_wrong_signalling_and_bad_channel_are_init_errors() -> None:
    kernel = FakeDahdi(abi.DAHDI_SIG_FXOKS)
    with pytest.raises(AnalogPortInitError, match=r"system\.conf"):
        DahdiFxoPort(_addr(), "line1", ioctl=kernel.ioctl, open_device=kernel.open)
    with pytest.raises(AnalogPortInitError, match="channel number"):
        DahdiFxoPort(_addr("dahdi:x"), "line1", ioctl=kernel.ioctl, open_device=kernel.open)


def test_failed_ioctl_names_the_request() -> None:
    kernel = FakeDahdi(abi.DAHDI_SIG_FXSKS)
    port = DahdiFxoPort(_addr(), "line1", ioctl=kernel.ioctl, open_device=kernel.open)
    kernel.fail[abi.DAHDI_HOOK] = errno.EBUSY
    with pytest.raises(AnalogPortError, match="DAHDI_HOOK OFFHOOK failed"):
        port.set_hook(True)
    port.close()
