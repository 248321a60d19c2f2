"""The recorder on the real media engine: policies, on-demand codes, pause, disk full, recovery."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from recdb import recordings_database

from appliance.config.sections.recording import RecordingSection
from appliance.media.engine import MediaEngine
from appliance.recording import (
    CallInfo,
    Recorder,
    RecordingError,
    RecordingIndex,
    SearchFilter,
    read_audio,
)
from appliance.recording.policy import RecordingPolicy
from appliance.recording.recorder import ActiveRecording
from appliance.recording.sink import file_checksum
from appliance.recording.wav import read_info
from appliance.runtime.clock import RealClock, VirtualClock

T = TypeVar("T")
CALL = CallInfo("c-1", caller="0612345678", dnis="3000", agent="a1", extension="201",
                queue="sales")


class Rig:
    def __init__(self, tmp: Path, settings: RecordingSection) -> None:
        self.engine = MediaEngine(capacity=8)
        self.caller = self.engine.register("span1/1")
        self.agent = self.engine.register("sip/a1")
        self.engine.bridge(self.caller, self.agent)
        self.db = recordings_database(str(tmp / "a.db"))
        self.index = RecordingIndex(self.db)
        self.root = str(tmp / "recordings")
        self.alarms: list[tuple[str, dict[str, Any]]] = []
        self.recorder = Recorder(self.root, self.index, self.engine, settings,
                                 VirtualClock(), alarm=lambda n, d: self.alarms.append((n, d)))
        self.frame_no = 0
        self.loop = asyncio.new_event_loop()

    def legs(self) -> tuple[Any, Any] | None:
        return self.caller, self.agent

    def start(self, call: CallInfo = CALL, reason: str = "all") -> ActiveRecording:
        """Recorder.record as the control socket awaits it."""
        return self.loop.run_until_complete(self.recorder.record(call, self.legs, reason=reason))

    def on_loop(self, action: Callable[[], T]) -> T:
        """``action`` on the loop (as the call core runs it), then the recordings it began."""
        async def run() -> T:
            result = action()
            await asyncio.gather(*self.recorder.starting(), return_exceptions=True)
            return result
        return self.loop.run_until_complete(run())

    def connected(self, call: CallInfo = CALL) -> ActiveRecording | None:
        """A caller met the agent: the policy's recording, once begun (None: not recorded)."""
        self.on_loop(lambda: self.recorder.call_connected(call, self.legs))
        return next((a for a in self.recorder.active() if a.call.call_id == call.call_id), None)

    def code(self, code: str, call: CallInfo = CALL) -> str | None:
        return self.on_loop(lambda: self.recorder.feature_code(code, call, self.legs))

    def close(self) -> None:
        self.engine.close()
        self.loop.close()

    def talk(self, frames: int) -> None:
        """Caller frames carry 1000 + n, agent frames -n (n = frame number)."""
        for _ in range(frames):
            self.caller.write_input(np.full(160, 1000 + self.frame_no, np.int16))
            self.agent.write_input(np.full(160, -self.frame_no, np.int16))
            self.engine.tick()
            self.frame_no += 1

    def finish(self, call_id: str = "c-1") -> None:
        active = self.recorder.stop(call_id)
        self.engine.writer.flush()
        assert active.done.wait(5)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    built = Rig(tmp_path, RecordingSection(policy="all", sync_interval=0.2, min_free_mb=0))
    yield built
    built.close()


def frame_values(audio: np.ndarray) -> list[tuple[int, int]]:
    return [(int(audio[0, i]), int(audio[1, i])) for i in range(0, audio.shape[1], 160)]


def test_a_recorded_call_is_indexed_with_stereo_audio(rig: Rig) -> None:
    active = rig.connected()
    assert active is not None
    rig.talk(50)
    rig.finish()
    row = rig.index.get(active.rec_id)
    assert (row.status, row.policy, row.agent, row.queue, row.caller, row.dnis, row.extension) == (
        "complete", "all", "a1", "sales", "0612345678", "3000", "201")
    assert row.duration == pytest.approx(1.0)
    path = os.path.join(rig.root, row.path)
    assert row.size == os.path.getsize(path) and row.checksum == file_checksum(path)
    assert row.path.endswith("c-1-1.wav") and row.path.count("/") == 3  # YYYY/MM/DD/name
    fmt, audio = read_audio(path)
    assert fmt.channels == 2
    assert frame_values(audio) == [(1000 + n, -n) for n in range(50)]


