"""The media engine: one 20 ms tick moves every channel's audio at once.

Channels live in preallocated matrices indexed by *slot* (row). Each tick:

1. inputs: the oldest frame each driver wrote into the channel's slip buffer
   (``write_input``, :mod:`appliance.media.slip`), or one pulled from a
   ``source`` callback, or silence for a channel that has none (a missing
   frame, counted per channel);
2. detectors: DTMF (and call-progress) run on the input rows that asked for
   them, as one vectorised call each;
3. cross-connect: every output row is the saturating sum of the input rows it
   hears, computed per fan-in group with one gather (bridges are a plain
   gather, an N-party conference is N-1 mixing, supervision adds one leg);
4. players: tones, prompts and sample buffers replace (or mix into) a
   channel's output;
5. recording taps: every active tap's caller/agent frames go to the writer
   queue in one batch;
6. outputs: available from ``read_output`` until the next tick, and pushed
   to ``sink`` callbacks.

Timing (one clock): a span that takes its clock from the line hands each
received block over with ``timing_tick``; while such a source delivers, it
ticks the engine (so a span's frames go back out in the block they arrived
with), the best ``clock_priority`` winning, as DAHDI's master span does. With
no source, or when it falls silent for ``HOLDOVER``, ``run`` ticks on the
system clock.

Connections: bridge (two-party), conference (N-party, each hears the others),
listen (supervisor hears both, says nothing to them), whisper (agent hears the
supervisor, the caller does not), barge (three-way). A channel belongs to at
most one connection; connecting it again first removes it from the old one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES, SAMPLE_RATE
from appliance.media.dsp.cpt import CallProgressDetector, CptProfile
from appliance.media.dsp.dtmf import DtmfDetector
from appliance.media.dsp.tones import ToneSpec, parse_tone
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished, ToneDetected
from appliance.media.players import PlayerGroup, SamplePlayer, group_players, tone_player
from appliance.media.prompts import Prompt
from appliance.media.recording import RecordingTap, RecordingWriter, TapMode, TapSink
from appliance.media.slip import SlipBuffer
from appliance.runtime.clock import Clock
from drivers.span import g711

log = logging.getLogger("appliance.media")

TICK_SECONDS = FRAME_SAMPLES / SAMPLE_RATE  # 20 ms
# a timing source silent this long is no longer followed: longer than the stalls a loaded
# box sees (whose blocks then arrive late, in a burst, each still one tick), shorter than
# what callers would notice as a cut when a span is lost
HOLDOVER = 0.5
Law = Literal["linear", "alaw", "ulaw"]
Frame = npt.NDArray[np.int16]


class MediaError(Exception):
    """A media operation that cannot be done (unknown channel, full engine, bad frame)."""


@dataclass
class EngineStats:
    ticks: int = 0
    late_ticks: int = 0  # a tick started later than late_tolerance after its deadline
    overruns: int = 0  # a tick's processing took longer than its 20 ms budget
    skipped_ticks: int = 0  # ticks given up after a stall longer than max_catch_up
    missing_frames: int = 0  # channel-ticks filled with silence (input late or absent)
    slips: int = 0  # frames dropped because a channel's slip buffer was full (input too fast)
    output_slips: int = 0  # output frames a reader skipped or took twice (its clock is not ours)
    channel_ticks: int = 0  # channels registered, summed over the ticks (what lost frames are of)
    timing_source: str = ""  # the span whose clock ticks the engine ('' = the system clock)
    timing_changes: int = 0  # times the engine moved to another clock
    recording_dropped: int = 0  # tap frames dropped because the writer queue was full
    stalls: int = 0  # ticks that started a whole tick (20 ms) or more after their deadline
    tick_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=3000))
    # how late each of the last 10 s of ticks started after its deadline (seconds)
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=500))

    def lateness_ms(self) -> dict[str, float]:
        """p50, p99 and max tick lateness over the last 10 s, in milliseconds."""
        if not self.lateness:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0}
        ordered = sorted(self.lateness)
        last = len(ordered) - 1
        return {
            "p50": round(ordered[last // 2] * 1000, 3),
            "p99": round(ordered[int(0.99 * last)] * 1000, 3),
            "max": round(ordered[last] * 1000, 3),
        }


class ChannelHandle:
    """A registered channel: a driver writes its input and reads its output here."""

    def __init__(self, engine: MediaEngine, slot: int, name: str, law: Law) -> None:
        self._engine = engine
        self.slot = slot
        self.name = name
        self.law: Law = law
        self.missing_frames = 0
        self.registered = True

    @property
    def slips(self) -> int:
        """Frames this channel's driver wrote that had to be dropped (slip buffer full)."""
        return int(self._engine._slip.slips[self.slot]) if self.registered else 0

    @property
    def output_slips(self) -> int:
        """Output frames its reader took twice or never (it reads off the engine's clock)."""
        return int(self._engine._output_slips[self.slot]) if self.registered else 0

    def __repr__(self) -> str:
        return f"<channel {self.name} slot {self.slot}>"

    def write_input(self, frame: npt.ArrayLike) -> None:
        """160 received samples (int16 linear, or uint8 octets on an A/mu-law channel),
        queued for the next tick that has none older."""
        self._engine._write_input(self, frame)

    def read_output(self) -> npt.NDArray[np.int16] | npt.NDArray[np.uint8]:
        """The 160 samples to send, from the last tick (encoded for A/mu-law channels)."""
        return self._engine._read_output(self)


