"""The recorder: starts, pauses and stops recordings of calls on the media engine (REC-1).

The call core calls :meth:`Recorder.call_connected` when a caller meets an
agent (policy recordings) and :meth:`Recorder.feature_code` for the on-demand
and pause codes; the CLI reaches :meth:`record`, :meth:`stop`, :meth:`pause`
and :meth:`resume` through the control socket. A recording that cannot start
(folder missing and not creatable, disk full) raises an alarm and a
:class:`RecordingError`; the call itself always continues.

Starting one touches the disk and the database (folder, free space, the new
file and its header, the index row): :meth:`prepare` does that in a worker
thread, and only the tap (:meth:`attach`) runs on the event loop that owns the
media engine, so a slow disk or a busy database never delays a tick. The tap
begins when the worker is done, typically within the tick after the bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from appliance.config.sections.recording import RecordingSection
from appliance.media.engine import MediaError
from appliance.recording.index import Recording, RecordingError, RecordingIndex
from appliance.recording.paths import recording_file
from appliance.recording.policy import CallInfo, RecordingPolicy
from appliance.recording.sink import SinkResult, WavSink, file_checksum
from appliance.recording.wav import WavError, WavFormat, WavWriter, repair
from appliance.runtime.clock import Clock
from appliance.store.db import PRIVATE_DIR

log = logging.getLogger("appliance.recording")

Alarm = Callable[[str, dict[str, Any]], None]


class Tapper(Protocol):
    """The part of the media engine the recorder uses (appliance.media.engine.MediaEngine)."""

    def tap(self, caller: Any, agent: Any, sink: Any, *, mode: Any = "stereo",
            label: str = "") -> Any: ...

    def stop_tap(self, tap: Any) -> None: ...


@dataclass
class ActiveRecording:
    rec_id: int
    call: CallInfo
    sink: WavSink
    tap: Any
    path: str
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class PreparedRecording:
    """A recording's file and index row, made by :meth:`Recorder.prepare`, not tapped yet."""

    rec_id: int
    call: CallInfo
    writer: WavWriter
    path: str
    relative: str  # the path inside the recordings folder, as the index has it
    reason: str  # why it is recorded (the policy's reason, or 'demand')
    min_free: int  # bytes the disk must keep free while it records


# the call's two legs to tap (caller, agent) at the moment the tap starts; None: call ended
LegLookup = Callable[[], tuple[Any, Any] | None]
# a call in progress by id: what the policy knows of it and its (caller, agent) handles
CallLookup = Callable[[str], tuple[CallInfo, Any, Any] | None]


def legs_of(calls: CallLookup, call_id: str) -> LegLookup:
    """The :data:`LegLookup` of one call, looked up again when its tap starts."""
    def legs() -> tuple[Any, Any] | None:
        found = calls(call_id)
        return (found[1], found[2]) if found is not None else None
    return legs


