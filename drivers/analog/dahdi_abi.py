"""The DAHDI user ABI for analog channels, packed as ``include/dahdi/user.h`` lays it out.

Only what FXO/FXS ports need: ioctl request numbers (Linux ``_IOC`` encoding,
``asm-generic/ioctl.h``: dir<<30 | size<<16 | type<<8 | nr), hook values,
event codes and the structures ``dahdi_params`` and ``dahdi_ring_cadence``.
Every ``int`` in those structures is a 32-bit native int; the structures have
no padding since all members are 4-byte aligned.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# asm-generic/ioctl.h
_IOC_NONE = 0
_IOC_WRITE = 1
_IOC_READ = 2
_INT_SIZE = 4


def _ioc(direction: int, code: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (code << 8) | nr


def _iow(code: int, nr: int, size: int) -> int:
    return _ioc(_IOC_WRITE, code, nr, size)


def _ior(code: int, nr: int, size: int) -> int:
    return _ioc(_IOC_READ, code, nr, size)


def _iowr(code: int, nr: int, size: int) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, code, nr, size)


DAHDI_CODE = 0xDA
ELAST = 500  # user.h: errno of read()/write() while a signalling event is pending

# struct dahdi_params (user.h): 12 ints, char name[40], 11 ints, __u32 chan_alarms
PARAMS_FORMAT = "=12i40s11iI"
PARAMS_SIZE = struct.calcsize(PARAMS_FORMAT)  # 136
# struct dahdi_ring_cadence: int ringcadence[DAHDI_MAX_CADENCE]
DAHDI_MAX_CADENCE = 16
CADENCE_FORMAT = f"={DAHDI_MAX_CADENCE}i"
CADENCE_SIZE = struct.calcsize(CADENCE_FORMAT)  # 64

DAHDI_SET_BLOCKSIZE = _iow(DAHDI_CODE, 1, _INT_SIZE)
DAHDI_GET_PARAMS = _iowr(DAHDI_CODE, 5, PARAMS_SIZE)
DAHDI_HOOK = _iow(DAHDI_CODE, 7, _INT_SIZE)
DAHDI_GETEVENT = _ior(DAHDI_CODE, 8, _INT_SIZE)
DAHDI_SPECIFY = _iow(DAHDI_CODE, 38, _INT_SIZE)
DAHDI_SETLINEAR = _iow(DAHDI_CODE, 40, _INT_SIZE)
DAHDI_SETCADENCE = _iow(DAHDI_CODE, 42, CADENCE_SIZE)
DAHDI_ONHOOKTRANSFER = _iow(DAHDI_CODE, 51, _INT_SIZE)
DAHDI_SETPOLARITY = _iow(DAHDI_CODE, 92, _INT_SIZE)
DAHDI_VMWI = _iowr(DAHDI_CODE, 94, _INT_SIZE)

# values for DAHDI_HOOK
DAHDI_ONHOOK = 0
DAHDI_OFFHOOK = 1
DAHDI_WINK = 2
DAHDI_FLASH = 3
DAHDI_START = 4
DAHDI_RING = 5
DAHDI_RINGOFF = 6

# events returned by DAHDI_GETEVENT
DAHDI_EVENT_NONE = 0
DAHDI_EVENT_ONHOOK = 1
DAHDI_EVENT_RINGOFFHOOK = 2
DAHDI_EVENT_WINKFLASH = 3
DAHDI_EVENT_ALARM = 4
DAHDI_EVENT_NOALARM = 5
DAHDI_EVENT_DIALCOMPLETE = 9
DAHDI_EVENT_RINGERON = 10
DAHDI_EVENT_RINGEROFF = 11
DAHDI_EVENT_HOOKCOMPLETE = 12
DAHDI_EVENT_POLARITY = 17
DAHDI_EVENT_RINGBEGIN = 18
DAHDI_EVENT_REMOVED = 20
DAHDI_EVENT_PULSEDIGIT = 1 << 16  # OR'd with the ASCII digit received
DAHDI_EVENT_DTMFDOWN = 1 << 17
DAHDI_EVENT_DTMFUP = 1 << 18

# signalling types (user.h "Signalling types")
_DAHDI_SIG_FXO = 1 << 12
_DAHDI_SIG_FXS = 1 << 13
DAHDI_SIG_FXSKS = (1 << 2) | _DAHDI_SIG_FXS  # channel faces a line (our FXO port)
DAHDI_SIG_FXOKS = (1 << 5) | _DAHDI_SIG_FXO  # channel feeds a phone (our FXS port)
DAHDI_SIG_FXSLS = (1 << 0) | _DAHDI_SIG_FXS
DAHDI_SIG_FXOLS = (1 << 3) | _DAHDI_SIG_FXO


def pack_int(value: int) -> bytes:
    return struct.pack("=i", value)


def unpack_int(buffer: bytes) -> int:
    value: int = struct.unpack("=i", buffer[:_INT_SIZE])[0]
    return value


def pack_cadence(cadence_ms: tuple[int, ...]) -> bytes:
    """``struct dahdi_ring_cadence``: on/off times in ms, zero-terminated, at most 16."""
    if len(cadence_ms) > DAHDI_MAX_CADENCE:
        raise ValueError(f"a DAHDI ring cadence has at most {DAHDI_MAX_CADENCE} entries")
    padded = list(cadence_ms) + [0] * (DAHDI_MAX_CADENCE - len(cadence_ms))
    return struct.pack(CADENCE_FORMAT, *padded)


@dataclass(frozen=True)
class DahdiParams:
    """The fields of ``struct dahdi_params`` an analog port uses."""

    channo: int
    spanno: int
    chanpos: int
    sigtype: int
    sigcap: int
    rxisoffhook: int
    name: str
    flashtime: int
    rxflashtime: int
    debouncetime: int
    chan_alarms: int

    @classmethod
    def unpack(cls, buffer: bytes) -> DahdiParams:
        if len(buffer) < PARAMS_SIZE:
            raise ValueError(f"dahdi_params is {PARAMS_SIZE} bytes, got {len(buffer)}")
        v = struct.unpack(PARAMS_FORMAT, buffer[:PARAMS_SIZE])
        # 0 channo 1 spanno 2 chanpos 3 sigtype 4 sigcap 5 rxisoffhook 6 rxbits 7 txbits
        # 8 txhooksig 9 rxhooksig 10 curlaw 11 idlebits 12 name
        # 13 prewinktime 14 preflashtime 15 winktime 16 flashtime 17 starttime
        # 18 rxwinktime 19 rxflashtime 20 debouncetime 21 pulsebreaktime
        # 22 pulsemaketime 23 pulseaftertime 24 chan_alarms
        name = v[12].split(b"\0", 1)[0].decode("ascii", "replace")
        return cls(channo=v[0], spanno=v[1], chanpos=v[2], sigtype=v[3], sigcap=v[4],
                   rxisoffhook=v[5], name=name, flashtime=v[16], rxflashtime=v[19],
                   debouncetime=v[20], chan_alarms=v[24])

    @staticmethod
    def request(channo: int = 0) -> bytes:
        """A zeroed buffer for DAHDI_GET_PARAMS (channo 0: the specified channel)."""
        return struct.pack(PARAMS_FORMAT, channo, *([0] * 11), b"", *([0] * 11), 0)
