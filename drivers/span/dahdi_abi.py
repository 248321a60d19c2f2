"""DAHDI kernel ABI: ioctl numbers and structure layouts from ``include/dahdi/user.h``.

Numbers are built with the Linux ``_IOC`` encoding (asm-generic/ioctl.h:
dir << 30 | size << 16 | type << 8 | nr) from DAHDI_CODE 0xDA, so they match
the header on x86/ARM Linux. Structures are packed with :mod:`struct` to the
header's layouts; ``struct dahdi_spaninfo`` is ``__attribute__((packed))``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

DAHDI_CODE = 0xDA
_IOC_WRITE = 1
_IOC_READ = 2


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (DAHDI_CODE << 8) | nr


def _iow(nr: int, size: int) -> int:
    return _ioc(_IOC_WRITE, nr, size)


def _iowr(nr: int, size: int) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, nr, size)


def _ior(nr: int, size: int) -> int:
    return _ioc(_IOC_READ, nr, size)


INT = struct.Struct("=i")

# struct dahdi_spaninfo (packed): see user.h "Get Span Status"
SPANINFO = struct.Struct("=i20s40s3i4i5I7i40s40s40s40s2i6s")
# struct dahdi_maintinfo { int spanno; int command; }
MAINTINFO = struct.Struct("=2i")
# struct dahdi_bufferinfo { txbufpolicy, rxbufpolicy, numbufs, bufsize, readbufs, writebufs }
BUFFERINFO = struct.Struct("=6i")
# struct dahdi_lineconfig { int span; char name[20]; int lbo; int lineconfig; int sync; }
LINECONFIG = struct.Struct("=i20s3i")

DAHDI_SET_BLOCKSIZE = _iow(1, INT.size)
DAHDI_GETEVENT = _ior(8, INT.size)
DAHDI_SPANSTAT = _iowr(10, SPANINFO.size)
DAHDI_MAINT = _iow(11, MAINTINFO.size)
DAHDI_SPANCONFIG = _iow(18, LINECONFIG.size)
DAHDI_SET_BUFINFO = _iow(27, BUFFERINFO.size)
DAHDI_AUDIOMODE = _iow(32, INT.size)
DAHDI_HDLCFCSMODE = _iow(37, INT.size)
DAHDI_SPECIFY = _iow(38, INT.size)
DAHDI_SETLINEAR = _iow(40, INT.size)

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

# events returned by DAHDI_GETEVENT (user.h DAHDI_EVENT_*)
EVENT_NONE = 0
EVENT_ALARM = 4
EVENT_NOALARM = 5
EVENT_ABORT = 6
EVENT_OVERRUN = 7
EVENT_BADFCS = 8
EVENT_REMOVED = 20

ELAST = 500  # read() fails with this errno while an event is pending on the channel
POLICY_IMMEDIATE = 0


def pack_int(value: int) -> bytes:
    return INT.pack(value)


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
