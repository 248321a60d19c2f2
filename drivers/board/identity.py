"""The board identity block stored in the AT24 EEPROM (our own layout, version 1).

=======  =====  ==========================================================
offset   size   content
=======  =====  ==========================================================
0        4      magic ``LFB1``
4        1      layout version (1)
5        16     serial number, ASCII, NUL-padded
21       16     model, ASCII, NUL-padded
37       1      hardware revision
38       1      number of lifeline pairs N (1-8)
39       3*N    per pair: coil bit (expander port 0), contact bit and
                hook bit (port 1)
39+3N    2      CRC-16/CCITT-FALSE of bytes 0 .. 38+3N, big-endian
=======  =====  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.board.errors import BoardInitError

MAGIC = b"LFB1"
VERSION = 1
MAX_PAIRS = 8


@dataclass(frozen=True)
class PairPins:
    coil: int
    contact: int
    hook: int


@dataclass(frozen=True)
class BoardIdentity:
    serial: str
    model: str
    revision: int
    pairs: tuple[PairPins, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "serial": self.serial, "model": self.model, "revision": self.revision,
            "pairs": [{"coil": p.coil, "contact": p.contact, "hook": p.hook} for p in self.pairs],
        }


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encoded_length(pairs: int) -> int:
    return 39 + 3 * pairs + 2


def encode(identity: BoardIdentity) -> bytes:
    if not 1 <= len(identity.pairs) <= MAX_PAIRS:
        raise ValueError(f"a board has 1-{MAX_PAIRS} lifeline pairs, not {len(identity.pairs)}")
    body = bytearray(MAGIC)
    body.append(VERSION)
    body += identity.serial.encode("ascii")[:16].ljust(16, b"\0")
    body += identity.model.encode("ascii")[:16].ljust(16, b"\0")
    body.append(identity.revision & 0xFF)
    body.append(len(identity.pairs))
    for pair in identity.pairs:
        for bit in (pair.coil, pair.contact, pair.hook):
            if not 0 <= bit <= 7:
                raise ValueError(f"pin bit {bit} is not 0-7")
        body += bytes([pair.coil, pair.contact, pair.hook])
    return bytes(body) + crc16_ccitt(bytes(body)).to_bytes(2, "big")


def decode(data: bytes) -> BoardIdentity:
    """Parse an identity block; raises BoardInitError saying what is wrong with the EEPROM."""
    if len(data) < 41 or data[:4] != MAGIC:
        raise BoardInitError(
            f"board EEPROM: no identity (magic {bytes(data[:4])!r}, expected {MAGIC!r}); "
            "the board is blank or not a lifeline board"
        )
    if data[4] != VERSION:
        raise BoardInitError(f"board EEPROM: identity layout {data[4]} unknown (this software: 1)")
    count = data[38]
    if not 1 <= count <= MAX_PAIRS or len(data) < encoded_length(count):
        raise BoardInitError(f"board EEPROM: pair count {count} is invalid")
    end = 39 + 3 * count
    stored = int.from_bytes(data[end : end + 2], "big")
    if crc16_ccitt(bytes(data[:end])) != stored:
        raise BoardInitError("board EEPROM: identity checksum mismatch (corrupt EEPROM)")
    pairs = []
    for i in range(count):
        coil, contact, hook = data[39 + 3 * i : 42 + 3 * i]
        if max(coil, contact, hook) > 7:
            raise BoardInitError(f"board EEPROM: pair {i} names a pin beyond bit 7")
        pairs.append(PairPins(coil, contact, hook))
    return BoardIdentity(
        serial=bytes(data[5:21]).rstrip(b"\0").decode("ascii", "replace"),
        model=bytes(data[21:37]).rstrip(b"\0").decode("ascii", "replace"),
        revision=data[37],
        pairs=tuple(pairs),
    )
