"""kill -9 during a recording leaves a playable file with the audio up to the kill, and the
start-up recovery completes its index row (REC-1, DESIGN "Data")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.config.sections.recording import RecordingSection
from appliance.recording import Recorder, RecordingIndex, read_audio
from appliance.recording.sink import file_checksum
from appliance.runtime.clock import VirtualClock
from appliance.store import open_database

pytestmark = pytest.mark.integration

CHILD = textwrap.dedent("""
    import asyncio
    import sys
    import numpy as np
    from appliance.config.sections.recording import RecordingSection
    from appliance.media.engine import MediaEngine
    from appliance.recording import CallInfo, Recorder, RecordingIndex
    from appliance.runtime.clock import RealClock
    from appliance.store import open_database

    db_path, root = sys.argv[1:3]
    db = open_database(db_path)
    engine = MediaEngine(capacity=4)
    caller, agent = engine.register("span1/1"), engine.register("sip/a1")
    engine.bridge(caller, agent)
    settings = RecordingSection(policy="all", header_interval=0.5, sync_interval=5.0,
                                min_free_mb=0)
    recorder = Recorder(root, RecordingIndex(db), engine, settings,
                        RealClock())
    asyncio.run(recorder.record(CallInfo("c-kill", caller="0612", agent="a1"),
                                lambda: (caller, agent), reason="all"))
    n = 0
    while True:
        caller.write_input(np.full(160, 1000 + n, np.int16))
        agent.write_input(np.full(160, -n, np.int16))
        engine.tick()
        engine.writer.flush()
        print(n, flush=True)  # frame n has been handed to the kernel
        n += 1
""")


def test_kill_9_leaves_a_playable_file_with_the_audio_up_to_the_kill(tmp_path: Path) -> None:
    db_path, root = str(tmp_path / "a.db"), str(tmp_path / "rec")
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_path, root],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    last = -1
    while last < 137:  # 2.76 s of audio; the header was last rewritten at frame 125
        line = child.stdout.readline()
        assert line, "the recording child died on its own"
        last = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)

    index = RecordingIndex(open_database(db_path))
    (row,) = index.all()
    assert row.status == "recording"  # the process never closed it
    path = os.path.join(root, row.path)
    with wave.open(path) as wav:  # playable as it is, before any repair
        assert wav.getnchannels() == 2 and wav.getnframes() >= 125 * 160

    recorder = Recorder(root, index, _NoMedia(), RecordingSection(), VirtualClock())
    (recovered,) = recorder.recover()
    assert recovered.status == "recovered" and recovered.checksum == file_checksum(path)
    _, audio = read_audio(path)
    frames = audio.shape[1] // 160
    assert frames >= last + 1  # every acknowledged frame survived the kill
    expected = np.repeat(np.arange(frames), 160)
    np.testing.assert_array_equal(audio[0], 1000 + expected)
    np.testing.assert_array_equal(audio[1], -expected)
    assert recovered.duration == pytest.approx(frames * 0.02)
    with wave.open(path) as wav:
        assert wav.getnframes() == frames * 160


class _NoMedia:
    def tap(self, caller: object, agent: object, sink: object, *, mode: object = "stereo",
            label: str = "") -> object:
        raise AssertionError("recovery must not start recordings")

    def stop_tap(self, tap: object) -> None:
        raise AssertionError("recovery must not stop recordings")
