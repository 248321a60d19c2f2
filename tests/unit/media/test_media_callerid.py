"""Caller ID: FSK Bell 202 / V.23, SDMF / MDMF, checksum, DTMF caller ID."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.media.dsp.callerid import (
    CallerId,
    CallerIdError,
    FskCallerIdReceiver,
    checksum,
    decode_dtmf,
    decode_fsk,
    decode_message,
    encode_message,
    fsk_burst,
    generate_dtmf,
    generate_fsk,
    parse_dtmf_digits,
)
from appliance.media.dsp.fsk import (
    BELL202,
    V23,
    FskModem,
    fsk_discriminate,
    fsk_modulate,
    uart_bits,
    uart_decode,
)

FULL = CallerId(number="01062345678", name="ZHANG SAN", datetime="11231015")


@pytest.mark.parametrize("profile", ["bell202", "etsi", "cn"])
@pytest.mark.parametrize("fmt", ["sdmf", "mdmf"])
def test_round_trip_every_profile_and_format(profile: str, fmt: str) -> None:
    got = decode_fsk(generate_fsk(FULL, profile, fmt), profile)  # type: ignore[arg-type]
    assert got.number == FULL.number and got.datetime == FULL.datetime
    assert got.name == (FULL.name if fmt == "mdmf" else None)


def test_known_sdmf_octets_and_checksum() -> None:
    # GR-30 SDMF: 0x04, length, MMDDHHMM + number, checksum makes the sum 0 mod 256.
    msg = encode_message(CallerId(number="5551234", datetime="01011200"), "sdmf")
    assert msg[:2] == bytes([0x04, 15]) and msg[2:-1] == b"010112005551234"
    assert sum(msg) % 256 == 0 and msg[-1] == checksum(msg[:-1])


def test_private_and_unavailable() -> None:
    msg = encode_message(CallerId(datetime="01011200", number_absent="P", name_absent="P"))
    assert decode_message(msg) == CallerId(datetime="01011200", number_absent="P", name_absent="P")
    sdmf = encode_message(CallerId(datetime="01011200", number_absent="O"), "sdmf")
    assert decode_message(sdmf).number_absent == "O"


def test_corrupted_octet_is_a_checksum_error_never_a_wrong_number() -> None:
    msg = bytearray(encode_message(FULL))
    msg[10] ^= 0x01  # one digit of the number changes
    with pytest.raises(CallerIdError) as err:
        decode_fsk(fsk_burst(bytes(msg)))
    assert err.value.kind == "checksum"


def test_structural_faults_are_format_errors() -> None:
    def sealed(head: bytes) -> bytes:
        return head + bytes([checksum(head)])

    cases = [
        sealed(bytes([0x42, 3]) + b"abc"),  # unknown message type
        sealed(bytes([0x80, 4, 0x02, 9, 0x31, 0x32])),  # parameter runs past the body
        sealed(bytes([0x04, 8]) + b"01011200"),  # SDMF without a number
        sealed(bytes([0x80, 4, 0x02, 2]) + b"1X"),  # number with a letter
        bytes([0x80, 9, 1]),  # length claims more than received
    ]
    for msg in cases:
        with pytest.raises(CallerIdError) as err:
            decode_message(msg)
        assert err.value.kind == "format", msg


def test_truncated_burst_and_silence() -> None:
    burst = generate_fsk(FULL)
    with pytest.raises(CallerIdError) as err:
        decode_fsk(burst[: len(burst) * 2 // 3])
    assert err.value.kind == "format"
    with pytest.raises(CallerIdError) as err:
        decode_fsk(np.zeros(4000, np.int16))
    assert err.value.kind == "carrier"


def test_noise_and_low_level() -> None:
    rng = np.random.default_rng(11)
    burst = generate_fsk(FULL, "etsi", dbm0=-30).astype(float)
    noisy = (burst + rng.normal(0, burst.std() / 10, len(burst))).astype(np.int16)  # 20 dB SNR
    assert decode_fsk(noisy, "etsi") == FULL


@pytest.mark.parametrize("rate_error", [-0.01, 0.01])
def test_bit_rate_within_one_percent(rate_error: float) -> None:
    # EN 300 659-1 §6.1 / V.23: 1200 baud +/- 1 %.
    modem = FskModem("v23", V23.mark_hz, V23.space_hz, 1200 * (1 + rate_error))
    bits = np.concatenate(
        [np.ones(80, np.uint8), uart_bits(encode_message(FULL)), np.ones(8, np.uint8)]
    )
    samples = fsk_modulate(np.concatenate([np.tile([0, 1], 150), bits]), modem)
    assert decode_fsk(samples, "etsi") == FULL


def test_plain_uart_text_over_bell202() -> None:
    text = b"The quick brown fox 0123456789"
    samples = fsk_modulate(
        np.concatenate([np.ones(20, np.uint8), uart_bits(text), np.ones(4, np.uint8)]), BELL202
    )
    chars = uart_decode(fsk_discriminate(samples, BELL202), BELL202)
    assert bytes(c.value for c in chars) == text and all(c.framing_ok for c in chars)


def test_dtmf_caller_id() -> None:
    assert decode_dtmf(generate_dtmf(CallerId(number="13800138000"))).number == "13800138000"
    assert decode_dtmf(generate_dtmf(CallerId(number_absent="P"))).number_absent == "P"
    assert parse_dtmf_digits("D1C").number_absent == "P"
    for bad in ("A123", "A12B4C", "C"):
        with pytest.raises(CallerIdError, match="format"):
            parse_dtmf_digits(bad)


@pytest.mark.parametrize("shift", [-0.015, 0.015])
def test_carrier_frequencies_off_by_1_5_percent_still_decode(shift: float) -> None:
    modem = FskModem("v23", V23.mark_hz * (1 + shift), V23.space_hz * (1 + shift))
    bits = np.concatenate([np.tile([0, 1], 150), np.ones(80, np.uint8)])
    bits = np.concatenate([bits, uart_bits(encode_message(FULL)), np.ones(8, np.uint8)])
    assert decode_fsk(fsk_modulate(bits, modem), "etsi") == FULL


def test_level_limits_decode_at_minus_38_and_report_no_carrier_below_minus_40() -> None:
    assert decode_fsk(generate_fsk(FULL, "bell202", dbm0=-38.0)) == FULL
    with pytest.raises(CallerIdError) as err:
        decode_fsk(generate_fsk(FULL, "bell202", dbm0=-50.0))
    assert err.value.kind == "carrier"


def _stream(receiver: FskCallerIdReceiver, signal: np.ndarray) -> list[CallerId | CallerIdError]:
    n = len(signal) // 160 * 160
    out = []
    for frame in signal[:n].reshape(-1, 160):
        result = receiver.feed(frame)
        if result is not None:
            out.append(result)
    return out


def test_streaming_receiver_between_rings() -> None:
    silence = np.zeros(8000, np.int16)
    burst = generate_fsk(FULL, "cn")
    click = np.full(160, 8000, np.int16)  # a ring-trip transient: too short to be caller ID
    results = _stream(
        FskCallerIdReceiver("cn"), np.concatenate([silence, click, silence, burst, silence])
    )
    assert results == [FULL]


def test_streaming_receiver_reports_a_damaged_burst_as_an_error() -> None:
    msg = bytearray(encode_message(FULL))
    msg[5] ^= 0x40
    signal = np.concatenate(
        [np.zeros(4000, np.int16), fsk_burst(bytes(msg), "etsi"), np.zeros(4000, np.int16)]
    )
    results = _stream(FskCallerIdReceiver("etsi"), signal)
    assert len(results) == 1 and isinstance(results[0], CallerIdError)
    assert results[0].kind == "checksum"