class ChannelGroup:
    """Several channels written and read as one block (e.g. the 30 B-channels of a span)."""

    def __init__(self, engine: MediaEngine, handles: list[ChannelHandle]) -> None:
        self._engine = engine
        self.handles = handles
        self._slots = np.array([h.slot for h in handles], dtype=np.intp)
        self.law: Law = handles[0].law if handles else "linear"

    def write_block(self, block: npt.ArrayLike) -> None:
        """``(len(group), 160)`` input frames in handle order."""
        self._engine._write_block(self._slots, self.law, block)

    def read_block(self) -> npt.NDArray[np.int16] | npt.NDArray[np.uint8]:
        """``(len(group), 160)`` output frames in handle order."""
        return self._engine._encode(self._engine._read_slots(self._slots), self.law)


@dataclass
class _Playback:
    player: SamplePlayer
    tag: str
    mix: bool
    barge_in: bool


class _Connection:
    """A set of channels and who hears whom (routes: listener slot -> talker slots)."""

    def __init__(self, kind: str, members: dict[str, ChannelHandle]) -> None:
        self.kind = kind
        self.members = members

    def routes(self) -> dict[int, list[int]]:
        m = {role: h.slot for role, h in self.members.items()}
        if self.kind == "bridge":
            return {m["a"]: [m["b"]], m["b"]: [m["a"]]}
        if self.kind == "conference":
            slots = list(m.values())
            return {s: [o for o in slots if o != s] for s in slots}
        caller, agent, sup = m["caller"], m["agent"], m["supervisor"]
        if self.kind == "listen":
            return {caller: [agent], agent: [caller], sup: [caller, agent]}
        if self.kind == "whisper":
            return {caller: [agent], agent: [caller, sup], sup: [caller, agent]}
        # barge: three-way, everyone hears the other two
        return {caller: [agent, sup], agent: [caller, sup], sup: [caller, agent]}


