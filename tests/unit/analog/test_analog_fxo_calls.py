"""FXO scenarios on the in-process rig: carrier line simulator -> sim port -> FSM -> media engine."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest

from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.fxo import FxoChannel, FxoSettings, FxoState
from hil.sim.analog_rig import AnalogRig
from hil.sim.pstn import LineConfig, LineFaults, LineState, PstnLine

CALLER = CallerId(number="02087654321", name="ACME LTD", datetime="11231015")


@pytest.fixture
def rig() -> Iterator[AnalogRig]:
    r = AnalogRig()
    yield r
    r.close()


def _line(rig: AnalogRig, country: str = "CN", rings: int = 2, faults: LineFaults | None = None,
          **settings: object) -> tuple[FxoChannel, PstnLine]:
    line_cfg = LineConfig(country=country, faults=faults or LineFaults(),
                          **{k[5:]: v for k, v in settings.items() if k.startswith("line_")})
    fxo_cfg = FxoSettings(country=country, rings_before_answer=rings,
                          **{k: v for k, v in settings.items() if not k.startswith("line_")})
    channel, line = rig.add_line("line1", line_cfg, fxo_cfg)
    rig.step(3)
    return channel, line


def _answered(channel: FxoChannel) -> bool:
    return channel.state is FxoState.ANSWERED


@pytest.mark.parametrize(("country", "standard", "timing"), [
    ("US", "bell202", "after-first-ring"),  # GR-30-CORE, MDMF between ring 1 and 2
    ("CN", "bell202", "after-first-ring"),
    ("DE", "v23", "after-first-ring"),  # EN 300 659-1 §5.3.2
    ("GB", "v23", "before-ring"),  # EN 300 659-1 §5.3.1: reversal, DT-AS, FSK, ring
    ("NL", "dtmf", "before-ring"),  # DTMF caller ID before the first ring
])
def test_inbound_call_with_caller_id_reaches_the_media_engine(
        rig: AnalogRig, country: str, standard: str, timing: str) -> None:
    channel, line = _line(rig, country, rings=2)
    assert (channel.cid_standard, channel.cid_timing) == (standard, timing)
    line.ring(CALLER)
    rig.run_until(lambda: _answered(channel), timeout_s=20)
    assert channel.caller_id is not None
    assert channel.caller_id.number == "02087654321"
    if standard != "dtmf":
        assert channel.caller_id.name == "ACME LTD"
    assert rig.kinds("line1")[:3] == (["incoming", "callerid", "answered"]
                                      if timing == "after-first-ring"
                                      else ["callerid", "incoming", "answered"])
    assert channel.rings == 2 and line.state is LineState.TALKING
    # the far end's voice now flows into the media engine: bridge a probe channel to hear it
    probe = rig.engine.register("probe")
    rig.engine.bridge(probe, channel.handle)
    rig.step(5)
    heard = probe.read_output().astype(np.float64)
    assert np.sqrt(np.mean(heard ** 2)) > 500


def test_answer_after_one_ring_waits_for_caller_id_in_the_pause(rig: AnalogRig) -> None:
    channel, line = _line(rig, "US", rings=1)
    line.ring(CALLER)
    rig.run_until(lambda: _answered(channel), timeout_s=10)
    assert channel.caller_id is not None and channel.caller_id.number == "02087654321"


def test_garbled_caller_id_burst_is_logged_and_the_call_still_answered(
        rig: AnalogRig, caplog: pytest.LogCaptureFixture) -> None:
    channel, line = _line(rig, "US", rings=2, faults=LineFaults(garble_callerid=True))
    with caplog.at_level(logging.WARNING, "appliance.signalling.analog"):
        line.ring(CALLER)
        rig.run_until(lambda: _answered(channel), timeout_s=20)
    assert channel.caller_id is None
    assert "caller" in channel.cid_problem.lower() or "checksum" in channel.cid_problem
    assert any("garbled caller ID" in r.getMessage() for r in caplog.records)


def test_a_ring_too_short_is_ignored_and_the_port_stays_idle(
        rig: AnalogRig, caplog: pytest.LogCaptureFixture) -> None:
    channel, line = _line(rig, "CN", faults=LineFaults(ring_on_ms=60))
    with caplog.at_level(logging.INFO, "appliance.signalling.analog"):
        line.ring(CALLER)
        rig.run(12)
    assert channel.state is FxoState.IDLE
    assert "answered" not in rig.kinds("line1")
    assert any("too short" in r.getMessage() for r in caplog.records)


def test_a_broken_cadence_is_ignored_until_ringing_stops(
        rig: AnalogRig, caplog: pytest.LogCaptureFixture) -> None:
    channel, line = _line(rig, "CN", faults=LineFaults(broken_cadence=(3000, 500)))
    with caplog.at_level(logging.WARNING, "appliance.signalling.analog"):
        line.ring(CALLER)
        rig.run(5)
    assert channel.state is FxoState.RING_IGNORED
    assert any("does not match CN" in r.getMessage() for r in caplog.records)
    line.caller_abandons()
    rig.run(6)
    assert channel.state is FxoState.IDLE
    assert "answered" not in rig.kinds("line1")


def test_caller_abandoning_while_ringing_returns_the_port_to_idle(rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", rings=4)
    line.ring(CALLER)
    rig.run_until(lambda: channel.rings == 1, timeout_s=10)
    line.caller_abandons()
    rig.run(7)
    assert channel.state is FxoState.IDLE
    assert rig.events[-1].kind == "disconnected" and rig.events[-1].reason == "abandoned"


@pytest.mark.parametrize(("method", "clear", "limit_s", "extra"), [
    ("cpc", ("cpc",), 0.09 + 0.06, {"cpc_min_ms": 90}),
    ("battery", ("cpc",), 0.6 + 0.06, {"battery_drop_ms": 600, "line_cpc_ms": 1500}),
    ("polarity", ("polarity",), 0.06, {}),
    ("tone", ("busy",), 3.0, {}),  # two busy cycles (E.180 cadence) then release
    ("silence", ("none",), 8.0 + 0.06, {"silence_timeout_s": 8.0}),
])
def test_each_disconnect_supervision_detects_the_far_end_hang_up_in_time(
        rig: AnalogRig, method: str, clear: tuple[str, ...], limit_s: float,
        extra: dict[str, object]) -> None:
    channel, line = _line(rig, "CN", rings=1, disconnect=(method,), callerid="none",
                          line_clear=clear, **extra)
    line.ring(None)
    rig.run_until(lambda: _answered(channel), timeout_s=10)
    rig.run(2)  # talking
    assert channel.state is FxoState.ANSWERED
    line.far_end_hangup()
    took = rig.run_until(lambda: channel.state is FxoState.RELEASING, timeout_s=limit_s + 1)
    assert took <= limit_s
    assert rig.events[-1].kind == "disconnected"
    rig.run(1.5)
    assert channel.state is FxoState.IDLE and line.state is LineState.IDLE


def test_a_line_that_never_signals_disconnect_is_released_by_silence(
        rig: AnalogRig, caplog: pytest.LogCaptureFixture) -> None:
    channel, line = _line(rig, "CN", rings=1, callerid="none", line_clear=("none",),
                          silence_timeout_s=10.0)
    line.ring(None)
    rig.run_until(lambda: _answered(channel), timeout_s=10)
    line.far_end_hangup()
    with caplog.at_level(logging.INFO, "appliance.signalling.analog"):
        rig.run_until(lambda: channel.state is FxoState.RELEASING, timeout_s=11)
    assert "silence" in channel.disconnect_reason
    assert any("far end hung up (silence" in r.getMessage() for r in caplog.records)


def test_outbound_call_waits_for_dial_tone_dials_and_sees_answer_by_reversal(
        rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", line_reverse_on_answer=True, line_clear=("polarity",))
    assert channel.dial("13800138000")
    rig.run_until(lambda: channel.state is FxoState.DIALLING, timeout_s=2)
    rig.run_until(lambda: channel.state is FxoState.CONNECTED, timeout_s=5)
    rig.run_until(lambda: line.state is LineState.RINGBACK, timeout_s=5)
    assert line.dialled == "13800138000"
    rig.run_until(lambda: "far-end-answered" in rig.kinds("line1"), timeout_s=5)
    line.far_end_hangup()
    rig.run_until(lambda: channel.state is FxoState.RELEASING, timeout_s=1)
    assert channel.disconnect_reason == "polarity reversal"


def test_outbound_to_a_busy_number_is_released_on_busy_tone(rig: AnalogRig) -> None:
    channel, _line_sim = _line(rig, "CN", line_busy_numbers=("10086",))
    channel.dial("10086")
    rig.run_until(lambda: channel.state is FxoState.RELEASING, timeout_s=10)
    assert channel.disconnect_reason == "busy tone"


def test_no_dial_tone_fails_the_outbound_call(rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", faults=LineFaults(no_dial_tone=True))
    channel.dial("123")
    rig.run(3.2)
    assert rig.events[-1].kind == "failed" and rig.events[-1].reason == "no-dial-tone"
    rig.run(1.2)
    assert channel.state is FxoState.IDLE and line.state is LineState.IDLE


def test_glare_ringing_while_seizing_gives_the_line_to_the_incoming_call(
        rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN")
    line.ring(None)
    rig.step()  # ringing voltage is on the wire, not yet seen by the state machine
    assert channel.dial("123")
    rig.run(1)
    assert channel.state is FxoState.ANSWERED
    kinds = rig.kinds("line1")
    assert ("failed", "glare") in [(e.kind, e.reason) for e in rig.events]
    assert "answered" in kinds and line.state is LineState.TALKING


def test_seizure_that_trips_a_ring_unseen_is_taken_as_glare_by_the_voice_on_the_line(
        rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN")
    line.ring(None)
    assert channel.dial("123")  # same instant: our seizure trips the ring before it is seen
    rig.run(3.5)
    assert channel.state is FxoState.ANSWERED
    assert ("failed", "glare") in [(e.kind, e.reason) for e in rig.events]


def test_dialling_while_the_line_rings_is_refused_as_glare(rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", rings=3)
    line.ring(None)
    rig.run(0.5)
    assert not channel.dial("123")
    assert rig.events[-1].reason == "glare"


def test_battery_loss_on_an_idle_line_takes_the_port_out_of_service(rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN")
    line.set_battery(False)
    rig.run(1)
    assert channel.state is FxoState.NO_BATTERY
    assert not channel.dial("1")
    line.set_battery(True)
    rig.run(0.1)
    assert channel.state is FxoState.IDLE


def test_status_snapshot_shows_state_line_and_caller_id(rig: AnalogRig) -> None:
    channel, line = _line(rig, "US", rings=2)
    line.ring(CALLER)
    rig.run_until(lambda: _answered(channel), timeout_s=20)
    (snap,) = rig.switch.status()
    assert snap["state"] == "answered" and snap["kind"] == "fxo"
    assert snap["caller_id"]["number"] == "02087654321"
    assert snap["line"]["off_hook"] is True and snap["line"]["backend"] == "sim"


def test_hook_flash_towards_the_carrier_is_a_flash_not_a_clear(rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", rings=1, callerid="none")
    line.ring(None)
    rig.run_until(lambda: _answered(channel), timeout_s=10)
    channel.flash()
    rig.run(1.0)
    assert line.flashes == 1 and line.state is LineState.TALKING
    assert channel.state is FxoState.ANSWERED
    channel.hangup()
    rig.run(1.0)
    assert line.state is LineState.IDLE


def test_caller_abandoning_in_the_middle_of_a_ring_burst_does_not_leave_the_port_alerting(
        rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", rings=3)
    line.ring(CALLER)
    rig.run_until(lambda: channel.rings == 1, timeout_s=10)
    rig.run_until(lambda: line.ring_count >= 1 and channel.port.ringing, timeout_s=6)
    rig.run(0.1)
    line.caller_abandons()  # the ring stops 100 ms into the second burst
    rig.run(6)
    assert channel.state is FxoState.IDLE
    assert rig.events[-1].reason == "abandoned"


def test_caller_giving_up_as_we_answer_is_released_on_the_dial_tone_that_follows(
        rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", rings=1, callerid="none", disconnect=("tone",))
    line.ring(None)
    for _ in range(250):
        rig.switch.receive()
        if channel.state is FxoState.ANSWERED:
            line.caller_abandons()  # in the same 20 ms as our off-hook: a new call to the CO
        rig.engine.tick()
        for device in rig.devices:
            device.serve()
        rig.clock.advance(0.02)
        if channel.state is FxoState.ANSWERED:
            break
    rig.step(2)
    assert line.state is LineState.DIALTONE
    took = rig.run_until(lambda: channel.state is FxoState.RELEASING, timeout_s=5)
    assert channel.disconnect_reason == "dial tone" and took <= 3.2


def test_a_ringback_burst_on_the_dial_tone_frequency_is_not_taken_for_dial_tone(
        rig: AnalogRig) -> None:
    channel, line = _line(rig, "CN", disconnect=("tone",), line_answer_after_ms=12000)
    channel.dial("12345")
    rig.run_until(lambda: line.state is LineState.RINGBACK, timeout_s=10)
    rig.run(10)  # two 1 s ringback bursts of 450 Hz, the CN dial tone frequency
    assert channel.state is FxoState.CONNECTED
