"""G.711 tables against an independent implementation (stdlib audioop, Python 3.11)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from drivers.span import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_CODES = np.arange(256, dtype=np.uint8)
SWEEP = np.arange(-32768, 32768, dtype=np.int16)


def test_alaw_decode_matches_audioop_for_all_256_codes() -> None:
    expected = np.frombuffer(audioop.alaw2lin(ALL_CODES.tobytes(), 2), np.int16)
    assert np.array_equal(g711.alaw_decode(ALL_CODES), expected)


def test_ulaw_decode_matches_audioop_for_all_256_codes() -> None:
    expected = np.frombuffer(audioop.ulaw2lin(ALL_CODES.tobytes(), 2), np.int16)
    assert np.array_equal(g711.ulaw_decode(ALL_CODES), expected)


def test_alaw_encode_matches_audioop_over_full_16_bit_sweep() -> None:
    expected = np.frombuffer(audioop.lin2alaw(SWEEP.tobytes(), 2), np.uint8)
    assert np.array_equal(g711.alaw_encode(SWEEP), expected)


def test_ulaw_encode_matches_audioop_over_full_16_bit_sweep() -> None:
    expected = np.frombuffer(audioop.lin2ulaw(SWEEP.tobytes(), 2), np.uint8)
    assert np.array_equal(g711.ulaw_encode(SWEEP), expected)


def test_extremes_and_silence_codes() -> None:
    # G.711 Table 1a/2a: full scale maps to the top codes, zero to the silence octet.
    assert g711.alaw_encode(np.array([32767, -32768], np.int16)).tolist() == [0xAA, 0x2A]
    assert g711.ulaw_encode(np.array([32767, -32768], np.int16)).tolist() == [0x80, 0x00]
    assert g711.alaw_encode(np.zeros(1, np.int16))[0] == g711.ALAW_SILENCE
    assert g711.ulaw_encode(np.zeros(1, np.int16))[0] == g711.ULAW_SILENCE


def test_decode_then_encode_is_identity_on_every_code() -> None:
    assert np.array_equal(g711.alaw_encode(g711.alaw_decode(ALL_CODES)), ALL_CODES)
    # mu-law code 0x7F (negative zero) re-encodes to 0xFF (positive zero); all others map back.
    back = g711.ulaw_encode(g711.ulaw_decode(ALL_CODES))
    differing = np.nonzero(back != ALL_CODES)[0].tolist()
    assert differing == [0x7F]


def test_works_on_a_tick_matrix_and_rejects_wrong_dtype() -> None:
    frame = np.random.default_rng(7).integers(-32768, 32767, (30, 160)).astype(np.int16)
    codes = g711.alaw_encode(frame)
    assert codes.shape == (30, 160) and codes.dtype == np.uint8
    with pytest.raises(TypeError, match="int16"):
        g711.alaw_encode(frame.astype(np.int32))
    with pytest.raises(TypeError, match="uint8"):
        g711.ulaw_decode(frame)


def test_transcoding_alaw_ulaw() -> None:
    linear = g711.alaw_decode(ALL_CODES)
    assert np.array_equal(g711.alaw_to_ulaw(ALL_CODES), g711.ulaw_encode(linear))
    assert np.array_equal(
        g711.ulaw_to_alaw(g711.ulaw_encode(linear)),
        g711.alaw_encode(g711.ulaw_decode(g711.ulaw_encode(linear))),
    )
