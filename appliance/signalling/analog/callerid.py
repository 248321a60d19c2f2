"""Caller ID messages (the presentation layer; the FSK/DTMF physical layer is the media engine's).

FSK messages, Bell (GR-30-CORE) and ETSI (EN 300 659-3) share one layout::

    message type | message length | parameters... | checksum

* SDMF (Bell, type 0x04): 8 digits date/time (MMDDHHMM) then the number.
* MDMF (Bell and ETSI "call set-up", type 0x80, EN 300 659-3 §5.2): TLV
  parameters; 0x01 date and time (MMDDHHMM), 0x02 calling line identity,
  0x04 reason for absence of calling line identity ('O' unavailable,
  'P' private), 0x07 calling party name, 0x08 reason for absence of name.
* checksum: the two's complement of the modulo-256 sum of every byte before
  it (EN 300 659-3 §5.3), so all bytes including it add up to 0.

DTMF caller ID (ETSI ES 200 778-1 annex, as used in the Netherlands and
Denmark): ``A`` + number + ``C``; ``D`` + code + ``C`` for no number
(``D1`` private, ``D2``/``D3`` unavailable).
"""

from __future__ import annotations

from dataclasses import dataclass

SDMF_TYPE = 0x04
MDMF_TYPE = 0x80
P_DATETIME = 0x01
P_NUMBER = 0x02
P_NUMBER_ABSENT = 0x04
P_NAME = 0x07
P_NAME_ABSENT = 0x08

_ABSENCE = {"O": "unavailable", "P": "private"}


class CallerIdError(ValueError):
    """A caller-ID message that cannot be trusted (garbled, bad checksum, truncated)."""


@dataclass(frozen=True)
class CallerId:
    number: str = ""
    name: str = ""
    datetime: str = ""  # MMDDHHMM as sent
    absence: str = ""  # "private" / "unavailable" when no number was sent

    def as_dict(self) -> dict[str, str]:
        return {"number": self.number, "name": self.name, "datetime": self.datetime,
                "absence": self.absence}


def checksum(body: bytes) -> int:
    return (-sum(body)) & 0xFF


def _text(value: bytes, what: str) -> str:
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise CallerIdError(f"{what} is not ASCII: {value!r}") from None
    if not text.isprintable():
        raise CallerIdError(f"{what} has control characters: {value!r}")
    return text


def parse_fsk(message: bytes) -> CallerId:
    """Parse one complete FSK caller-ID message (type, length, body, checksum)."""
    if len(message) < 3:
        raise CallerIdError(f"caller ID message of {len(message)} bytes is too short")
    kind, length = message[0], message[1]
    if len(message) < length + 3:
        raise CallerIdError(
            f"caller ID message truncated: length byte says {length}, got {len(message) - 3}")
    frame = message[: length + 3]
    if sum(frame) & 0xFF:
        raise CallerIdError(f"caller ID checksum wrong (message {frame.hex()})")
    body = frame[2: 2 + length]
    if kind == SDMF_TYPE:
        if length < 8:
            raise CallerIdError("SDMF message shorter than its date/time field")
        date = _text(body[:8], "SDMF date/time")
        rest = _text(body[8:], "SDMF number")
        if rest in _ABSENCE:
            return CallerId(datetime=date, absence=_ABSENCE[rest])
        return CallerId(number=rest, datetime=date)
    if kind != MDMF_TYPE:
        raise CallerIdError(f"caller ID message type 0x{kind:02x} is not call set-up")
    fields: dict[int, bytes] = {}
    i = 0
    while i < len(body):
        if i + 2 > len(body) or i + 2 + body[i + 1] > len(body):
            raise CallerIdError(f"caller ID parameter at offset {i} runs past the message")
        ptype, plen = body[i], body[i + 1]
        fields[ptype] = body[i + 2: i + 2 + plen]
        i += 2 + plen
    absence = ""
    if P_NUMBER_ABSENT in fields:
        absence = _ABSENCE.get(_text(fields[P_NUMBER_ABSENT], "absence reason"), "unavailable")
    return CallerId(
        number=_text(fields.get(P_NUMBER, b""), "calling line identity"),
        name=_text(fields.get(P_NAME, b""), "calling party name"),
        datetime=_text(fields.get(P_DATETIME, b""), "date/time"),
        absence=absence,
    )


def build_mdmf(cid: CallerId) -> bytes:
    """An MDMF call set-up message (Bell and ETSI) with checksum."""
    body = b""
    if cid.datetime:
        body += bytes([P_DATETIME, len(cid.datetime)]) + cid.datetime.encode("ascii")
    if cid.number:
        body += bytes([P_NUMBER, len(cid.number)]) + cid.number.encode("ascii")
    else:
        reason = "P" if cid.absence == "private" else "O"
        body += bytes([P_NUMBER_ABSENT, 1]) + reason.encode("ascii")
    if cid.name:
        body += bytes([P_NAME, len(cid.name)]) + cid.name.encode("ascii")
    if len(body) > 255:
        raise CallerIdError("caller ID message longer than 255 bytes")
    head = bytes([MDMF_TYPE, len(body)]) + body
    return head + bytes([checksum(head)])


def build_sdmf(cid: CallerId) -> bytes:
    """A Bell SDMF message: date/time then number (or 'P'/'O')."""
    number = cid.number or ("P" if cid.absence == "private" else "O")
    body = (cid.datetime or "01010000").encode("ascii") + number.encode("ascii")
    head = bytes([SDMF_TYPE, len(body)]) + body
    return head + bytes([checksum(head)])


def parse_dtmf(digits: str) -> CallerId:
    """Parse a DTMF caller-ID string such as ``A0201234567C``."""
    if len(digits) < 2 or digits[0] not in "AD" or digits[-1] not in "C#":
        raise CallerIdError(f"DTMF caller ID {digits!r}: expected A<number>C or D<code>C")
    inner = digits[1:-1]
    if not inner.isdigit():
        raise CallerIdError(f"DTMF caller ID {digits!r}: non-digit inside")
    if digits[0] == "D":
        return CallerId(absence="private" if inner == "1" else "unavailable")
    return CallerId(number=inner)


def build_dtmf(cid: CallerId) -> str:
    if cid.number:
        return f"A{cid.number}C"
    return "D1C" if cid.absence == "private" else "D3C"
