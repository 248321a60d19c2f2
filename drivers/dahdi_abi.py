"""The DAHDI kernel ABI, packed as ``include/dahdi/user.h`` lays it out: one module for
every DAHDI backend (E1/T1 spans in :mod:`drivers.span.dahdi`, FXO/FXS ports in
:mod:`drivers.analog.dahdi`).

ioctl request numbers use the Linux ``_IOC`` encoding (``asm-generic/ioctl.h``:
dir << 30 | size << 16 | type << 8 | nr) with DAHDI_CODE 0xDA, so they match the
header on x86 and ARM Linux. Structures are packed with :mod:`struct` to the
header's layouts: every ``int`` is a 32-bit native int; ``struct dahdi_spaninfo``
is ``__attribute__((packed))``; ``dahdi_params`` and ``dahdi_ring_cadence`` have no
padding since all their members are 4-byte aligned.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# asm-generic/ioctl.h
_IOC_WRITE = 1
_IOC_READ = 2
DAHDI_CODE = 0xDA


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (DAHDI_CODE << 8) | nr


def _iow(nr: int, size: int) -> int:
    return _ioc(_IOC_WRITE, nr, size)


def _ior(nr: int, size: int) -> int:
    return _ioc(_IOC_READ, nr, size)


def _iowr(nr: int, size: int) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, nr, size)


INT = struct.Struct("=i")
ELAST = 500  # user.h: errno of read()/write() while a signalling event is pending

# ---------------------------------------------------------------- structures
# struct dahdi_spaninfo (packed): see user.h "Get Span Status"
SPANINFO = struct.Struct("=i20s40s3i4i5I7i40s40s40s40s2i6s")
# struct dahdi_maintinfo { int spanno; int command; }
MAINTINFO = struct.Struct("=2i")
# struct dahdi_bufferinfo { txbufpolicy, rxbufpolicy, numbufs, bufsize, readbufs, writebufs }
BUFFERINFO = struct.Struct("=6i")
# struct dahdi_lineconfig { int span; char name[20]; int lbo; int lineconfig; int sync; }
LINECONFIG = struct.Struct("=i20s3i")
# struct dahdi_params: 12 ints, char name[40], 11 ints, __u32 chan_alarms
PARAMS_FORMAT = "=12i40s11iI"
PARAMS_SIZE = struct.calcsize(PARAMS_FORMAT)  # 136
# struct dahdi_ring_cadence: int ringcadence[DAHDI_MAX_CADENCE]
DAHDI_MAX_CADENCE = 16
CADENCE_FORMAT = f"={DAHDI_MAX_CADENCE}i"
CADENCE_SIZE = struct.calcsize(CADENCE_FORMAT)  # 64

# ---------------------------------------------------------------- ioctl requests
DAHDI_SET_BLOCKSIZE = _iow(1, INT.size)
DAHDI_GET_PARAMS = _iowr(5, PARAMS_SIZE)
DAHDI_HOOK = _iow(7, INT.size)
DAHDI_GETEVENT = _ior(8, INT.size)
DAHDI_SPANSTAT = _iowr(10, SPANINFO.size)
DAHDI_MAINT = _iow(11, MAINTINFO.size)
DAHDI_SPANCONFIG = _iow(18, LINECONFIG.size)
DAHDI_SET_BUFINFO = _iow(27, BUFFERINFO.size)
DAHDI_AUDIOMODE = _iow(32, INT.size)
DAHDI_HDLCFCSMODE = _iow(37, INT.size)
DAHDI_SPECIFY = _iow(38, INT.size)
DAHDI_SETLINEAR = _iow(40, INT.size)
DAHDI_SETCADENCE = _iow(42, CADENCE_SIZE)
DAHDI_ONHOOKTRANSFER = _iow(51, INT.size)
DAHDI_SETPOLARITY = _iow(92, INT.size)
DAHDI_VMWI = _iowr(94, INT.size)

# ---------------------------------------------------------------- spans
# lineconfig bits (user.h DAHDI_CONFIG_*)
CONFIG_AMI = 1 << 6
CONFIG_CCS = 1 << 8
CONFIG_HDB3 = 1 << 9
CONFIG_CRC4 = 1 << 10

# alarm bits (user.h DAHDI_ALARM_*)
ALARM_RECOVER = 1 << 0
ALARM_LOOPBACK = 1 << 1
ALARM_YELLOW = 1 << 2
ALARM_RED = 1 << 3
ALARM_BLUE = 1 << 4
ALARM_NOTOPEN = 1 << 5
ALARM_LOS = 1 << 8
ALARM_LFA = 1 << 9
ALARM_LMFA = 1 << 10

# maintenance commands (user.h DAHDI_MAINT_*)
MAINT_NONE = 0
MAINT_LOCALLOOP = 1
MAINT_NETWORKLINELOOP = 2
MAINT_NETWORKPAYLOADLOOP = 13

POLICY_IMMEDIATE = 0

# ---------------------------------------------------------------- analog channels
# values for DAHDI_HOOK
DAHDI_ONHOOK = 0
DAHDI_OFFHOOK = 1
DAHDI_WINK = 2
DAHDI_FLASH = 3
DAHDI_START = 4
DAHDI_RING = 5
DAHDI_RINGOFF = 6

# signalling types (user.h "Signalling types")
_DAHDI_SIG_FXO = 1 << 12
_DAHDI_SIG_FXS = 1 << 13
DAHDI_SIG_FXSKS = (1 << 2) | _DAHDI_SIG_FXS  # channel faces a line (our FXO port)
DAHDI_SIG_FXOKS = (1 << 5) | _DAHDI_SIG_FXO  # channel feeds a phone (our FXS port)
DAHDI_SIG_FXSLS = (1 << 0) | _DAHDI_SIG_FXS
DAHDI_SIG_FXOLS = (1 << 3) | _DAHDI_SIG_FXO

# ---------------------------------------------------------------- events (DAHDI_GETEVENT)
DAHDI_EVENT_NONE = 0
DAHDI_EVENT_ONHOOK = 1
DAHDI_EVENT_RINGOFFHOOK = 2
DAHDI_EVENT_WINKFLASH = 3
DAHDI_EVENT_ALARM = 4
DAHDI_EVENT_NOALARM = 5
DAHDI_EVENT_ABORT = 6  # HDLC abort on a D-channel
DAHDI_EVENT_OVERRUN = 7
DAHDI_EVENT_BADFCS = 8
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


# ---------------------------------------------------------------- packing
def pack_int(value: int) -> bytes:
    return INT.pack(value)


def unpack_int(buffer: bytes) -> int:
    value: int = INT.unpack(buffer[:INT.size])[0]
    return value


def pack_maint(spanno: int, command: int) -> bytes:
    return MAINTINFO.pack(spanno, command)


def pack_bufinfo(numbufs: int, bufsize: int) -> bytes:
    return BUFFERINFO.pack(POLICY_IMMEDIATE, POLICY_IMMEDIATE, numbufs, bufsize, 0, 0)


def pack_lineconfig(spanno: int, lbo: int, lineconfig: int, sync: int) -> bytes:
    return LINECONFIG.pack(spanno, b"", lbo, lineconfig, sync)


def pack_spaninfo_request(spanno: int) -> bytearray:
    buf = bytearray(SPANINFO.size)
    INT.pack_into(buf, 0, spanno)
    return buf


@dataclass(frozen=True)
class SpanInfo:
    """The fields of ``struct dahdi_spaninfo`` the span driver uses."""

    spanno: int
    name: str
    desc: str
    alarms: int
    bpvcount: int
    crc4count: int
    ebitcount: int
    fascount: int
    syncsrc: int
    numchans: int
    totalchans: int
    lbo: int
    lineconfig: int
    spantype: str


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def unpack_spaninfo(data: bytes) -> SpanInfo:
    (spanno, name, desc, alarms, _txlevel, _rxlevel, bpv, crc4, ebit, fas, _fe, _cv, _be,
     _prbs, _errsec, _irqmisses, syncsrc, numchans, totalchans, _totalspans, lbo, lineconfig,
     _lboname, _location, _manufacturer, _devicetype, _irq, _linecompat,
     spantype) = SPANINFO.unpack(data)
    return SpanInfo(spanno, _cstr(name), _cstr(desc), alarms, bpv, crc4, ebit, fas, syncsrc,
                    numchans, totalchans, lbo, lineconfig, _cstr(spantype))


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
