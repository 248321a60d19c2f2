"""Caller ID (CLIP) generation and decoding: FSK (SDMF/MDMF) and DTMF.

Data link layer (ETSI EN 300 659-3 §5, Telcordia GR-30-CORE §5.3):
message type, message length, message body, checksum (the two's complement
of the modulo-256 sum of all preceding octets, so that everything sums to 0).

* SDMF (GR-30 §5.3.2): type 0x04, body = date-time ``MMDDHHMM`` followed by the
  number, or ``O`` (unavailable) / ``P`` (private).
* MDMF (EN 300 659-3 §5.2, GR-30 §5.3.3): type 0x80 (call set-up), body =
  parameters ``type, length, value``: 0x01 date-time, 0x02 calling line
  identity, 0x04 reason for absence of number, 0x07 name, 0x08 reason for
  absence of name.

Physical layer (EN 300 659-1 §6.1 / GR-30 §3): channel seizure (alternating
0/1, 300 bits), mark signal (ETSI 80 bits, Bell 180 bits), then the message in
8N1 characters. Profiles: ``bell202`` (North America), ``etsi`` (V.23) and
``cn`` (China YDN 069: Bell 202 frequencies, seizure and mark as Bell,
SDMF or MDMF). A damaged burst gives a :class:`CallerIdError` with
``kind`` 'checksum', 'format' or 'carrier'; a number is returned only when the
checksum and the structure are right.

DTMF caller ID (ETSI ES 200 778-1 Annex / EN 300 659-1 Annex B practice):
``A`` number ``C``; ``D`` + code for absence: ``D1`` private, ``D2``... we map
``B00``/``D3`` unavailable ('O') and ``B10``/``D1`` private ('P').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import SAMPLE_RATE
from appliance.media.dsp.dtmf import detect_digits, dtmf_generate
from appliance.media.dsp.fsk import (
    BELL202,
    V23,
    FskModem,
    carrier_present,
    fsk_discriminate,
    fsk_modulate,
    uart_bits,
    uart_decode,
)
from appliance.media.dsp.levels import sine_power

SDMF_TYPE = 0x04
MDMF_TYPE = 0x80
PARAM_DATETIME = 0x01
PARAM_NUMBER = 0x02
PARAM_NUMBER_ABSENT = 0x04
PARAM_NAME = 0x07
PARAM_NAME_ABSENT = 0x08

Profile = Literal["bell202", "etsi", "cn"]
_PROFILES: dict[str, tuple[FskModem, int, int]] = {
    # modem, seizure bits, mark bits
    "bell202": (BELL202, 300, 180),  # GR-30 §3.1.2
    "etsi": (V23, 300, 80),  # EN 300 659-1 §6.1.1/§6.1.2 (80 +/- 25 mark bits)
    "cn": (BELL202, 300, 180),
}


class CallerIdError(ValueError):
    """A caller ID burst that cannot be trusted; ``kind`` says why."""

    def __init__(self, kind: Literal["checksum", "format", "carrier"], message: str) -> None:
        super().__init__(f"caller ID {kind} error: {message}")
        self.kind = kind


@dataclass(frozen=True)
class CallerId:
    number: str | None = None
    name: str | None = None
    datetime: str | None = None  # MMDDHHMM
    number_absent: str | None = None  # 'O' unavailable, 'P' private
    name_absent: str | None = None


def checksum(octets: bytes) -> int:
    """EN 300 659-3 §5.3: two's complement of the modulo-256 sum."""
    return (-sum(octets)) & 0xFF


def encode_message(cid: CallerId, fmt: Literal["sdmf", "mdmf"] = "mdmf") -> bytes:
    """Type, length, body and checksum for ``cid``."""
    if fmt == "sdmf":
        if cid.datetime is None or len(cid.datetime) != 8 or not cid.datetime.isdigit():
            raise ValueError("SDMF needs a date-time 'MMDDHHMM'")
        who = cid.number if cid.number else (cid.number_absent or "O")
        body = (cid.datetime + who).encode("ascii")
        msg_type = SDMF_TYPE
    else:
        params = []
        if cid.datetime is not None:
            params.append((PARAM_DATETIME, cid.datetime.encode("ascii")))
        if cid.number:
            params.append((PARAM_NUMBER, cid.number.encode("ascii")))
        elif cid.number_absent:
            params.append((PARAM_NUMBER_ABSENT, cid.number_absent.encode("ascii")))
        if cid.name:
            params.append((PARAM_NAME, cid.name.encode("latin-1")))
        elif cid.name_absent:
            params.append((PARAM_NAME_ABSENT, cid.name_absent.encode("ascii")))
        body = b"".join(bytes([kind, len(value)]) + value for kind, value in params)
        msg_type = MDMF_TYPE
    if len(body) > 255:
        raise ValueError(f"caller ID message body too long ({len(body)} octets)")
    head = bytes([msg_type, len(body)]) + body
    return head + bytes([checksum(head)])