class MediaEngine:
    """All channels' audio, one vectorised tick every 20 ms."""

    def __init__(
        self,
        capacity: int = 512,
        *,
        tones: Mapping[str, str] | None = None,
        tone_level_dbm0: float = -10.0,
        cpt_profile: CptProfile | None = None,
        dtmf_options: Mapping[str, float] | None = None,
        late_tolerance: float = 0.010,
        max_catch_up: int = 5,
        recording_queue: int = 250,
        on_event: Callable[[MediaEvent], None] | None = None,
        cpu_timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        if capacity < 1:
            raise MediaError(f"engine capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._silence = capacity  # index of an always-zero input row
        self._in = np.zeros((capacity + 1, FRAME_SAMPLES), np.int16)
        self._out = np.zeros((capacity, FRAME_SAMPLES), np.int16)
        self._fresh = np.zeros(capacity, bool)
        self._slip = SlipBuffer(capacity)
        self._read_tick = np.full(capacity, -1, np.int64)  # the tick each slot was last read at
        self._output_slips = np.zeros(capacity, np.int64)
        self._registered = np.zeros(capacity, bool)
        self._handles: list[ChannelHandle | None] = [None] * capacity
        self._sources: dict[int, Callable[[], npt.ArrayLike | None]] = {}
        self._group_sources: list[tuple[ChannelGroup, Callable[[], npt.ArrayLike | None]]] = []
        self._sinks: dict[int, Callable[[npt.NDArray[np.int16] | npt.NDArray[np.uint8]], None]] = {}
        self._free = list(range(capacity - 1, -1, -1))
        self._connections: dict[int, _Connection] = {}
        self._member_of: dict[int, int] = {}  # slot -> connection id
        self._conn_ids = itertools.count(1)
        self._routes: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        self._routes_dirty = False
        self._playbacks: dict[int, _Playback] = {}
        self._player_groups: list[PlayerGroup] | None = None  # compiled from _playbacks
        self._tones = {name: parse_tone(text) for name, text in (tones or {}).items()}
        self._tone_level = tone_level_dbm0
        self._dtmf = DtmfDetector(capacity, **(dtmf_options or {}))
        self._dtmf_on = np.zeros(capacity, bool)
        self._dtmf_rows = np.zeros(0, np.intp)
        self._cpt = CallProgressDetector(capacity, cpt_profile or CptProfile())
        self._cpt_on = np.zeros(capacity, bool)
        self._cpt_rows = np.zeros(0, np.intp)
        self._taps: dict[int, RecordingTap] = {}
        self._tap_ids = itertools.count(1)
        self._tap_index: tuple[tuple[RecordingTap, ...], npt.NDArray[np.intp]] | None = None
        self.writer = RecordingWriter(recording_queue)
        self.late_tolerance = late_tolerance
        self.max_catch_up = max_catch_up
        self.on_event = on_event
        self.before_tick: list[Callable[[], None]] = []
        self._cpu_timer = cpu_timer
        self.stats = EngineStats()
        self._pending_events: list[MediaEvent] = []
        self._now: Callable[[], float] = time.monotonic  # the run clock, once ``run`` starts
        self._timing_priority = 0
        self._timing_seen = -math.inf

    # ----------------------------------------------------------------- channels
    def register(
        self,
        name: str,
        *,
        law: Law = "linear",
        source: Callable[[], npt.ArrayLike | None] | None = None,
        sink: Callable[[npt.NDArray[np.int16] | npt.NDArray[np.uint8]], None] | None = None,
    ) -> ChannelHandle:
        """Add a channel (a B-channel, an analog port, a SIP leg); takes effect next tick.

        ``source`` is called at each tick for the input frame (None = missing);
        ``sink`` receives the output frame after each tick. Without them the
        driver uses ``write_input``/``read_output``.
        """
        if law not in ("linear", "alaw", "ulaw"):
            raise MediaError(f"channel {name}: unknown law {law!r} (use linear, alaw or ulaw)")
        if not self._free:
            raise MediaError(f"channel {name}: media engine full ({self.capacity} channels)")
        slot = self._free.pop()
        handle = ChannelHandle(self, slot, name, law)
        self._handles[slot] = handle
        self._registered[slot] = True
        self._fresh[slot] = False
        self._slip.clear(slot)
        self._read_tick[slot] = -1
        self._output_slips[slot] = 0
        self._in[slot] = 0
        self._out[slot] = 0
        self._dtmf.reset([slot])
        self._cpt.reset([slot])
        if source is not None:
            self._sources[slot] = source
        if sink is not None:
            self._sinks[slot] = sink
        return handle

    def register_group(
        self,
        names: Sequence[str],
        *,
        law: Law = "linear",
        source: Callable[[], npt.ArrayLike | None] | None = None,
    ) -> ChannelGroup:
        """Register several channels at once (e.g. a span's B-channels).

        ``source``, if given, is called at the start of every tick and returns
        the group's ``(len(names), 160)`` input block (or None when late), so a
        driver's frames stay in step with the tick.
        """
        if len(names) > len(self._free):
            raise MediaError(
                f"media engine has room for {len(self._free)} more channels, asked {len(names)}"
            )
        group = ChannelGroup(self, [self.register(n, law=law) for n in names])
        if source is not None:
            self._group_sources.append((group, source))
        return group

    def unregister(self, handle: ChannelHandle) -> None:
        """Remove a channel: its connection, playback, detectors and taps end with it."""
        self._check(handle)
        self.unbridge(handle)
        slot = handle.slot
        self._drop_playback(slot)
        self.enable_dtmf(handle, False)
        self.enable_cpt(handle, False)
        for tap in [t for t in self._taps.values() if slot in (t.caller_slot, t.agent_slot)]:
            self.stop_tap(tap)
        self._sources.pop(slot, None)
        self._sinks.pop(slot, None)
        self._group_sources = [
            (g, src) for g, src in self._group_sources if all(h is not handle for h in g.handles)
        ]
        self._registered[slot] = False
        self._handles[slot] = None
        self._slip.clear(slot)
        self._in[slot] = 0
        self._out[slot] = 0
        handle.registered = False
        self._free.append(slot)

    @property
    def channels(self) -> list[ChannelHandle]:
        return [h for h in self._handles if h is not None]

    def _check(self, handle: ChannelHandle) -> None:
        if (
            handle._engine is not self
            or not handle.registered
            or self._handles[handle.slot] is not handle
        ):
            raise MediaError(f"{handle!r} is not registered with this media engine")

    def _decode(self, frame: npt.ArrayLike, law: Law, what: str) -> npt.NDArray[np.int16]:
        array = np.asarray(frame)
        if array.shape[-1:] != (FRAME_SAMPLES,):
            raise MediaError(f"{what}: a frame is {FRAME_SAMPLES} samples, got shape {array.shape}")
        if law == "linear":
            if array.dtype != np.int16:
                raise MediaError(f"{what}: linear frames must be int16, got {array.dtype}")
            return array
        if array.dtype != np.uint8:
            raise MediaError(f"{what}: {law} frames must be uint8 octets, got {array.dtype}")
        return g711.alaw_decode(array) if law == "alaw" else g711.ulaw_decode(array)

    def _encode(
        self, linear: npt.NDArray[np.int16], law: Law
    ) -> npt.NDArray[np.int16] | npt.NDArray[np.uint8]:
        if law == "alaw":
            return g711.alaw_encode(linear)
        if law == "ulaw":
            return g711.ulaw_encode(linear)
        return linear.copy()

    def _write_input(self, handle: ChannelHandle, frame: npt.ArrayLike) -> None:
        self._check(handle)
        linear = self._decode(frame, handle.law, handle.name)
        self.stats.slips += self._slip.push_one(handle.slot, linear)

    def _group_block(
        self, slots: npt.NDArray[np.intp], law: Law, block: npt.ArrayLike
    ) -> npt.NDArray[np.int16]:
        array = np.asarray(block)
        if array.shape != (len(slots), FRAME_SAMPLES):
            raise MediaError(
                f"channel group: expected block {(len(slots), FRAME_SAMPLES)}, got {array.shape}"
            )
        if not self._registered[slots].all():
            raise MediaError("channel group: a channel of the group is no longer registered")
        return self._decode(array, law, "channel group")

    def _write_block(self, slots: npt.NDArray[np.intp], law: Law, block: npt.ArrayLike) -> None:
        self.stats.slips += self._slip.push(slots, self._group_block(slots, law, block))

    def _read_output(self, handle: ChannelHandle) -> npt.NDArray[np.int16] | npt.NDArray[np.uint8]:
        self._check(handle)
        return self._encode(self._read_slots(np.array([handle.slot], np.intp))[0], handle.law)

    def _read_slots(self, slots: npt.NDArray[np.intp]) -> npt.NDArray[np.int16]:
        """The output rows of ``slots``; a slot read twice in one tick (a frame sent again) or
        not at every tick (frames never sent) counts its output slips."""
        tick = self.stats.ticks
        last = self._read_tick[slots]
        slipped = np.where(last >= 0, np.abs(tick - last - 1), 0)
        if slipped.any():
            self._output_slips[slots] += slipped
            self.stats.output_slips += int(slipped.sum())
        self._read_tick[slots] = tick
        out: npt.NDArray[np.int16] = self._out[slots]
        return out

    # -------------------------------------------------------------- connections
    def _connect(self, kind: str, members: dict[str, ChannelHandle]) -> int:
        slots = [h.slot for h in members.values()]
        if len(set(slots)) != len(slots):
            raise MediaError(f"{kind}: the same channel appears twice")
        for handle in members.values():
            self._check(handle)
            self.unbridge(handle)
        conn_id = next(self._conn_ids)
        self._connections[conn_id] = _Connection(kind, members)
        for slot in slots:
            self._member_of[slot] = conn_id
        self._routes_dirty = True
        return conn_id

    def bridge(self, a: ChannelHandle, b: ChannelHandle) -> int:
        """Two-party bridge: a hears b, b hears a."""
        return self._connect("bridge", {"a": a, "b": b})

    def conference(self, legs: Sequence[ChannelHandle]) -> int:
        """N-party conference: each leg hears all the others, not itself (saturating mix)."""
        if len(legs) < 2:
            raise MediaError(f"a conference needs at least 2 legs, got {len(legs)}")
        return self._connect("conference", {f"leg{i}": h for i, h in enumerate(legs)})

    def add_to_conference(self, conn_id: int, leg: ChannelHandle) -> None:
        """Add a leg to an existing conference (a consultation joined in, ACD-4)."""
        conn = self._connections.get(conn_id)
        if conn is None or conn.kind != "conference":
            raise MediaError(f"connection {conn_id} is not a conference")
        self.conference([*conn.members.values(), leg])
        # keep the caller's id: move the new connection under the old number
        new_id = self._member_of[leg.slot]
        self._connections[conn_id] = self._connections.pop(new_id)
        for handle in self._connections[conn_id].members.values():
            self._member_of[handle.slot] = conn_id

    def _supervise(
        self, kind: str, supervisor: ChannelHandle, agent: ChannelHandle, caller: ChannelHandle
    ) -> int:
        return self._connect(kind, {"caller": caller, "agent": agent, "supervisor": supervisor})

    def listen(self, supervisor: ChannelHandle, agent: ChannelHandle, caller: ChannelHandle) -> int:
        """Supervisor hears caller and agent; neither hears the supervisor (ACD-5)."""
        return self._supervise("listen", supervisor, agent, caller)

    def whisper(
        self, supervisor: ChannelHandle, agent: ChannelHandle, caller: ChannelHandle
    ) -> int:
        """Agent hears caller and supervisor; caller hears only the agent (ACD-5)."""
        return self._supervise("whisper", supervisor, agent, caller)

    def barge(self, supervisor: ChannelHandle, agent: ChannelHandle, caller: ChannelHandle) -> int:
        """Three-way: everyone hears the other two (ACD-5)."""
        return self._supervise("barge", supervisor, agent, caller)

    def unbridge(self, handle: ChannelHandle) -> None:
        """Take a channel out of its connection; a bridge or supervision of two then dissolves."""
        conn_id = self._member_of.pop(handle.slot, None)
        if conn_id is None:
            return
        conn = self._connections.pop(conn_id)
        rest = [h for h in conn.members.values() if h.slot != handle.slot]
        for other in rest:
            self._member_of.pop(other.slot, None)
        self._routes_dirty = True
        if conn.kind == "conference" and len(rest) >= 2:
            self._connect("conference", {f"leg{i}": h for i, h in enumerate(rest)})
            new_id = self._member_of[rest[0].slot]
            self._connections[conn_id] = self._connections.pop(new_id)
            for h in rest:
                self._member_of[h.slot] = conn_id
        elif conn.kind in ("listen", "whisper", "barge") and handle is conn.members["supervisor"]:
            self.bridge(conn.members["caller"], conn.members["agent"])

    def connection_of(self, handle: ChannelHandle) -> int | None:
        return self._member_of.get(handle.slot)

    def _compile_routes(self) -> None:
        by_fan_in: dict[int, list[tuple[int, list[int]]]] = {}
        for conn in self._connections.values():
            for dst, srcs in conn.routes().items():
                by_fan_in.setdefault(len(srcs), []).append((dst, srcs))
        self._routes = [
            (np.array([d for d, _ in rows], np.intp), np.array([s for _, s in rows], np.intp))
            for _, rows in sorted(by_fan_in.items())
        ]
        self._routes_dirty = False

    # ------------------------------------------------------------ players, detectors
    def tone_names(self) -> list[str]:
        return sorted(self._tones)

    def play_tone(
        self,
        handle: ChannelHandle,
        tone: str,
        *,
        duration_s: float | None = None,
        mix: bool = False,
        barge_in: bool = False,
    ) -> None:
        """Play a tone of the tone plan (dial, ringback, busy, ...) to a channel."""
        spec = self._tones.get(tone)
        if spec is None:
            raise MediaError(
                f"no tone {tone!r} in the tone plan (have: {', '.join(self.tone_names())})"
            )
        self.play(
            handle,
            tone_player(spec, self._tone_level, duration_s),
            tag=tone,
            mix=mix,
            barge_in=barge_in,
        )

    def play_spec(
        self,
        handle: ChannelHandle,
        spec: ToneSpec,
        *,
        tag: str = "tone",
        duration_s: float | None = None,
        mix: bool = False,
    ) -> None:
        self.play(handle, tone_player(spec, self._tone_level, duration_s), tag=tag, mix=mix)

    def play_samples(
        self,
        handle: ChannelHandle,
        samples: npt.NDArray[np.int16],
        *,
        tag: str = "samples",
        loop: bool = False,
        mix: bool = False,
        barge_in: bool = False,
    ) -> None:
        """Play int16 samples (a prompt, caller ID burst, DTMF) to a channel."""
        self.play(handle, SamplePlayer(samples, loop=loop), tag=tag, mix=mix, barge_in=barge_in)

    def play_named(self, handle: ChannelHandle, name: str, prompt: Prompt | None, *,
                   loop: bool = False) -> bool:
        """What a call leg's ``play(name)`` does: the prompt file if one is installed, else
        the tone plan's tone of that name; False (nothing played) if there is neither.
        A prompt played once gives way to a DTMF digit (IVR-1); a looped one (music on
        hold) does not."""
        if prompt is not None:
            self.play_samples(handle, prompt.samples, tag=name, loop=loop, barge_in=not loop)
        elif name in self.tone_names():
            self.play_tone(handle, name)
        else:
            return False
        return True

    def play_prompt(self, handle: ChannelHandle, prompt: Prompt, *, barge_in: bool = True) -> None:
        """Play a loaded prompt (IVR-6); by default a DTMF digit cuts it short (IVR-1)."""
        self.play_samples(handle, prompt.samples, tag=prompt.name, barge_in=barge_in)

    def play(
        self,
        handle: ChannelHandle,
        player: SamplePlayer,
        *,
        tag: str,
        mix: bool = False,
        barge_in: bool = False,
    ) -> None:
        """Replace (or with ``mix`` add to) the channel's output with ``player``.

        With ``barge_in`` a DTMF digit heard on the channel stops the playback
        (the digit is still reported). A playback already running is stopped.
        """
        self._check(handle)
        self.stop_playback(handle)
        if barge_in:
            self.enable_dtmf(handle)
        self._regroup_players()
        self._playbacks[handle.slot] = _Playback(player, tag, mix, barge_in)

    def _drop_playback(self, slot: int) -> _Playback | None:
        if slot in self._playbacks:
            self._regroup_players()
        return self._playbacks.pop(slot, None)

    def _regroup_players(self) -> None:
        """The playbacks change: the groups give their positions back and are rebuilt at
        the next tick."""
        if self._player_groups is not None:
            for group in self._player_groups:
                group.sync()
            self._player_groups = None

    def stop_playback(self, handle: ChannelHandle) -> None:
        playback = self._drop_playback(handle.slot)
        if playback is not None:
            self._emit(PlaybackFinished(handle, playback.tag, "stopped", self.stats.ticks))

    def playing(self, handle: ChannelHandle) -> str | None:
        playback = self._playbacks.get(handle.slot)
        return playback.tag if playback else None

    def enable_dtmf(self, handle: ChannelHandle, enabled: bool = True) -> None:
        """Scan a channel's input for DTMF digits (events: DtmfDigit)."""
        if enabled and not self._dtmf_on[handle.slot]:
            self._dtmf.reset([handle.slot])
        self._dtmf_on[handle.slot] = enabled
        self._dtmf_rows = np.nonzero(self._dtmf_on)[0]

    def enable_cpt(self, handle: ChannelHandle, enabled: bool = True) -> None:
        """Scan a channel's input for busy/reorder, fax CNG/CED, silence (events: ToneDetected)."""
        if enabled and not self._cpt_on[handle.slot]:
            self._cpt.reset([handle.slot])
        self._cpt_on[handle.slot] = enabled
        self._cpt_rows = np.nonzero(self._cpt_on)[0]

    # ----------------------------------------------------------------- recording
    def tap(
        self,
        caller: ChannelHandle,
        agent: ChannelHandle,
        sink: TapSink,
        *,
        mode: TapMode = "stereo",
        label: str = "",
    ) -> RecordingTap:
        """Record a call: the caller's and the agent's received audio (REC-1)."""
        self._check(caller)
        self._check(agent)
        if mode not in ("stereo", "mixed"):
            raise MediaError(f"recording mode must be 'stereo' or 'mixed', got {mode!r}")
        tap = RecordingTap(next(self._tap_ids), mode, sink, caller.slot, agent.slot, label=label)
        self._taps[tap.tap_id] = tap
        self._tap_index = None
        self.writer.start()
        return tap

    def stop_tap(self, tap: RecordingTap) -> None:
        """Stop a recording; its sink is closed after its last frames are written."""
        if self._taps.pop(tap.tap_id, None) is None:
            return
        tap.closed = True
        self._tap_index = None
        self.writer.close_tap(tap)

    # ---------------------------------------------------------------------- tick
    def _emit(self, event: MediaEvent) -> None:
        self._pending_events.append(event)

    def tick(self) -> None:
        """Process one 20 ms frame for every channel."""
        started = self._cpu_timer()
        tick_no = self.stats.ticks
        # 0. drivers that poll (analog ports) deliver their frames and line events
        for hook in self.before_tick:
            try:
                hook()
            except Exception:  # one broken driver must not silence every other call
                log.exception("media before-tick hook %r failed", hook)
        # 1. inputs
        self._fresh[self._slip.pop_into(self._in)] = True
        for slot, source in self._sources.items():
            frame = source()
            if frame is not None:
                handle = self._handles[slot]
                assert handle is not None
                try:
                    self._in[slot] = self._decode(frame, handle.law, handle.name)
                    self._fresh[slot] = True
                except MediaError as exc:
                    log.error("dropped a bad input frame: %s", exc, extra={"channel": handle.name})
        for group, group_source in self._group_sources:
            block = group_source()
            if block is not None:
                try:
                    self._in[group._slots] = self._group_block(group._slots, group.law, block)
                    self._fresh[group._slots] = True
                except MediaError as exc:
                    log.error("dropped a bad input block: %s", exc)
        self.stats.channel_ticks += int(np.count_nonzero(self._registered))
        missing = self._registered & ~self._fresh
        if missing.any():
            rows = np.nonzero(missing)[0]
            self._in[rows] = 0
            self.stats.missing_frames += len(rows)
            for slot in rows.tolist():
                handle = self._handles[slot]
                assert handle is not None
                handle.missing_frames += 1
        self._fresh[:] = False
        # 2. detectors
        if len(self._dtmf_rows):
            for ev in self._dtmf.process(self._in[self._dtmf_rows], self._dtmf_rows):
                handle = self._handles[ev.channel]
                assert handle is not None
                self._emit(DtmfDigit(handle, ev.digit, tick_no))
                playback = self._playbacks.get(ev.channel)
                if playback is not None and playback.barge_in:
                    self._drop_playback(ev.channel)
                    self._emit(PlaybackFinished(handle, playback.tag, "barge-in", tick_no))
        if len(self._cpt_rows):
            for cev in self._cpt.process(self._in[self._cpt_rows], self._cpt_rows):
                handle = self._handles[cev.channel]
                assert handle is not None
                self._emit(ToneDetected(handle, cev.tone, tick_no))
        # 3. cross-connect
        if self._routes_dirty:
            self._compile_routes()
        out = self._out
        out[:] = 0
        for dst, src in self._routes:
            if src.shape[1] == 1:
                out[dst] = self._in[src[:, 0]]
            else:
                mixed = self._in[src].sum(axis=1, dtype=np.int32)
                out[dst] = np.clip(mixed, -32768, 32767)
        # 4. players: one gather per sample buffer for every channel playing it
        if self._playbacks:
            self._play(out, tick_no)
        # 5. recording taps
        if self._taps:
            if self._tap_index is None:
                taps = tuple(self._taps.values())
                self._tap_index = (
                    taps,
                    np.array([[t.caller_slot, t.agent_slot] for t in taps], np.intp),
                )
            taps, index = self._tap_index
            if not self.writer.offer(taps, self._in[index]):
                self.stats.recording_dropped += len(taps)
        # 6. outputs
        for slot, sink in self._sinks.items():
            handle = self._handles[slot]
            assert handle is not None
            sink(self._encode(out[slot], handle.law))
        self.stats.ticks += 1
        elapsed = self._cpu_timer() - started
        self.stats.tick_seconds.append(elapsed)
        if elapsed > TICK_SECONDS:
            self.stats.overruns += 1
        self._dispatch()

    def _play(self, out: npt.NDArray[np.int16], tick_no: int) -> None:
        if self._player_groups is None:
            self._player_groups = group_players(
                {slot: (p.player, p.mix) for slot, p in self._playbacks.items()})
        finished: list[int] = []
        for group in self._player_groups:
            frames, done = group.read()
            slots = group.slots
            if done.any():
                finished.extend(int(slot) for slot in slots[done])
                frames, slots = frames[~done], slots[~done]
            if group.mix:
                out[slots] = np.clip(out[slots].astype(np.int32) + frames, -32768, 32767)
            else:
                out[slots] = frames
        for slot in finished:
            playback = self._drop_playback(slot)
            handle = self._handles[slot]
            assert playback is not None and handle is not None
            self._emit(PlaybackFinished(handle, playback.tag, "done", tick_no))

    # ------------------------------------------------------------------- timing
    def timing_tick(self, source: str, priority: int) -> bool:
        """A timing source (a span clocked from its line) has handed over one 20 ms block.

        The engine follows the source with the best ``priority`` (1 = primary;
        0 never provides timing) among those that delivered within ``HOLDOVER``,
        and ticks now when ``source`` is the one followed. Returns whether it
        ticked, so the source's outputs are this tick's.
        """
        if priority <= 0:
            return False
        now = self._now()
        current = self.stats.timing_source
        holding = bool(current) and now - self._timing_seen <= HOLDOVER
        if source != current:
            if holding and priority >= self._timing_priority:
                return False
            log.info("media engine takes its timing from %s%s", source,
                     f" (was {current})" if current else "")
            self.stats.timing_source, self._timing_priority = source, priority
            self.stats.timing_changes += 1
            holding = False
        if holding:
            self._account_lateness(now - (self._timing_seen + TICK_SECONDS))
        self._timing_seen = now
        self.tick()
        return True

    def _timed(self, now: float) -> bool:
        """A timing source drives the ticks (the free-running schedule stands by)."""
        if not self.stats.timing_source:
            return False
        if now - self._timing_seen <= HOLDOVER:
            return True
        log.warning("media engine lost its timing source %s (no block for %.0f ms); ticking "
                    "on the system clock", self.stats.timing_source, HOLDOVER * 1000)
        self.stats.timing_source = ""
        self.stats.timing_changes += 1
        return False

    def _account_lateness(self, lateness: float) -> None:
        self.stats.lateness.append(max(lateness, 0.0))
        if lateness >= TICK_SECONDS:
            self.stats.stalls += 1
        if lateness > self.late_tolerance:
            self.stats.late_ticks += 1

    def _dispatch(self) -> None:
        events, self._pending_events = self._pending_events, []
        if self.on_event is None:
            return
        for event in events:
            try:
                self.on_event(event)
            except Exception:  # a faulty listener must not stop the audio of every call
                log.exception("media event handler failed on %s", type(event).__name__)

    async def run(
        self, clock: Clock, *, ticks: int | None = None, stop: asyncio.Event | None = None
    ) -> None:
        """Tick every 20 ms on the clock's deadline schedule (start + k * 20 ms, no drift)
        whenever no timing source drives the engine (``timing_tick``); ``ticks`` ends
        the run after that many engine ticks, by either clock.

        A tick that starts more than ``late_tolerance`` after its deadline counts
        as late; after a stall of more than ``max_catch_up`` ticks the missed
        ticks are skipped (counted) instead of being run back to back.
        """
        self._now = clock.monotonic
        start = clock.monotonic()
        k = 0
        until = None if ticks is None else self.stats.ticks + ticks
        while (until is None or self.stats.ticks < until) and not (
            stop is not None and stop.is_set()
        ):
            if self._timed(clock.monotonic()):
                await clock.sleep(TICK_SECONDS)
                start, k = clock.monotonic(), 0  # on its own schedule again from here
                continue
            deadline = start + k * TICK_SECONDS
            delay = deadline - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
                if self._timed(clock.monotonic()):
                    continue
            lateness = clock.monotonic() - deadline
            self._account_lateness(lateness)
            if lateness > self.late_tolerance:
                behind = int(lateness / TICK_SECONDS)
                if behind > self.max_catch_up:
                    self.stats.skipped_ticks += behind
                    k += behind
                    log.warning(
                        "media engine stalled for %.0f ms; skipped %d ticks",
                        lateness * 1000,
                        behind,
                    )
            self.tick()
            k += 1
            if delay <= 0:
                await asyncio.sleep(0)  # let drivers run between catch-up ticks

    def close(self) -> None:
        """Stop every tap and the writer thread (daemon shutdown)."""
        for tap in list(self._taps.values()):
            self.stop_tap(tap)
        self.writer.stop()


def channel_slots(handles: Iterable[ChannelHandle]) -> npt.NDArray[np.intp]:
    return np.array([h.slot for h in handles], np.intp)
