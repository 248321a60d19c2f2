"""An independent player (SoX) reads our files: PCM and A-law, stereo and mono, after a clean
close and as left by a killed writer (header lagging the audio)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from appliance.recording.wav import WavFormat, WavWriter

pytestmark = pytest.mark.integration


def soxi(path: Path) -> dict[str, str]:
    out = subprocess.run(["soxi", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())
            if v}


@pytest.mark.parametrize(("channels", "encoding", "sox_encoding"), [
    (2, "pcm16", "16-bit Signed Integer PCM"), (1, "alaw", "8-bit A-law")])
def test_sox_plays_our_files(tmp_path: Path, channels: int, encoding: str,
                             sox_encoding: str) -> None:
    path = tmp_path / "call.wav"
    writer = WavWriter(str(path), WavFormat(channels, encoding))  # type: ignore[arg-type]
    tone = (8000 * np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)).astype(np.int16)
    writer.write(np.tile(tone, (channels, 1)))
    writer.update_header()
    writer.write(np.tile(tone, (channels, 1)))  # the second second: header not yet updated
    info = soxi(path)
    assert info["Channels"] == str(channels) and info["Sample Rate"] == "8000"
    assert info["Sample Encoding"] == sox_encoding
    assert info["Duration"].startswith("00:00:01.00")  # what a killed writer leaves: playable
    writer.close()
    assert soxi(path)["Duration"].startswith("00:00:02.00")
    stat = subprocess.run(["sox", str(path), "-n", "remix", "1", "stat"], capture_output=True, text=True,
                          check=True).stderr
    assert "Rough   frequency:" in stat and abs(int(stat.split("Rough   frequency:")[1].split()[0])
                                                - 1000) < 50
