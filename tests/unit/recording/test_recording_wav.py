"""WAV files: formats, headers kept current, repair after a crash, clear errors on bad files."""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.recording.wav import WavError, WavFormat, WavWriter, read_audio, read_info, repair
from drivers.span.g711 import alaw_decode, alaw_encode


def speech(frames: int, channels: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-12000, 12000, (channels, 160 * frames), dtype=np.int16)


def test_stereo_pcm_file_is_read_by_the_stdlib_wave_module(tmp_path: Path) -> None:
    path = str(tmp_path / "c.wav")
    audio = speech(10, 2)
    writer = WavWriter(path, WavFormat(2, "pcm16"))
    for i in range(10):
        writer.write(audio[:, i * 160:(i + 1) * 160])
    writer.close()
    with wave.open(path) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2).T
    np.testing.assert_array_equal(frames, audio)  # caller left (row 0), agent right (row 1)


def test_alaw_mono_file_has_fact_chunk_and_decodes(tmp_path: Path) -> None:
    path = str(tmp_path / "a.wav")
    audio = speech(5, 1)
    writer = WavWriter(path, WavFormat(1, "alaw"))
    writer.write(audio)
    writer.close()
    raw = Path(path).read_bytes()
    assert raw[20:22] == struct.pack("<H", 6)  # WAVE_FORMAT_ALAW
    assert raw[38:42] == b"fact" and struct.unpack_from("<I", raw, 46)[0] == 800
    fmt, decoded = read_audio(path)
    assert fmt == WavFormat(1, "alaw")
    np.testing.assert_array_equal(decoded[0], alaw_decode(alaw_encode(audio[0])))


def test_header_is_current_after_update_without_close(tmp_path: Path) -> None:
    path = str(tmp_path / "h.wav")
    writer = WavWriter(path, WavFormat(2, "pcm16"))
    writer.write(speech(3, 2))
    writer.update_header()
    info = read_info(path)
    assert info.consistent and info.header_data_bytes == 3 * 160 * 4
    writer.close()


def test_repair_fixes_a_stale_header_and_cuts_a_partial_frame(tmp_path: Path) -> None:
    path = str(tmp_path / "r.wav")
    audio = speech(4, 2)
    writer = WavWriter(path, WavFormat(2, "pcm16"))
    writer.write(audio[:, :160])
    writer.update_header()
    writer.write(audio[:, 160:])  # written, header not updated: as after kill -9
    with open(path, "ab") as handle:
        handle.write(b"\x01\x02\x03")  # half a sample frame
    before = read_info(path)
    assert before.header_data_bytes == 640 and not before.consistent
    info = repair(path)
    assert info.consistent and info.present_data_bytes == 4 * 160 * 4
    assert os.path.getsize(path) == 44 + 4 * 160 * 4
    np.testing.assert_array_equal(read_audio(path)[1], audio)
    assert repair(path) == info  # idempotent


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a WAV file"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "truncated"),
        (b"OggS" + bytes(60), "not a WAV file"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x55\x00\x01\x00\x40\x1f\x00\x00"
         b"\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00", "unsupported WAV format"),
    ],
)
def test_corrupt_and_truncated_files_give_clear_errors(tmp_path: Path, content: bytes,
                                                       message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(WavError, match=message) as caught:
        repair(str(path))
    assert str(path) in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(WavError, match="missing"):
        read_info(str(tmp_path / "nope.wav"))


def test_writer_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"evidence")
    with pytest.raises(FileExistsError):
        WavWriter(str(path), WavFormat(1, "pcm16"))
    assert path.read_bytes() == b"evidence"
