"""FXS scenarios on the in-process rig: phone simulators on FXS ports, a carrier line on FXO."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from appliance.calls.originate import NO_ANSWER_S
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoSettings, FxoState
from appliance.signalling.analog.fxs import FxsChannel, FxsSettings, FxsState
from hil.sim.analog_rig import AnalogRig
from hil.sim.phone import AnalogPhone
from hil.sim.pstn import LineConfig, LineState

PLAN = (DialRule("2XX", "ext"), DialRule("9.", "trunk", strip=1))
FEATURES = {"*21": "agent-login", "*22": "agent-logout", "*23": "agent-pause"}


@pytest.fixture
def rig() -> Iterator[AnalogRig]:
    r = AnalogRig()
    r.attach_core()  # phone to phone and out on a line are calls of the call core
    yield r
    r.close()


def _phone(rig: AnalogRig, name: str, ext: str, country: str = "CN",
           **kw: object) -> tuple[FxsChannel, AnalogPhone]:
    settings = FxsSettings(country=country, extension=ext, dial_plan=PLAN, features=FEATURES,
                           **kw)  # type: ignore[arg-type]
    return rig.add_phone(name, settings, AnalogPhone(country))


def _two_phones(rig: AnalogRig, country: str = "CN", **kw: object) -> tuple[
        FxsChannel, AnalogPhone, FxsChannel, AnalogPhone]:
    a, pa = _phone(rig, "desk1", "201", country, **kw)
    b, pb = _phone(rig, "desk2", "202", country, **kw)
    rig.step(3)
    return a, pa, b, pb


@pytest.mark.parametrize("country", ["CN", "US", "GB", "NL"])
def test_phone_dials_another_port_hears_ringback_and_the_called_phone_sees_caller_id(
        rig: AnalogRig, country: str) -> None:
    a, pa, b, pb = _two_phones(rig, country)
    pa.lift()
    rig.run(0.8)
    assert "dial" in pa.tones and a.state is FxsState.DIALTONE
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    rig.run_until(lambda: pb.caller_id is not None and pb.rings >= 1, timeout_s=12)
    assert pb.caller_id is not None and pb.caller_id.number == "201"
    assert pb.rings >= 1
    if b.cid_timing == "before-ring":  # EN 300 659-1 §5.3.1: announced by a line reversal
        assert pb.reversals == 2
    # a cadenced tone is named once a second burst confirms it (CN: 1 s on, 4 s off)
    rig.run_until(lambda: "ringback" in pa.tones, timeout_s=6)
    pb.lift()
    rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=2)
    assert b.state is FxsState.CONNECTED
    pa.talk(1000.0)
    pb.talk(700.0)
    rig.run(0.5)
    assert pb.hears_tone_hz(1000.0) and pa.hears_tone_hz(700.0)


def test_pulse_dialling_reaches_the_same_extension(rig: AnalogRig) -> None:
    a, pa, b, _pb = _two_phones(rig)
    pa.lift()
    rig.run(0.5)
    pa.dial_pulse("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=6)
    assert a.digits == "202"


def test_far_end_hang_up_gives_cpc_and_busy_then_howler_then_lockout(rig: AnalogRig) -> None:
    a, pa, b, pb = _two_phones(rig, off_hook_warning_s=5.0, howler_s=5.0)
    pa.lift()
    # dial once dial tone is heard: CN dial tone cut after 300 ms by the first digit and
    # then ringback would sound like one burst of the same 450 Hz busy tone
    rig.run_until(lambda: "dial" in pa.tones, timeout_s=1)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    pb.lift()
    rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=2)
    pb.hang_up()
    rig.run_until(lambda: "busy" in pa.tones, timeout_s=3)
    assert a.state is FxsState.TONE and pa.battery_drops == 1
    rig.run_until(lambda: "howler" in pa.tones, timeout_s=7)
    assert a.state is FxsState.HOWLER
    rig.run(5)
    assert a.state is FxsState.LOCKOUT
    pa.hang_up()
    rig.run(1.0)
    assert a.state is FxsState.IDLE and b.state is FxsState.IDLE


def test_unknown_number_gets_reorder(rig: AnalogRig) -> None:
    a, pa, _, _ = _two_phones(rig)
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("5")
    rig.run_until(lambda: "reorder" in pa.tones, timeout_s=4)
    assert a.state is FxsState.TONE


def test_inter_digit_timeout_completes_a_trunk_number_and_dials_it_on_the_line(
        rig: AnalogRig) -> None:
    a, pa = _phone(rig, "desk1", "201", interdigit_s=3.0)
    # the carrier answers late enough for its ringback cadence to be heard twice
    fxo, line = rig.add_line("line1", LineConfig(country="CN", answer_after_ms=8000),
                             FxoSettings(country="CN"))
    rig.step(3)
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("9114")
    rig.run_until(lambda: fxo.state is FxoState.CONNECTED, timeout_s=10)
    rig.run_until(lambda: line.state is LineState.RINGBACK, timeout_s=5)
    assert line.dialled == "114" and a.state is FxsState.CONNECTED
    # the carrier's own ringback, heard through the bridge
    rig.run_until(lambda: "ringback" in pa.tones, timeout_s=6)
    pa.hang_up()
    rig.run(1.2)  # an on-hook is a hang-up once it outlasts the longest flash (800 ms)
    assert fxo.state is FxoState.RELEASING
    rig.run(0.7)  # and the exchange clears after its own flash window
    assert line.state is LineState.IDLE


def test_incomplete_number_times_out_to_reorder(rig: AnalogRig) -> None:
    a, pa, _, _ = _two_phones(rig, interdigit_s=2.0)
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("20")
    rig.run(3)
    assert a.state is FxsState.TONE
    assert "inter-digit" in a.history[-1]


def test_flash_mid_dial_clears_the_digits_and_gives_dial_tone_again(
        rig: AnalogRig, caplog: pytest.LogCaptureFixture) -> None:
    a, pa, b, _ = _two_phones(rig)
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("20")
    rig.run(0.6)
    with caplog.at_level(logging.INFO, "appliance.signalling.analog"):
        pa.flash(200)
        rig.run(1.0)
    assert a.state is FxsState.DIALTONE and a.digits == ""
    assert any("flash while dialling" in r.getMessage() for r in caplog.records)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)


def test_feature_code_with_agent_id_logs_the_agent_in_and_confirms(rig: AnalogRig) -> None:
    a, pa, _, _ = _two_phones(rig)
    seen: list[tuple[str, str]] = []
    a.feature_handler = lambda device, digits: seen.append((device, digits)) is None
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("*211001#")
    rig.run(1.5)
    features = [e for e in rig.events if e.kind == "feature"]
    assert features and features[0].detail == {"feature": "agent-login", "ok": True}
    assert seen == [("desk1", "*211001")]
    assert a.state is FxsState.FEATURE
    rig.run(1.0)
    assert a.state is FxsState.DIALTONE


def test_refused_feature_code_gets_reorder(rig: AnalogRig) -> None:
    a, pa, _, _ = _two_phones(rig, interdigit_s=1.0)
    a.feature_handler = lambda device, digits: False
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("*22")  # no '#': completed by the inter-digit timer
    rig.run_until(lambda: "reorder" in pa.tones, timeout_s=5)
    assert a.state is FxsState.TONE


def _call_of(rig: AnalogRig, port: FxsChannel) -> str:
    return str(rig.switch.row(port).get("call_id", ""))


def test_flash_consultation_then_hang_up_transfers_the_held_party(rig: AnalogRig) -> None:
    a, pa, b, pb = _two_phones(rig)
    c, pc = _phone(rig, "desk3", "203")
    rig.step(2)
    pa.lift()
    rig.run_until(lambda: "dial" in pa.tones, timeout_s=1)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    pb.lift()
    rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=2)
    assert rig.center is not None
    call = rig.center.calls.calls[_call_of(rig, a)]
    pa.flash(200)
    rig.run(1.2)
    assert a.state is FxsState.DIALTONE and call.on_hold  # desk2 held by the core
    pa.dial_dtmf("203")
    rig.run_until(lambda: c.state is FxsState.RINGING, timeout_s=3)
    pc.lift()
    rig.run_until(lambda: c.state is FxsState.CONNECTED, timeout_s=2)
    pc.talk(600.0)
    rig.run(0.5)
    assert pa.hears_tone_hz(600.0)  # consulting desk3
    pc.talk(None)
    pa.hang_up()
    rig.run(1.5)
    assert a.state is FxsState.IDLE and not call.on_hold and not call.ended
    assert _call_of(rig, b) == _call_of(rig, c) == call.call_id  # one call, handed over
    pb.talk(900.0)
    rig.run(0.5)
    assert pc.hears_tone_hz(900.0)


def test_flash_during_consultation_returns_to_the_held_party(rig: AnalogRig) -> None:
    a, pa, b, pb = _two_phones(rig)
    pa.lift()
    rig.run_until(lambda: "dial" in pa.tones, timeout_s=1)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    pb.lift()
    rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=2)
    assert rig.center is not None
    call = rig.center.calls.calls[_call_of(rig, a)]
    pa.flash(200)
    rig.run(1.2)
    assert a.state is FxsState.DIALTONE and call.on_hold
    pa.flash(200)
    rig.run(1.2)
    assert a.state is FxsState.CONNECTED and not call.on_hold
    pb.talk(800.0)
    rig.run(0.5)
    assert pa.hears_tone_hz(800.0)


def test_calling_a_busy_extension_gives_busy_tone(rig: AnalogRig) -> None:
    a, pa, _b, pb = _two_phones(rig)
    pb.lift()
    rig.run(0.3)
    pa.lift()
    rig.run_until(lambda: "dial" in pa.tones, timeout_s=1)
    pa.dial_dtmf("202")
    rig.run_until(lambda: "busy" in pa.tones, timeout_s=3)
    assert a.state is FxsState.TONE


def test_caller_hanging_up_stops_the_ringing(rig: AnalogRig) -> None:
    _a, pa, b, pb = _two_phones(rig)
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    pa.hang_up()
    rig.run(1.2)
    assert b.state is FxsState.IDLE and not pb.ringing


def test_message_waiting_lamp_reaches_the_phone(rig: AnalogRig) -> None:
    a, pa, _, _ = _two_phones(rig)
    a.port.set_mwi(3)
    rig.run(0.1)
    assert pa.mwi
    a.port.set_mwi(0)
    rig.run(0.1)
    assert not pa.mwi


def test_fxs_status_snapshot(rig: AnalogRig) -> None:
    _a, pa, _b, _pb = _two_phones(rig)
    pa.lift()
    rig.run(0.3)
    snaps = {s["port"]: s for s in rig.switch.status()}
    assert snaps["desk1"]["state"] == "dialtone" and snaps["desk1"]["playing"] == "dial"
    assert snaps["desk1"]["line"]["off_hook"] is True
    assert snaps["desk2"]["state"] == "idle" and snaps["desk2"]["extension"] == "202"


def test_far_end_clear_by_polarity_reversal_when_configured(rig: AnalogRig) -> None:
    a, pa, b, pb = _two_phones(rig, disconnect_signal="polarity")
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    pb.lift()
    rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=2)
    pb.hang_up()
    rig.run(2.0)
    assert pa.reversals == 2 and pa.battery_drops == 0 and a.state is FxsState.TONE


def test_an_unanswered_phone_stops_ringing_and_the_caller_hears_reorder(
        rig: AnalogRig) -> None:
    a, pa, b, pb = _two_phones(rig)
    pa.lift()
    rig.run(0.3)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    rig.run(NO_ANSWER_S + 0.5)  # the core gives up (Q.850 cause 19)
    assert b.state is FxsState.IDLE and not pb.ringing
    assert a.state is FxsState.TONE and "no answer" in a.history[-1]


def test_dtmf_detection_runs_only_while_the_handset_is_lifted(rig: AnalogRig) -> None:
    """Idle ports cost the media tick no DTMF analysis (issue 14 item 3)."""
    a, pa, b, _ = _two_phones(rig)
    listening = rig.engine._dtmf_on
    assert not listening[a.handle.slot] and not listening[b.handle.slot]
    pa.lift()
    rig.run(0.3)
    assert listening[a.handle.slot] and not listening[b.handle.slot]
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    assert not listening[b.handle.slot]  # ringing is still on hook
    pa.hang_up()
    rig.run_until(lambda: a.state is FxsState.IDLE, timeout_s=3)
    assert not listening[a.handle.slot]


def test_an_fxs_port_spends_no_level_measurement_per_frame(rig: AnalogRig) -> None:
    """Only FXO supervision uses the line level; FXS frames go straight to the engine."""
    a, pa, _, _ = _two_phones(rig)
    heard: list[object] = []
    a._on_heard = heard.append  # type: ignore[method-assign]
    pa.lift()
    pa.talk(1000.0)
    rig.run(0.5)
    assert not any(type(h).__name__ == "LevelHeard" for h in heard)