def test_pause_writes_silence_for_the_sensitive_part(rig: Rig) -> None:
    rig.start(reason="demand")
    rig.talk(10)
    assert rig.code("*2") == "paused"
    rig.engine.writer.flush()
    rig.talk(10)
    rig.engine.writer.flush()
    assert rig.code("*2") == "resumed"
    rig.talk(10)
    rig.finish()
    (row,) = rig.index.all()
    values = frame_values(read_audio(os.path.join(rig.root, row.path))[1])
    assert len(values) == 30
    assert values[10:20] == [(0, 0)] * 10
    assert values[9] == (1009, -9) and values[20] == (1020, -20)


def test_on_demand_code_starts_and_stops_segments(tmp_path: Path) -> None:
    rig = Rig(tmp_path, RecordingSection(policy="none", min_free_mb=0))
    assert rig.connected() is None
    assert rig.code("*1") == "started"
    rig.talk(5)
    assert rig.code("*1") == "stopped"
    rig.engine.writer.flush()
    rig.talk(5)
    assert rig.code("*1") == "started"
    rig.talk(5)
    rig.finish()
    rows = rig.index.search(SearchFilter(call_id="c-1"))
    assert [(r.segment, r.policy, round(r.duration, 2)) for r in rows] == [
        (1, "demand", 0.1), (2, "demand", 0.1)]
    assert rig.code("#9") is None
    rig.close()


@pytest.mark.parametrize(
    ("settings", "call", "reason"),
    [
        (RecordingSection(policy="selected", queues=["sales"]), CALL, "queue"),
        (RecordingSection(policy="selected", agents=["a1"]), CallInfo("x", agent="a1"), "agent"),
        (RecordingSection(policy="selected", numbers=[r"06\d{8}"]),
         CallInfo("x", caller="0612345678"), "number"),
        (RecordingSection(policy="selected", numbers=[r"3\d{3}"]), CallInfo("x", dnis="3000"),
         "number"),
        (RecordingSection(policy="selected", queues=["billing"]), CALL, None),
        (RecordingSection(policy="none", queues=["sales"]), CALL, None),
    ],
)
def test_policy_decides_by_queue_agent_and_number(settings: RecordingSection, call: CallInfo,
                                                  reason: str | None) -> None:
    assert RecordingPolicy(settings).reason(call) == reason


def test_disk_full_stops_the_recording_cleanly_and_raises_an_alarm(rig: Rig) -> None:
    active = rig.start()
    rig.talk(20)
    rig.engine.writer.flush()
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        # from here every write of the file gets ENOSPC from the kernel, as on a full disk
        os.dup2(full, active.sink.writer._fd)  # type: ignore[arg-type]
        rig.talk(20)
        rig.engine.writer.flush()
    finally:
        os.close(full)
    assert active.sink.failed == "disk-full"
    assert rig.alarms and rig.alarms[-1][0] == "recording.stopped"
    rig.talk(5)  # the call goes on: the engine still ticks and bridges
    assert rig.agent.read_output()[0] == 1000 + 44
    rig.finish()
    row = rig.index.get(active.rec_id)
    assert row.status == "disk-full"
    assert read_info(os.path.join(rig.root, row.path)).present_data_bytes == 20 * 160 * 4


def test_low_free_space_refuses_to_start_with_an_alarm(tmp_path: Path) -> None:
    rig = Rig(tmp_path, RecordingSection(policy="all", min_free_mb=1e12))
    with pytest.raises(RecordingError, match="min_free_mb"):
        rig.start()
    assert rig.connected() is None  # the call goes on
    assert [name for name, _ in rig.alarms] == ["recording.disk-full", "recording.disk-full"]
    rig.close()


def test_missing_recordings_folder_is_created_or_reported(tmp_path: Path) -> None:
    rig = Rig(tmp_path, RecordingSection(policy="all", min_free_mb=0))
    rig.recorder.check_folder()
    assert os.path.isdir(rig.root)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    rig.recorder.root = str(blocker / "recordings")
    with pytest.raises(RecordingError, match="cannot be created"):
        rig.start()
    assert rig.alarms[-1][0] == "recording.folder"
    rig.close()


def test_recover_completes_rows_left_by_a_crash(rig: Rig) -> None:
    active = rig.start()
    rig.talk(30)
    rig.engine.writer.flush()
    # the process dies here: the row says 'recording', the header may be stale
    with open(active.path, "ab") as handle:
        handle.write(b"\x00" * 6)  # and a torn last frame
    fresh = Recorder(rig.root, rig.index, rig.engine, rig.recorder.settings, VirtualClock())
    (recovered,) = fresh.recover()
    assert recovered.status == "recovered"
    assert recovered.duration == pytest.approx(30 * 0.02 + 1 / 8000)
    assert recovered.checksum == file_checksum(active.path)
    assert fresh.recover() == []


