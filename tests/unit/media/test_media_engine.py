"""The tick engine: cross-connects, supervision, late frames, players, events, taps."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from appliance.config.sections.media import BUILTIN_TONE_PLANS
from appliance.media.dsp.dtmf import dtmf_generate
from appliance.media.engine import HOLDOVER, MediaEngine, MediaError
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished
from appliance.media.prompts import Prompt
from appliance.media.recording import RawTapSink
from appliance.runtime.clock import VirtualClock
from drivers.span import g711


def const(value: int) -> np.ndarray:
    return np.full(160, value, np.int16)


@pytest.fixture
def engine() -> MediaEngine:
    return MediaEngine(16, tones=BUILTIN_TONE_PLANS["cn"].tones())


def test_bridge_passes_each_side_to_the_other(engine: MediaEngine) -> None:
    a, b, c = engine.register("a"), engine.register("b"), engine.register("c")
    engine.bridge(a, b)
    a.write_input(const(100))
    b.write_input(const(-200))
    c.write_input(const(7))
    engine.tick()
    assert (b.read_output() == 100).all()
    assert (a.read_output() == -200).all()
    assert (c.read_output() == 0).all()  # not connected: silence


def test_conference_each_leg_hears_the_others_not_itself_with_saturation(
    engine: MediaEngine,
) -> None:
    legs = [engine.register(f"leg{i}") for i in range(4)]
    engine.conference(legs)
    for leg, value in zip(legs, (1000, 2000, 3000, 30000), strict=True):
        leg.write_input(const(value))
    engine.tick()
    assert legs[0].read_output()[0] == 32767  # 2000+3000+30000 clips instead of wrapping
    assert legs[1].read_output()[0] == 32767
    assert legs[3].read_output()[0] == 6000
    legs[3].write_input(const(-30000))
    for leg, value in zip(legs[:3], (1000, 2000, 3000), strict=True):
        leg.write_input(const(value))
    engine.tick()
    assert legs[0].read_output()[0] == -25000
    assert legs[3].read_output()[0] == 6000


def test_leaving_a_conference_keeps_the_rest_talking(engine: MediaEngine) -> None:
    legs = [engine.register(f"leg{i}") for i in range(3)]
    conf = engine.conference(legs)
    engine.unbridge(legs[1])
    assert engine.connection_of(legs[0]) == conf == engine.connection_of(legs[2])
    assert engine.connection_of(legs[1]) is None
    for leg, value in zip(legs, (10, 20, 30), strict=True):
        leg.write_input(const(value))
    engine.tick()
    assert legs[0].read_output()[0] == 30 and legs[2].read_output()[0] == 10
    assert legs[1].read_output()[0] == 0
    fourth = engine.register("late joiner")
    engine.add_to_conference(conf, fourth)
    for leg, value in zip([*legs, fourth], (10, 20, 30, 40), strict=True):
        leg.write_input(const(value))
    engine.tick()
    assert fourth.read_output()[0] == 40 and legs[0].read_output()[0] == 70


def _supervised(engine: MediaEngine, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    caller, agent, sup = engine.register("caller"), engine.register("agent"), engine.register("sup")
    engine.bridge(caller, agent)
    getattr(engine, mode)(sup, agent, caller)
    caller.write_input(const(1))
    agent.write_input(const(10))
    sup.write_input(const(100))
    engine.tick()
    return caller.read_output(), agent.read_output(), sup.read_output()


def test_listen_supervisor_hears_both_and_is_not_heard(engine: MediaEngine) -> None:
    caller, agent, sup = _supervised(engine, "listen")
    assert (caller[0], agent[0], sup[0]) == (10, 1, 11)


def test_whisper_agent_hears_supervisor_caller_does_not(engine: MediaEngine) -> None:
    caller, agent, sup = _supervised(engine, "whisper")
    assert (caller[0], agent[0], sup[0]) == (10, 101, 11)


def test_barge_is_a_three_way_call(engine: MediaEngine) -> None:
    caller, agent, sup = _supervised(engine, "barge")
    assert (caller[0], agent[0], sup[0]) == (110, 101, 11)


def test_supervisor_leaving_restores_the_plain_bridge(engine: MediaEngine) -> None:
    caller, agent, sup = engine.register("caller"), engine.register("agent"), engine.register("s")
    engine.barge(sup, agent, caller)
    engine.unbridge(sup)
    caller.write_input(const(1))
    agent.write_input(const(10))
    sup.write_input(const(100))
    engine.tick()
    assert (caller.read_output()[0], agent.read_output()[0], sup.read_output()[0]) == (10, 1, 0)


def test_missing_input_is_silence_counted_and_a_late_frame_plays_next_tick(
    engine: MediaEngine,
) -> None:
    a, b = engine.register("a"), engine.register("b")
    engine.bridge(a, b)
    a.write_input(const(5))
    engine.tick()
    assert b.read_output()[0] == 5
    engine.tick()  # a's frame did not arrive
    assert b.read_output()[0] == 0
    assert a.missing_frames == 1 and engine.stats.missing_frames == 3  # b never wrote either
    a.write_input(const(6))
    a.write_input(const(7))  # the late frame and its successor: both play, in order
    engine.tick()
    assert b.read_output()[0] == 6
    engine.tick()
    assert b.read_output()[0] == 7
    engine.tick()
    assert b.read_output()[0] == 0 and a.missing_frames == 2 and a.slips == 0


def test_a_driver_faster_than_the_tick_slips_counted_frames_not_silence(
    engine: MediaEngine,
) -> None:
    """G.823 controlled slips: a full slip buffer drops its oldest frame and counts it."""
    a, b = engine.register("a"), engine.register("b")
    engine.bridge(a, b)
    for value in range(1, 7):  # six frames before one tick; the buffer holds four
        a.write_input(const(value))
    assert a.slips == 2 and engine.stats.slips == 2
    heard = []
    for _ in range(5):
        engine.tick()
        heard.append(int(b.read_output()[0]))
    assert heard == [3, 4, 5, 6, 0]
    assert a.missing_frames == 1  # only the tick after the buffer ran dry


def test_phase_wander_between_a_span_and_the_tick_loses_no_frame(engine: MediaEngine) -> None:
    """A span's blocks landing either side of the tick (0, 1 or 2 per tick) all reach the
    far end, in order, after at most one counted missing frame."""
    a, b = engine.register("a"), engine.register("b")
    engine.bridge(a, b)
    per_tick = [1, 0, 2, 1, 0, 2, 1, 1, 0, 2, 1]
    sent, heard, value = [], [], 1
    for arrivals in per_tick:
        for _ in range(arrivals):
            a.write_input(const(value))
            sent.append(value)
            value += 1
        engine.tick()
        heard.append(int(b.read_output()[0]))
    assert [v for v in heard if v] == sent[: len([v for v in heard if v])]
    assert a.slips == 0 and a.missing_frames == heard.count(0) == 1


def test_channels_come_and_go_between_ticks(engine: MediaEngine) -> None:
    handles = [engine.register(f"b{i}") for i in range(16)]
    with pytest.raises(MediaError, match="full"):
        engine.register("one too many")
    engine.bridge(handles[0], handles[1])
    engine.unregister(handles[1])
    with pytest.raises(MediaError, match="not registered"):
        handles[1].write_input(const(1))
    reused = engine.register("new leg")
    assert reused.slot == handles[1].slot
    handles[0].write_input(const(9))
    engine.tick()
    assert reused.read_output()[0] == 0  # the old bridge died with the old channel
    engine.bridge(handles[0], reused)
    handles[0].write_input(const(9))
    engine.tick()
    assert reused.read_output()[0] == 9


def test_alaw_and_ulaw_channels_are_transcoded(engine: MediaEngine) -> None:
    e1 = engine.register("span1/1", law="alaw")
    sip = engine.register("sip", law="ulaw")
    engine.bridge(e1, sip)
    speech = np.linspace(-20000, 20000, 160).astype(np.int16)
    e1.write_input(g711.alaw_encode(speech))
    engine.tick()
    out = sip.read_output()
    assert out.dtype == np.uint8
    assert np.array_equal(out, g711.ulaw_encode(g711.alaw_decode(g711.alaw_encode(speech))))
    with pytest.raises(MediaError, match="uint8"):
        e1.write_input(speech)
    with pytest.raises(MediaError, match="160"):
        e1.write_input(np.zeros(80, np.uint8))
    with pytest.raises(MediaError, match="unknown law"):
        engine.register("x", law="g729")  # type: ignore[arg-type]


def test_channel_group_block_io(engine: MediaEngine) -> None:
    span = engine.register_group([f"span1/{i}" for i in range(1, 5)], law="alaw")
    far = [engine.register(f"far{i}") for i in range(4)]
    for a, b in zip(span.handles, far, strict=True):
        engine.bridge(a, b)
    block = np.stack([g711.alaw_encode(const(1000 * (i + 1))) for i in range(4)])
    span.write_block(block)
    for i, b in enumerate(far):
        b.write_input(const(-(i + 1) * 500))
    engine.tick()
    assert [int(b.read_output()[0]) for b in far] == [1008, 2016, 3008, 4032]
    decoded = g711.alaw_decode(span.read_block())
    assert [int(r[0]) for r in decoded] == [-504, -1008, -1504, -2016]
    with pytest.raises(MediaError, match="expected block"):
        span.write_block(block[:2])


def test_sources_and_sinks_callbacks(engine: MediaEngine) -> None:
    got: list[np.ndarray] = []
    frames = iter([const(3), None])
    a = engine.register("a", source=lambda: next(frames))
    b = engine.register("b", sink=got.append)
    engine.bridge(a, b)
    engine.tick()
    engine.tick()
    assert [int(f[0]) for f in got] == [3, 0]
    assert a.missing_frames == 1


def test_tone_plays_with_its_cadence_and_mix_adds_to_speech(engine: MediaEngine) -> None:
    a = engine.register("a")
    engine.play_tone(a, "busy")  # CN: 450 Hz 350 ms on, 350 ms off
    energy = []
    for _ in range(70):
        engine.tick()
        energy.append(float(np.abs(a.read_output().astype(np.float64)).mean()))
    on = np.array(energy) > 100
    assert on[:17].all() and not on[18:35].any() and on[35:52].all()
    with pytest.raises(MediaError, match="no tone 'beep'"):
        engine.play_tone(a, "beep")
    b, c = engine.register("b"), engine.register("c")
    engine.bridge(b, c)
    engine.play_tone(c, "call_waiting", mix=True)
    b.write_input(const(1000))
    engine.tick()
    out = c.read_output().astype(int)
    assert out.min() < 1000 < out.max() and abs(out.mean() - 1000) < 200


def test_prompt_is_cut_short_by_dtmf_barge_in(engine: MediaEngine) -> None:
    events: list[MediaEvent] = []
    engine.on_event = events.append
    caller = engine.register("caller")
    prompt = Prompt("welcome", np.full(8000 * 3, 1234, np.int16), "PCM", False)
    engine.play_prompt(caller, prompt)
    digits = dtmf_generate("5", on_ms=80, off_ms=0, lead_ms=200)
    for tick in range(40):
        chunk = digits[tick * 160 : (tick + 1) * 160]
        caller.write_input(np.pad(chunk, (0, 160 - len(chunk))))
        engine.tick()
        if engine.playing(caller) is None:
            break
    assert [type(e) for e in events] == [DtmfDigit, PlaybackFinished]
    digit, finished = events
    assert isinstance(digit, DtmfDigit) and digit.digit == "5" and digit.channel is caller
    assert isinstance(finished, PlaybackFinished) and finished.reason == "barge-in"
    assert finished.tag == "welcome" and 11 <= finished.tick <= 13  # tone starts in tick 10
    engine.tick()
    assert (caller.read_output() == 0).all()


def test_prompt_played_to_the_end_reports_done(engine: MediaEngine) -> None:
    events: list[MediaEvent] = []
    engine.on_event = events.append
    a = engine.register("a")
    engine.play_samples(a, np.full(400, 50, np.int16), tag="short")
    outputs = []
    for _ in range(4):
        engine.tick()
        outputs.append(a.read_output().copy())
    assert [int((o == 50).sum()) for o in outputs] == [160, 160, 80, 0]
    assert events == [PlaybackFinished(a, "short", "done", 3)]


def test_listeners_of_one_file_each_hear_it_from_where_they_joined(engine: MediaEngine) -> None:
    """Callers sharing one prompt buffer are read in one pass (issue 14 item 4) and each
    still hears it from its own start; stopping one, or one finishing, leaves the others'
    positions alone."""
    events: list[MediaEvent] = []
    engine.on_event = events.append
    ramp = np.arange(800, dtype=np.int16)  # 5 frames; sample n has the value n
    a, b, c, d = (engine.register(n) for n in "abcd")
    engine.play_samples(a, ramp, tag="welcome")
    engine.tick()
    engine.play_samples(b, ramp, tag="welcome")
    engine.play_samples(d, ramp, tag="moh", loop=True)
    engine.tick()
    engine.play_samples(c, ramp, tag="welcome")
    engine.tick()
    assert [int(h.read_output()[0]) for h in (a, b, c, d)] == [320, 160, 0, 160]
    engine.stop_playback(b)
    for _ in range(2):
        engine.tick()
    assert [int(h.read_output()[0]) for h in (a, b, c, d)] == [640, 0, 320, 480]
    for _ in range(3):
        engine.tick()
    assert [(e.channel.name, e.reason) for e in events if isinstance(e, PlaybackFinished)] == [
        ("b", "stopped"), ("a", "done"), ("c", "done")]
    assert int(c.read_output()[0]) == 0 and engine.playing(c) is None
    assert int(d.read_output()[0]) == 160 and engine.playing(d) == "moh"  # looped: round again


def test_a_tone_with_a_duration_ends_inside_its_last_frame(engine: MediaEngine) -> None:
    events: list[MediaEvent] = []
    engine.on_event = events.append
    a, b = engine.register("a"), engine.register("b")
    engine.play_tone(a, "dial", duration_s=0.03)  # 240 samples: a frame and a half
    engine.play_tone(b, "dial")  # the same tone, unlimited: one group with a
    outputs = []
    for _ in range(3):
        engine.tick()
        outputs.append(a.read_output().copy())
    assert [int(np.count_nonzero(o)) > 0 for o in outputs] == [True, True, False]
    assert not outputs[1][80:].any() and outputs[1][:80].any()
    assert [e.channel.name for e in events if isinstance(e, PlaybackFinished)] == ["a"]
    assert engine.playing(b) == "dial" and b.read_output().any()


def test_a_failing_event_handler_does_not_stop_the_tick(
    engine: MediaEngine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: MediaEvent) -> None:
        raise RuntimeError("listener bug")

    engine.on_event = broken
    a = engine.register("a")
    engine.play_samples(a, np.zeros(10, np.int16))
    engine.tick()
    engine.tick()
    assert engine.stats.ticks == 2
    assert "media event handler failed" in caplog.text


def test_dtmf_scanning_is_per_channel(engine: MediaEngine) -> None:
    events: list[MediaEvent] = []
    engine.on_event = events.append
    a, b = engine.register("a"), engine.register("b")
    engine.enable_dtmf(a)
    burst = dtmf_generate("7", on_ms=100, off_ms=100)
    for frame in burst.reshape(-1, 160):
        a.write_input(frame)
        b.write_input(frame)
        engine.tick()
    assert [(e.channel.name, e.digit) for e in events if isinstance(e, DtmfDigit)] == [("a", "7")]


def test_recording_tap_stereo_and_mixed(engine: MediaEngine) -> None:
    caller, agent = engine.register("caller"), engine.register("agent")
    engine.bridge(caller, agent)
    stereo, mixed = RawTapSink(), RawTapSink()
    tap1 = engine.tap(caller, agent, stereo, mode="stereo")
    tap2 = engine.tap(caller, agent, mixed, mode="mixed")
    for i in range(5):
        caller.write_input(const(i))
        agent.write_input(const(30000))
        engine.tick()
    engine.stop_tap(tap1)
    engine.stop_tap(tap2)
    engine.writer.flush()
    a, m = stereo.audio(), mixed.audio()
    assert a.shape == (2, 800) and m.shape == (1, 800)
    assert a[0, ::160].tolist() == [0, 1, 2, 3, 4] and (a[1] == 30000).all()
    assert m[0, ::160].tolist() == [30000, 30001, 30002, 30003, 30004]
    assert stereo.closed and mixed.closed
    assert tap1.frames_written == 5 and tap1.frames_dropped == 0
    engine.close()


def test_recording_drops_are_counted_never_blocking(engine: MediaEngine) -> None:
    small = MediaEngine(4, recording_queue=3)
    caller, agent = small.register("c"), small.register("a")
    sink = RawTapSink()
    tap = small.tap(caller, agent, sink)
    small.writer.stop()  # writer gone: the queue fills and the tick must not wait
    for _ in range(10):
        small.tick()
    assert tap.frames_queued == 3 and tap.frames_dropped == 7
    assert small.stats.recording_dropped == 7


def test_run_ticks_on_deadlines_without_drift_and_counts_late_ticks() -> None:
    clock = VirtualClock()
    engine = MediaEngine(4)
    tick_times: list[float] = []
    engine.register("a", source=lambda: tick_times.append(clock.monotonic()))

    async def scenario() -> None:
        task = asyncio.create_task(engine.run(clock, ticks=60))
        await asyncio.sleep(0)
        for k in range(1, 60):
            # the loop wakes 3 ms late every 7th tick, and once 15 ms late
            jitter = 0.003 if k % 7 == 3 else 0.015 if k == 30 else 0.0
            clock.run_until(k * 0.020 + jitter)
            for _ in range(5):
                await asyncio.sleep(0)
        await task

    asyncio.run(scenario())
    assert engine.stats.ticks == 60
    deadlines = np.arange(60) * 0.020
    lateness = np.array(tick_times) - deadlines
    assert lateness.min() >= 0 and lateness.max() == pytest.approx(0.015)
    assert engine.stats.late_ticks == 1  # only the 15 ms stall exceeds the 10 ms tolerance
    # No drift: the 60th tick is still tied to 59 x 20 ms, not to the sum of waits.
    jitter = [0.003 if k % 7 == 3 else 0.015 if k == 30 else 0.0 for k in range(60)]
    assert lateness == pytest.approx(jitter, abs=1e-9)


def test_run_skips_ticks_after_a_long_stall_and_counts_them() -> None:
    clock = VirtualClock()
    engine = MediaEngine(2, max_catch_up=5)

    async def scenario() -> None:
        task = asyncio.create_task(engine.run(clock, ticks=5))
        await asyncio.sleep(0)
        clock.advance(0.5)  # the box froze for half a second
        for _ in range(20):
            await asyncio.sleep(0)
        for _ in range(10):
            clock.advance(0.02)
            for _ in range(3):
                await asyncio.sleep(0)
        await task

    asyncio.run(scenario())
    assert engine.stats.skipped_ticks >= 20 and engine.stats.late_ticks >= 1
    # the half-second freeze is a stall, and the lateness figures (bench/system.py) show it
    assert engine.stats.stalls >= 1
    assert engine.stats.lateness_ms()["max"] >= 400.0
    assert engine.stats.lateness_ms()["p50"] < engine.stats.lateness_ms()["max"]


def test_a_failing_recording_sink_does_not_stop_other_recordings(
    engine: MediaEngine, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenSink(RawTapSink):
        def write(self, tap: object, pcm: np.ndarray) -> None:
            raise OSError("disk full")

    caller, agent = engine.register("caller"), engine.register("agent")
    good = RawTapSink()
    engine.tap(caller, agent, BrokenSink(), label="call-1")
    engine.tap(caller, agent, good, label="call-2")
    for _ in range(3):
        engine.tick()
    engine.writer.flush()
    assert good.audio().shape == (2, 480)
    assert "recording sink failed" in caplog.text and "call-1" in caplog.text
    engine.close()


def test_unregister_ends_playback_taps_and_scanning(engine: MediaEngine) -> None:
    caller, agent = engine.register("caller"), engine.register("agent")
    sink = RawTapSink()
    engine.tap(caller, agent, sink)
    engine.play_tone(caller, "ringback")
    engine.enable_dtmf(caller)
    engine.unregister(caller)
    engine.writer.flush()
    assert sink.closed and engine.channels == [agent]
    engine.tick()
    assert engine.stats.ticks == 1
    engine.close()


def test_before_tick_hooks_deliver_frames_and_a_broken_hook_is_logged(
    engine: MediaEngine, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = engine.register("a"), engine.register("b")
    engine.bridge(a, b)

    def port_driver() -> None:
        a.write_input(const(42))

    def broken_driver() -> None:
        raise OSError("port gone")

    engine.before_tick.extend([broken_driver, port_driver])
    engine.tick()
    assert b.read_output()[0] == 42 and a.missing_frames == 0
    assert "before-tick hook" in caplog.text


def test_a_span_clocked_from_its_line_ticks_the_engine_and_the_system_clock_takes_over() -> None:
    """One clock (DAHDI master span): while a span hands blocks over, each block is one
    tick and the free-running schedule stands by; a silent source is left after
    HOLDOVER, the next-best priority is followed, priority 0 never is."""
    clock = VirtualClock()
    engine = MediaEngine(4)
    a, b = engine.register("e1a/B1"), engine.register("b")
    engine.bridge(a, b)
    stop = asyncio.Event()

    async def let_run() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def scenario() -> None:
        task = asyncio.create_task(engine.run(clock, stop=stop))
        await let_run()
        clock.advance(0.1)  # no timing source yet: the system clock ticks (t = 0 ... 0.1)
        await let_run()
        free, missing = engine.stats.ticks, a.missing_frames
        assert free >= 5 and engine.stats.timing_source == ""
        # e1a (priority 1) delivers a block every 21 ms: slower than the system clock
        for n in range(20):
            clock.advance(0.021)
            a.write_input(const(100 + n))
            assert engine.timing_tick("e1a", 1)
            assert b.read_output()[0] == 100 + n  # out in the same block it came in with
            assert not engine.timing_tick("e1b", 0)  # never a timing source
            assert not engine.timing_tick("e1c", 2)  # e1a is better
            await let_run()
        assert engine.stats.ticks == free + 20 and engine.stats.timing_source == "e1a"
        assert a.missing_frames == missing and a.slips == 0
        # e1a falls silent: after HOLDOVER the secondary is followed
        clock.advance(HOLDOVER + 0.001)
        await let_run()
        assert engine.timing_tick("e1c", 2) and engine.stats.timing_source == "e1c"
        # ... and with no source at all, the system clock ticks again
        before = engine.stats.ticks
        for _ in range(int(HOLDOVER / 0.02) + 10):
            clock.advance(0.02)
            await let_run()
        assert engine.stats.timing_source == "" and engine.stats.ticks >= before + 5
        stop.set()
        clock.advance(0.04)
        await let_run()
        await task

    asyncio.run(scenario())
    assert engine.stats.timing_changes == 4  # e1a, system clock, e1c, system clock


def test_a_reader_off_the_engine_clock_has_its_output_slips_counted(engine: MediaEngine) -> None:
    """A span not followed for timing reads the last tick's output: a block that finds the
    same tick again sends a frame twice, one that misses a tick never sends a frame."""
    a = engine.register("e1b/B1")
    engine.tick()
    a.read_output()
    engine.tick()
    a.read_output()
    assert a.output_slips == 0
    a.read_output()  # the same tick again
    engine.tick()
    engine.tick()
    engine.tick()
    a.read_output()  # two ticks' output never read
    assert a.output_slips == 3 and engine.stats.output_slips == 3