def decode_message(message: bytes) -> CallerId:
    """Parse a whole message (type..checksum); CallerIdError on any fault."""
    if len(message) < 3:
        raise CallerIdError("format", f"message of {len(message)} octets is too short")
    length = message[1]
    if len(message) < length + 3:
        raise CallerIdError(
            "format", f"length says {length} octets, only {len(message) - 3} received"
        )
    message = message[: length + 3]
    if sum(message) & 0xFF:
        raise CallerIdError("checksum", f"octets sum to 0x{sum(message) & 0xFF:02X}, expected 0")
    body = message[2:-1]
    if message[0] == SDMF_TYPE:
        text = _ascii(body, "SDMF body")
        if len(text) < 9 or not text[:8].isdigit():
            raise CallerIdError("format", f"SDMF body {text!r} lacks date-time and number")
        who = text[8:]
        if who in ("O", "P"):
            return CallerId(datetime=text[:8], number_absent=who)
        _check_number(who)
        return CallerId(number=who, datetime=text[:8])
    if message[0] == MDMF_TYPE:
        fields: dict[int, str] = {}
        i = 0
        while i < len(body):
            if i + 2 > len(body) or i + 2 + body[i + 1] > len(body):
                raise CallerIdError("format", f"MDMF parameter at octet {i} runs past the message")
            kind, size = body[i], body[i + 1]
            value = body[i + 2 : i + 2 + size]
            fields[kind] = (
                value.decode("latin-1")
                if kind == PARAM_NAME
                else _ascii(value, f"parameter 0x{kind:02X}")
            )
            i += 2 + size
        number = fields.get(PARAM_NUMBER)
        if number is not None:
            _check_number(number)
        return CallerId(
            number=number,
            name=fields.get(PARAM_NAME),
            datetime=fields.get(PARAM_DATETIME),
            number_absent=fields.get(PARAM_NUMBER_ABSENT),
            name_absent=fields.get(PARAM_NAME_ABSENT),
        )
    raise CallerIdError("format", f"unknown message type 0x{message[0]:02X}")


def _ascii(raw: bytes, what: str) -> str:
    if any(b < 0x20 or b > 0x7E for b in raw):
        raise CallerIdError("format", f"{what} holds non-printable octets")
    return raw.decode("ascii")


def _check_number(number: str) -> None:
    if not number or any(ch not in "0123456789*#+ABCD" for ch in number):
        raise CallerIdError("format", f"number {number!r} holds characters that are not digits")