def test_double_start_and_unknown_call_are_refused(rig: Rig) -> None:
    rig.start()
    with pytest.raises(RecordingError, match="already"):
        rig.start()
    with pytest.raises(RecordingError, match="not being recorded"):
        rig.recorder.pause("nope")
    rig.finish()


def test_control_socket_methods_start_pause_stop_and_play(
    rig: Rig, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from appliance.recording.control import register_recording_methods
    from appliance.runtime.control import ControlError

    methods: dict[str, Any] = {}

    class Server:
        def register(self, method: str, handler: Any, *, needs: str) -> None:
            methods[method] = handler

    supervisor = rig.engine.register("sip/sup1")
    register_recording_methods(
        Server(), rig.recorder,
        calls=lambda cid: (CALL, rig.caller, rig.agent) if cid == "c-1" else None,
        channels=lambda name: supervisor if name == "sip/sup1" else None, player=rig.engine)

    def call(method: str, **params: Any) -> Any:
        return rig.loop.run_until_complete(methods[method](params))

    started = call("rec.start", call_id="c-1")
    rig.talk(10)
    call("rec.pause", call_id="c-1")
    assert call("rec.active")[0]["paused"] is True
    call("rec.resume", call_id="c-1")
    rig.talk(10)
    call("rec.stop", call_id="c-1")
    rig.engine.writer.flush()
    with pytest.raises(ControlError, match="no call"):
        call("rec.start", call_id="c-9")
    with pytest.raises(ControlError, match="not being recorded"):
        call("rec.stop", call_id="c-1")
    import threading

    import appliance.recording.control as control

    readers: list[str] = []
    real_read = control.playable_pcm

    def reading(*args: Any) -> Any:
        readers.append(threading.current_thread().name)
        return real_read(*args)

    monkeypatch.setattr(control, "playable_pcm", reading)
    played = call("rec.play", recording_id=started["recording_id"], channel="sip/sup1")
    assert played["seconds"] == pytest.approx(0.4)
    assert readers and readers[0] != threading.main_thread().name  # the file off the loop
    rig.engine.tick()
    assert supervisor.read_output()[0] == (1000 + 0) + (-0)  # caller + agent mixed, frame 0
    with pytest.raises(ControlError, match="no channel"):
        call("rec.play", recording_id=started["recording_id"], channel="sip/x")


def test_the_file_and_its_row_are_made_off_the_loop_and_dropped_if_the_call_ended(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recording's disk and database work never runs on the loop that ticks the media
    (issue 13); a call that ended while its file was being made leaves neither file nor row."""
    threads: list[str] = []
    prepare = rig.recorder.prepare

    def preparing(call: CallInfo, *, reason: str) -> Any:
        threads.append(threading.current_thread().name)
        return prepare(call, reason=reason)

    monkeypatch.setattr(rig.recorder, "prepare", preparing)
    assert rig.connected() is not None
    assert threads and threads[0] != threading.main_thread().name
    rig.finish()
    gone = CallInfo("c-2", agent="a1")
    assert rig.on_loop(lambda: rig.recorder.call_connected(gone, lambda: None))
    assert not rig.recorder.is_recording("c-2")
    assert [r.call_id for r in rig.index.all()] == ["c-1"]
    assert [f for _, _, files in os.walk(rig.root) for f in files if "c-2" in f] == []


def test_orderly_shutdown_closes_every_recording(tmp_path: Path) -> None:
    rig = Rig(tmp_path, RecordingSection(policy="all", min_free_mb=0))
    rig.recorder.clock = RealClock()
    rig.connected()
    rig.talk(25)
    assert rig.recorder.shutdown(timeout=5) == []
    (row,) = rig.index.all()
    assert row.status == "complete" and row.duration == pytest.approx(0.5)
    assert read_info(os.path.join(rig.root, row.path)).consistent
    rig.close()


def test_a_tap_refused_by_the_engine_leaves_no_file_and_no_row(rig: Rig) -> None:
    rig.engine.unregister(rig.agent)  # the agent leg is gone before recording starts
    with pytest.raises(RecordingError, match="cannot record call c-1"):
        rig.start()
    assert rig.index.all() == []
    assert [f for _, _, files in os.walk(rig.root) for f in files] == []