def safe_name(text: str) -> str:
    """A call id made safe for a file name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return cleaned.strip(".") or "call"


class Recorder:
    def __init__(self, root: str, index: RecordingIndex, tapper: Tapper,
                 settings: RecordingSection, clock: Clock, alarm: Alarm | None = None) -> None:
        self.root = root
        self.index = index
        self.tapper = tapper
        self.settings = settings
        self.clock = clock
        self.policy = RecordingPolicy(settings)
        self._alarm = alarm
        self._active: dict[str, ActiveRecording] = {}
        self._starting: set[str] = set()  # call ids whose recording is being prepared
        self._tasks: set[asyncio.Task[ActiveRecording]] = set()  # start_soon's, kept alive
        self._shut = False  # after shutdown() no recording starts
        self._lock = threading.Lock()

    def reconfigure(self, settings: RecordingSection) -> None:
        """New ``[recording]`` (ADM-1): the policy, format and limits of every recording
        started from now on; recordings in progress keep the format they began with."""
        self.settings = settings
        self.policy = RecordingPolicy(settings)

    # ---------------------------------------------------------------- lifecycle
    def alarm(self, name: str, data: dict[str, Any]) -> None:
        log.warning("alarm %s: %s", name, data, extra={"alarm": name})
        if self._alarm is not None:
            self._alarm(name, data)

    def check_folder(self) -> None:
        """The recordings folder exists (created if missing) and is writable."""
        try:
            os.makedirs(self.root, mode=PRIVATE_DIR, exist_ok=True)
        except OSError as exc:
            self.alarm("recording.folder", {"path": self.root, "error": exc.strerror})
            raise RecordingError(
                f"recordings folder {self.root} is missing and cannot be created: {exc.strerror}; "
                "check paths.recordings_dir and the disk"
            ) from exc
        if not os.access(self.root, os.W_OK):
            self.alarm("recording.folder", {"path": self.root, "error": "not writable"})
            raise RecordingError(f"recordings folder {self.root} is not writable")

    def recover(self) -> list[Recording]:
        """At start-up: finish index rows left 'recording' by a crash (repair their WAV headers)."""
        recovered: list[Recording] = []
        for rec in self.index.by_status("recording"):
            try:
                path = recording_file(self.root, rec)  # never repair a file outside the folder
                info = repair(path)
            except (RecordingError, WavError) as exc:
                log.error("recording %s could not be recovered: %s", rec.id, exc)
                self.index.finish(rec.id, duration=0.0, size=0, checksum="", status="lost",
                                  ended=self.clock.time())
                continue
            self.index.finish(rec.id, duration=info.duration, size=os.path.getsize(path),
                              checksum=file_checksum(path), status="recovered",
                              ended=self.clock.time())
            log.info("recording %s of call %s recovered after a crash: %.1f s", rec.id,
                     rec.call_id, info.duration)
            recovered.append(self.index.get(rec.id))
        return recovered

    # ---------------------------------------------------------------- calls
    def call_connected(self, call: CallInfo, legs: LegLookup) -> bool:
        """A caller met an agent: start the policy's recording (:meth:`start_soon`);
        False when the policy records no such call."""
        reason = self.policy.reason(call)
        if reason is None:
            return False
        self.start_soon(call, legs, reason=reason)
        return True

    def feature_code(self, code: str, call: CallInfo, legs: LegLookup) -> str | None:
        """On-demand start/stop and pause/resume by feature code; returns what was done."""
        if code == self.settings.on_demand_code:
            if self.is_recording(call.call_id):
                self.stop(call.call_id)
                return "stopped"
            self.start_soon(call, legs, reason="demand")
            return "started"
        if code == self.settings.pause_code:
            active = self._get(call.call_id)
            if active.sink.paused:
                self.resume(call.call_id)
                return "resumed"
            self.pause(call.call_id)
            return "paused"
        return None

    def is_recording(self, call_id: str) -> bool:
        """Recorded now, or a recording of it on its way (:meth:`record`)."""
        with self._lock:
            return call_id in self._active or call_id in self._starting

    def active(self) -> list[ActiveRecording]:
        with self._lock:
            return list(self._active.values())

    # -- starting a recording: the files and the index row in a worker, the tap on the loop
    def prepare(self, call: CallInfo, *, reason: str) -> PreparedRecording:
        """The file and its index row for a new recording of ``call`` (blocking: folder,
        disk, database and file I/O, so never on the event loop; :meth:`record` runs it
        in a worker). Raises :class:`RecordingError` (with an alarm) when it cannot."""
        self.check_folder()
        min_free = int(self.settings.min_free_mb * 1_000_000)
        free = shutil.disk_usage(self.root).free
        if free < min_free:
            self.alarm("recording.disk-full", {"path": self.root, "free_bytes": free})
            raise RecordingError(
                f"not recording call {call.call_id}: {free // 1_000_000} MB free in {self.root}, "
                f"below recording.min_free_mb ({self.settings.min_free_mb:g})"
            )
        now = self.clock.time()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y/%m/%d")
        segment = self.index.next_segment(call.call_id)
        relative = f"{day}/{safe_name(call.call_id)}-{segment}.wav"
        path = os.path.join(self.root, relative)
        fmt = WavFormat(2 if self.settings.channels == "stereo" else 1, self.settings.encoding)
        try:
            os.makedirs(os.path.dirname(path), mode=PRIVATE_DIR, exist_ok=True)
            writer = WavWriter(path, fmt)
        except OSError as exc:
            self.alarm("recording.failed", {"path": path, "error": exc.strerror})
            raise RecordingError(f"cannot create recording {path}: {exc.strerror}") from exc
        rec_id = self.index.add(
            call_id=call.call_id, segment=segment, path=relative, start=now, format=fmt.encoding,
            channels=fmt.channels, agent=call.agent, extension=call.extension, queue=call.queue,
            caller=call.caller, dnis=call.dnis, policy=reason,
        )
        return PreparedRecording(rec_id, call, writer, path, relative, reason, min_free)

    def discard(self, prepared: PreparedRecording) -> None:
        """Undo :meth:`prepare` for a recording that never got its tap (blocking)."""
        prepared.writer.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(prepared.path)
        self.index.remove(prepared.rec_id)

    def attach(self, prepared: PreparedRecording, caller: Any, agent: Any) -> ActiveRecording:
        r"""Tap the call's two legs into the prepared file (on the loop, which owns the
        engine; no I/O). Raises :class:`RecordingError` when a leg is gone: then the
        caller :meth:`discard`\ s ``prepared`` in a worker."""
        call = prepared.call
        holder: dict[str, ActiveRecording] = {}

        def closed(result: SinkResult) -> None:
            self._closed(holder["active"], result)

        fmt = prepared.writer.format
        sink = WavSink(prepared.writer, header_interval=self.settings.header_interval,
                       sync_interval=self.settings.sync_interval,
                       min_free_bytes=prepared.min_free, on_closed=closed, on_alarm=self.alarm)
        mode = "stereo" if fmt.channels == 2 else "mixed"
        active = ActiveRecording(prepared.rec_id, call, sink, None, prepared.path)
        holder["active"] = active
        try:
            active.tap = self.tapper.tap(caller, agent, sink, mode=mode, label=call.call_id)
        except (ValueError, LookupError, MediaError) as exc:  # e.g. a leg already gone
            raise RecordingError(f"cannot record call {call.call_id}: {exc}") from exc
        with self._lock:
            self._active[call.call_id] = active
        log.info("recording call %s (%s) to %s", call.call_id, prepared.reason,
                 prepared.relative, extra={"call_id": call.call_id})
        return active

    async def record(self, call: CallInfo, legs: LegLookup, *, reason: str) -> ActiveRecording:
        """Start recording ``call``: :meth:`prepare` in a worker, then :meth:`attach` to the
        legs ``legs()`` gives at that moment (None: the call ended meanwhile, and the
        prepared file is dropped). The call is 'being recorded' from the first moment, so
        a second start is refused while the first one is on its way."""
        if self.is_recording(call.call_id):
            raise RecordingError(f"call {call.call_id} is already being recorded")
        with self._lock:
            self._starting.add(call.call_id)
        try:
            prepared = await asyncio.to_thread(self.prepare, call, reason=reason)
            found = legs() if not self._shut else None
            try:
                if found is None:
                    raise RecordingError(f"call {call.call_id} ended before its recording began")
                return self.attach(prepared, *found)
            except RecordingError:
                await asyncio.to_thread(self.discard, prepared)
                raise
        finally:
            with self._lock:
                self._starting.discard(call.call_id)

    def start_soon(self, call: CallInfo, legs: LegLookup, *, reason: str) -> None:
        """:meth:`record` as a task of the running loop, for the call core's synchronous
        paths (a bridge, a keypad code); a failure is logged (and alarmed by prepare),
        the call itself goes on."""
        task = asyncio.get_running_loop().create_task(self.record(call, legs, reason=reason))
        self._tasks.add(task)
        task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task[ActiveRecording]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("a call is not recorded: %s", exc)

    def starting(self) -> list[asyncio.Task[ActiveRecording]]:
        """Recordings on their way (:meth:`start_soon`), for a caller that must wait."""
        return list(self._tasks)

    def _get(self, call_id: str) -> ActiveRecording:
        with self._lock:
            active = self._active.get(call_id)
        if active is None:
            raise RecordingError(f"call {call_id} is not being recorded")
        return active

    def pause(self, call_id: str) -> None:
        """Silence from now on (card numbers, health data) until :meth:`resume`."""
        active = self._get(call_id)
        active.sink.pause(self._frames_queued(active))

    def resume(self, call_id: str) -> None:
        active = self._get(call_id)
        active.sink.resume(self._frames_queued(active))

    @staticmethod
    def _frames_queued(active: ActiveRecording) -> int | None:
        """Frames the tap has handed to the writer so far (the tick the pause applies from)."""
        queued = getattr(active.tap, "frames_queued", None)
        return queued if isinstance(queued, int) else None

    def stop(self, call_id: str) -> ActiveRecording:
        """Stop recording a call; the file is closed after its last queued frames."""
        active = self._get(call_id)
        with self._lock:
            self._active.pop(call_id, None)
        self.tapper.stop_tap(active.tap)
        return active

    def shutdown(self, timeout: float = 10.0) -> list[str]:
        """Orderly stop (PWR-2): stop every recording and wait until each file is final and
        indexed. Returns the call ids whose files did not close in time (logged)."""
        self._shut = True
        stopping = [self.stop(a.call.call_id) for a in self.active()]
        deadline = self.clock.monotonic() + timeout
        late: list[str] = []
        for active in stopping:
            remaining = max(0.0, deadline - self.clock.monotonic())
            if not active.done.wait(remaining if remaining > 0 else 0.001):
                late.append(active.call.call_id)
                log.error("recording of call %s did not close within %.0f s; recovery will "
                          "repair it at the next start", active.call.call_id, timeout)
        return late

    def call_ended(self, call_id: str) -> None:
        if self.is_recording(call_id):
            self.stop(call_id)

    def _closed(self, active: ActiveRecording, result: SinkResult) -> None:
        with self._lock:
            if self._active.get(active.call.call_id) is active:
                del self._active[active.call.call_id]
        self.index.finish(active.rec_id, duration=result.duration, size=result.size,
                          checksum=result.checksum, status=result.status,
                          ended=self.clock.time())
        active.done.set()
