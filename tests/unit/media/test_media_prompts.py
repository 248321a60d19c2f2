"""Prompt WAV loading: native G.711/PCM, conversion at load, clear errors."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from appliance.media.prompts import PromptError, load_prompt, parse_wav, resample
from drivers.span import g711


def wav(tag: int, channels: int, rate: int, bits: int, payload: bytes) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


TONE = (8000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.int16)


def test_alaw_ulaw_and_pcm16_at_8k_load_unchanged() -> None:
    a = parse_wav(wav(6, 1, 8000, 8, g711.alaw_encode(TONE).tobytes()), "a.wav")
    assert not a.converted and np.array_equal(a.samples, g711.alaw_decode(g711.alaw_encode(TONE)))
    u = parse_wav(wav(7, 1, 8000, 8, g711.ulaw_encode(TONE).tobytes()), "u.wav")
    assert not u.converted and np.array_equal(u.samples, g711.ulaw_decode(g711.ulaw_encode(TONE)))
    p = parse_wav(wav(1, 1, 8000, 16, TONE.tobytes()), "p.wav")
    assert not p.converted and np.array_equal(p.samples, TONE) and p.seconds == 1.0


def test_stereo_16k_is_downmixed_and_resampled() -> None:
    t = np.arange(16000) / 16000
    left = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    right = (8000 * np.sin(2 * np.pi * 440 * t) + 4000 * np.sin(2 * np.pi * 6000 * t)).astype(
        np.int16
    )
    stereo = np.stack([left, right], axis=1).reshape(-1)
    prompt = parse_wav(wav(1, 2, 16000, 16, stereo.tobytes()), "s.wav")
    assert prompt.converted and len(prompt.samples) == 8000
    spectrum = np.abs(np.fft.rfft(prompt.samples[1000:7000].astype(float)))
    freqs = np.fft.rfftfreq(6000, 1 / 8000)
    assert abs(freqs[np.argmax(spectrum)] - 440) < 2
    # 6 kHz on the right channel must not alias to 2 kHz
    assert spectrum[np.abs(freqs - 2000) < 20].max() < spectrum.max() / 300


def test_8_bit_24_bit_and_float_pcm() -> None:
    u8 = ((TONE.astype(np.int32) >> 8) + 128).astype(np.uint8)
    assert np.abs(parse_wav(wav(1, 1, 8000, 8, u8.tobytes())).samples - TONE).max() <= 256
    i32 = (TONE.astype(np.int32) << 8).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    assert np.array_equal(parse_wav(wav(1, 1, 8000, 24, i32.tobytes())).samples, TONE)
    f32 = (TONE / 32767).astype("<f4")
    assert np.abs(parse_wav(wav(3, 1, 8000, 32, f32.tobytes())).samples - TONE).max() <= 1


def test_unconvertible_encodings_say_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "welcome.wav"
    path.write_bytes(wav(0x11, 1, 8000, 4, b"\x00" * 100))
    with pytest.raises(PromptError, match=r"IMA ADPCM cannot be converted; convert it with: sox"):
        load_prompt(path)
    with pytest.raises(PromptError, match="not a RIFF/WAVE"):
        parse_wav(b"ID3\x00 mp3 data", "x.mp3")
    with pytest.raises(PromptError, match="cannot read"):
        load_prompt(tmp_path / "missing.wav")
    with pytest.raises(PromptError, match="no 'data' chunk"):
        parse_wav(wav(1, 1, 8000, 16, b"")[:-8], "cut.wav")


def test_resample_keeps_length_ratio_and_tone() -> None:
    x = np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100)
    y = resample(x, 44100, 8000)
    assert len(y) == 8000
    assert np.abs(y[500:7500]).max() == pytest.approx(1.0, abs=0.02)