def fsk_burst(
    message: bytes, profile: Profile = "bell202", dbm0: float = -13.0
) -> npt.NDArray[np.int16]:
    """Seizure, mark signal and message as audio (EN 300 659-1 §6.1, GR-30 §3)."""
    modem, seizure, marks = _PROFILES[profile]
    bits = np.concatenate(
        [
            np.tile(np.array([0, 1], np.uint8), seizure // 2),
            np.ones(marks, np.uint8),
            uart_bits(message),
            np.ones(8, np.uint8),  # a few mark bits so the last stop bit is whole
        ]
    )
    return fsk_modulate(bits, modem, dbm0)


def generate_fsk(
    cid: CallerId,
    profile: Profile = "bell202",
    fmt: Literal["sdmf", "mdmf"] = "mdmf",
    dbm0: float = -13.0,
) -> npt.NDArray[np.int16]:
    return fsk_burst(encode_message(cid, fmt), profile, dbm0)


def demodulate_fsk(samples: npt.NDArray[np.int16], profile: Profile = "bell202") -> bytes:
    """The message octets (type..checksum) found in a burst; CallerIdError if none."""
    modem = _PROFILES[profile][0]
    if not carrier_present(samples, modem):
        raise CallerIdError("carrier", "no FSK carrier (burst too weak or absent)")
    decision = fsk_discriminate(samples, modem)
    # The message starts at the first start bit after >= 10 bit times of steady mark.
    spb = modem.samples_per_bit
    mark = decision > 0.3
    run = 0
    start = None
    for i, is_mark in enumerate(mark):
        run = run + 1 if is_mark else 0
        if run >= int(10 * spb):
            start = i
            break
    if start is None:
        raise CallerIdError("format", "no mark signal before the message")
    chars = uart_decode(decision, modem, start=start, max_gap_bits=20)
    if len(chars) < 3:
        raise CallerIdError("format", f"only {len(chars)} characters after the mark signal")
    wanted = chars[1].value + 3
    if len(chars) < wanted:
        raise CallerIdError("format", f"message cut short: {len(chars)} of {wanted} octets")
    if not all(c.framing_ok for c in chars[:wanted]):
        raise CallerIdError("format", "stop bit missing (framing error)")
    return bytes(c.value for c in chars[:wanted])


def decode_fsk(samples: npt.NDArray[np.int16], profile: Profile = "bell202") -> CallerId:
    """Demodulate and parse a burst; CallerIdError('checksum'|'format'|'carrier') if unsure."""
    return decode_message(demodulate_fsk(samples, profile))


_ABSENT_CODES = {"B00": "O", "B10": "P", "D3": "O", "D1": "P"}


def generate_dtmf(cid: CallerId, on_ms: int = 70, off_ms: int = 70) -> npt.NDArray[np.int16]:
    """DTMF caller ID: ``A<number>C``, or ``B00C``/``B10C`` for unavailable/private."""
    if cid.number:
        _check_number(cid.number)
        text = "A" + cid.number + "C"
    else:
        text = ("B10" if cid.number_absent == "P" else "B00") + "C"
    return dtmf_generate(text, on_ms=on_ms, off_ms=off_ms, lead_ms=40)


def decode_dtmf(samples: npt.NDArray[np.int16]) -> CallerId:
    """Parse DTMF caller ID; CallerIdError('format') when the framing is wrong."""
    digits = detect_digits(samples)
    return parse_dtmf_digits(digits)


def parse_dtmf_digits(digits: str) -> CallerId:
    if not digits.endswith("C") or len(digits) < 3:
        raise CallerIdError("format", f"DTMF caller ID {digits!r} does not end with C")
    body = digits[:-1]
    if body in _ABSENT_CODES:
        return CallerId(number_absent=_ABSENT_CODES[body])
    if body[0] in "AD" and body[1:].isdigit():
        return CallerId(number=body[1:])
    raise CallerIdError("format", f"DTMF caller ID {digits!r} is not A<digits>C")


def burst_seconds(samples: npt.NDArray[np.int16]) -> float:
    return len(samples) / SAMPLE_RATE


class FskCallerIdReceiver:
    """Streaming FSK caller ID for one line, fed 160-sample frames (e.g. an FXO port).

    Frames are collected from the first frame with energy (the channel
    seizure) until the line has been quiet for ``quiet_frames`` frames; the
    burst is then decoded. ``feed`` returns None while listening, then the
    :class:`CallerId` or the :class:`CallerIdError` for the burst. Bursts
    shorter than ``min_ms`` (a ring transient, a click) are ignored.
    """

    def __init__(
        self,
        profile: Profile = "cn",
        *,
        min_level_dbm0: float = -45.0,
        quiet_frames: int = 3,
        min_ms: int = 200,
        max_ms: int = 3000,
    ) -> None:
        self.profile: Profile = profile
        self._threshold = sine_power(min_level_dbm0)
        self._quiet_frames = quiet_frames
        self._min_frames = min_ms // 20
        self._max_frames = max_ms // 20
        self._frames: list[npt.NDArray[np.int16]] = []
        self._quiet = 0

    def reset(self) -> None:
        self._frames.clear()
        self._quiet = 0

    def feed(self, frame: npt.NDArray[np.int16]) -> CallerId | CallerIdError | None:
        loud = float(np.mean(frame.astype(np.float64) ** 2)) >= self._threshold
        if not self._frames:
            if loud:
                self._frames.append(frame.copy())
            return None
        self._frames.append(frame.copy())
        self._quiet = 0 if loud else self._quiet + 1
        if self._quiet < self._quiet_frames and len(self._frames) < self._max_frames:
            return None
        burst = np.concatenate(self._frames)
        frames = len(self._frames) - self._quiet
        self.reset()
        if frames < self._min_frames:
            return None
        try:
            return decode_fsk(burst, self.profile)
        except CallerIdError as exc:
            return exc
