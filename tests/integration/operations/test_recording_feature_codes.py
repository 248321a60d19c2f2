"""Issue 12 item 10, the recording feature codes keyed on the agent's phone (REC-2): during
a recorded call agent 1001 keys ``*2`` (pause: the card number must not be kept), ``*2``
again (resume), ``*1`` (stop) and ``*1`` (start again, on demand). ``rec search`` then
lists the call's two recordings, both final, the second on demand, and the first WAV
holds the agent's voice with silence where it was paused."""

from __future__ import annotations

import time
import wave

import numpy as np
import pytest
from acd_traffic import ada_with_a_customer
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13800138000"
VOICE_HZ = 700


def key(box: Appliance, digits: str) -> None:
    """The agent stops talking and keys ``digits`` on phone1's keypad."""
    box.sim("phone1", "talk", hz=None)
    time.sleep(0.3)
    box.sim("phone1", "dial", digits=digits)
    time.sleep(0.2 + 0.2 * len(digits))  # the tones are sent


def talk(box: Appliance, seconds: float) -> None:
    box.sim("phone1", "talk", hz=VOICE_HZ)
    time.sleep(seconds)


def recordings(box: Appliance, call_id: str) -> list[dict[str, object]]:
    return list(box.ctl_json("rec", "search", "--call-id", call_id))


def voiced(samples: np.ndarray) -> np.ndarray:
    """Per 100 ms: is there voice (the 700 Hz tone) rather than silence?"""
    blocks = samples[: len(samples) // 800 * 800].reshape(-1, 800).astype(np.float64)
    return np.sqrt(np.mean(blocks**2, axis=1)) > 300


def test_the_agent_pauses_resumes_stops_and_restarts_recording_from_the_keypad(
        appliance: Appliance) -> None:
    box = appliance
    call, call_id = ada_with_a_customer(box, CALLER)
    until(lambda: recordings(box, call_id), what="the policy recording started")

    talk(box, 1.5)
    key(box, "*2")  # pause
    talk(box, 2.5)  # the card number: must not be recorded
    key(box, "*2")  # resume
    talk(box, 1.5)
    key(box, "*1")  # stop
    until(lambda: [r["status"] for r in recordings(box, call_id)] == ["complete"],
          what="the first recording closed by *1")
    key(box, "*1")  # start again
    until(lambda: len(recordings(box, call_id)) == 2, what="a second recording on demand")
    talk(box, 1.0)
    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")

    found = until(lambda: (r := recordings(box, call_id)) and all(
        x["status"] == "complete" for x in r) and r, what="both recordings final")
    assert [r["policy"] for r in found] == ["all", "demand"], found
    with wave.open(str(box.root / "state" / "recordings" / str(found[0]["path"]))) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
        channels = wav.getnchannels()
    agent = pcm.reshape(-1, channels)[:, -1]  # stereo: caller left, agent right
    voice = voiced(agent).astype(int).tolist()
    # voice, then a silent stretch of at least two seconds (paused), then voice again
    first, last = voice.index(1), len(voice) - 1 - voice[::-1].index(1)
    runs = "".join(map(str, voice[first:last + 1])).split("1")
    assert max(len(r) for r in runs) >= 20, voice
    assert sum(voice) >= 20, voice  # 1.5 s before the pause and 1.5 s after it
