"""pcap of a D-channel as LINKTYPE_LINUX_LAPD (177), readable by Wireshark/tshark.

Each record carries the 16-octet sll-style LAPD pseudo header (tcpdump
LINKTYPE_LINUX_LAPD): packet type (0 = received by us, 4 = sent by us),
ARPHRD_LAPD (0x0339), address length 1, 8 octets of address whose first
octet is 1 when the capturing side is the network (so C/R bits decode right),
and protocol ETH_P_LAPD (0x0030). The frame follows without its FCS.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

LINKTYPE_LINUX_LAPD = 177
ARPHRD_LAPD = 0x0339
ETH_P_LAPD = 0x0030
PACKET_HOST = 0  # received
PACKET_OUTGOING = 4  # sent


def lapd_pseudo_header(outgoing: bool, we_network: bool) -> bytes:
    address = bytes([1 if we_network else 0]) + bytes(7)
    return struct.pack(">HHH8sH", PACKET_OUTGOING if outgoing else PACKET_HOST, ARPHRD_LAPD, 1,
                       address, ETH_P_LAPD)


class LapdPcapWriter:
    """Appends D-channel frames to a pcap file, flushed per frame (complete after a crash)."""

    def __init__(self, path: str | Path, *, we_network: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.we_network = we_network
        self._clock = clock
        self._file: BinaryIO | None = self.path.open("wb")
        # pcap global header: magic, v2.4, thiszone, sigfigs, snaplen, linktype
        self._file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535,
                                     LINKTYPE_LINUX_LAPD))
        self._file.flush()
        self.frames = 0

    def write(self, frame: bytes, *, outgoing: bool) -> None:
        if self._file is None:
            return
        now = self._clock()
        record = lapd_pseudo_header(outgoing, self.we_network) + frame
        seconds = int(now)
        micros = round((now - seconds) * 1e6) % 1_000_000
        self._file.write(struct.pack("<IIII", seconds, micros, len(record), len(record)))
        self._file.write(record)
        self._file.flush()
        self.frames += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
