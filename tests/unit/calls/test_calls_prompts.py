"""The prompt library: loaded once off the loop, only the folder's own files playable."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from appliance.calls.component import PromptLibrary


def _wav(path: Path, seconds: float = 0.1) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x10\x00" * int(8000 * seconds))


def test_every_prompt_of_the_folder_is_loaded_and_nothing_outside_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    _wav(folder / "welcome.wav")
    _wav(folder / "moh.wav", 0.2)
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    (folder / "notes.txt").write_text("not a prompt")
    _wav(tmp_path / "secret.wav")  # beside the folder, not in it
    library = PromptLibrary.load(str(folder))
    assert library.names == ["moh", "welcome"]
    welcome = library("welcome")
    assert welcome is not None
    assert library("../secret") is None and library("notes") is None
    assert "broken.wav refused" in caplog.text


def test_a_missing_folder_gives_an_empty_library_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    library = PromptLibrary.load(str(tmp_path / "absent"))
    assert library.names == [] and library("welcome") is None
    assert "unreadable" in caplog.text
