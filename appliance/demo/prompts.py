"""The demo's voice prompts, spoken by espeak-ng and converted by sox (Debian packages).

A real installation records its own prompts into ``media.prompts_dir``; the
demo makes a small set at start so that callers hear a real menu.
"""

from __future__ import annotations

import os
import shutil
import subprocess

SPOKEN = {
    "welcome-menu": "Welcome to the demo call center. For sales, press 1. For support, press 2.",
    "invalid": "Sorry, that is not a choice.",
    "no-input": "We did not hear your choice.",
    "goodbye": "Thank you for calling. Goodbye.",
    "survey-question": "If you were satisfied, press 1. If not, press 2.",
}
# music on hold: a short arpeggio, synthesised
MOH = ["synth", "0.4", "sine", "523", "synth", "0.4", "sine", "659", "synth", "0.4", "sine", "784"]


class PromptToolMissing(RuntimeError):
    pass


def make_prompts(directory: str) -> list[str]:
    """Write the demo prompts as 8 kHz mono 16-bit WAV files; returns their names."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptToolMissing(
                f"{tool} is missing (Debian package {tool}; see deps/apt/media.txt)"
            )
    os.makedirs(directory, exist_ok=True)
    for name, text in SPOKEN.items():
        raw = os.path.join(directory, f"{name}.raw.wav")
        subprocess.run(["espeak-ng", "-w", raw, text], check=True, capture_output=True)
        subprocess.run(
            [
                "sox",
                raw,
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                os.path.join(directory, f"{name}.wav"),
            ],
            check=True,
            capture_output=True,
        )
        os.unlink(raw)
    notes: list[str] = []
    for i in range(0, len(MOH), 4):
        part = os.path.join(directory, f"moh{i}.wav")
        subprocess.run(
            ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", part, *MOH[i : i + 4], "vol", "0.3"],
            check=True,
            capture_output=True,
        )
        notes.append(part)
    subprocess.run(
        ["sox", *notes, os.path.join(directory, "moh.wav")], check=True, capture_output=True
    )
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            os.path.join(directory, "beep.wav"),
            "synth",
            "0.3",
            "sine",
            "1000",
            "vol",
            "0.3",
        ],
        check=True,
        capture_output=True,
    )
    for part in notes:
        os.unlink(part)
    return [*SPOKEN, "moh", "beep"]
