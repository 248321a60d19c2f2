"""Maintenance busy-out of analog ports (OPS-1) on the in-process rig, in virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from appliance.calls.channel import CAUSE_USER_BUSY, Channel
from appliance.runtime.control import ControlError
from appliance.runtime.events import EventBus
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.calls import AnalogLeg, AnalogLegs
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoChannel, FxoSettings, FxoState
from appliance.signalling.analog.fxs import FxsChannel, FxsSettings, FxsState
from appliance.signalling.analog.service import control_methods
from hil.sim.analog_rig import AnalogRig
from hil.sim.phone import AnalogPhone
from hil.sim.pstn import LineConfig, LineState, PstnLine

PLAN = (DialRule("2XX", "ext"), DialRule("9.", "trunk", strip=1))


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def on_digit(self, channel: Channel, digit: str) -> None:
        self.seen.append(("digit", digit))

    def on_answered(self, channel: Channel) -> None:
        self.seen.append(("answered", channel.name))

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        self.seen.append(("play_done", prompt))

    def on_hangup(self, channel: Channel, cause: int) -> None:
        self.seen.append(("hangup", str(cause)))


@pytest.fixture
def rig() -> Iterator[AnalogRig]:
    r = AnalogRig()
    yield r
    r.close()


def _line(rig: AnalogRig, name: str = "line1") -> tuple[FxoChannel, PstnLine]:
    channel, line = rig.add_line(name, LineConfig(country="CN", clear=("busy",)),
                                 FxoSettings(country="CN", rings_before_answer=1,
                                             callerid="none"))
    return channel, line


def _phone(rig: AnalogRig, name: str, ext: str,
           country: str = "CN") -> tuple[FxsChannel, AnalogPhone]:
    return rig.add_phone(name, FxsSettings(country=country, extension=ext, dial_plan=PLAN),
                         AnalogPhone(country))


def _call(method: Any, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = asyncio.run(method(params))
    return result


# -- FXO -------------------------------------------------------------------------------
def test_idle_fxo_line_busied_out_is_seized_so_the_carrier_sends_no_call(
        rig: AnalogRig) -> None:
    fxo, line = _line(rig)
    rig.step(3)
    row = rig.switch.busy_out("line1", True)
    assert row["state"] == "blocked" and row["busied_out"] is True
    rig.run(0.3)
    assert fxo.state is FxoState.BLOCKED and fxo.port.off_hook
    status = fxo.status()
    assert status["hook"] == "off" and status["busied_out"] is True
    assert line.off_hook and line.state is LineState.DIALTONE  # the exchange sees it busy
    with pytest.raises(RuntimeError, match="cannot ring"):
        line.ring(CallerId(number="13700000000"))
    rig.run(5)
    assert fxo.state is FxoState.BLOCKED  # the exchange's dial tone is not taken for a call
    assert not fxo.dial("123")
    assert rig.events[-1].kind == "failed" and rig.events[-1].reason == "line blocked"
    assert "answered" not in rig.kinds("line1")


def test_fxo_line_returned_to_service_goes_on_hook_and_takes_calls_again(
        rig: AnalogRig) -> None:
    fxo, line = _line(rig)
    rig.step(3)
    fxo.busy_out()
    rig.run(0.5)
    row = rig.switch.busy_out("line1", False)
    assert row["busied_out"] is False and row["state"] == "releasing"
    rig.run(0.3)
    assert not line.off_hook and line.state is LineState.IDLE
    rig.run(1.0)  # the release guard keeps the line on-hook first
    assert fxo.state is FxoState.IDLE and not fxo.port.off_hook
    line.ring(CallerId(number="13700000000"))
    rig.run_until(lambda: fxo.state is FxoState.ANSWERED, timeout_s=10)


def test_fxo_line_busied_out_in_a_call_is_blocked_when_the_call_ends(rig: AnalogRig) -> None:
    fxo, line = _line(rig)
    rig.step(3)
    line.ring(CallerId(number="13700000000"))
    rig.run_until(lambda: fxo.state is FxoState.ANSWERED, timeout_s=10)
    row = rig.switch.busy_out("line1", True)
    assert row["state"] == "answered" and row["busied_out"] is True
    rig.run(2)
    assert fxo.state is FxoState.ANSWERED and line.state is LineState.TALKING
    line.far_end_hangup()
    rig.run_until(lambda: fxo.state is FxoState.RELEASING, timeout_s=5)
    rig.run(0.5)
    assert line.state.value == "idle"  # the call was cleared on-hook first
    rig.run_until(lambda: fxo.state is FxoState.BLOCKED, timeout_s=2)
    rig.run(0.2)
    assert fxo.port.off_hook and line.state.value == "dialtone"


def test_fxo_line_without_battery_busied_out_is_blocked_when_battery_returns(
        rig: AnalogRig) -> None:
    fxo, line = _line(rig)
    rig.step(3)
    line.set_battery(False)
    rig.run_until(lambda: fxo.state is FxoState.NO_BATTERY, timeout_s=2)
    fxo.busy_out()
    assert fxo.state is FxoState.NO_BATTERY and not fxo.port.off_hook
    line.set_battery(True)
    rig.run_until(lambda: fxo.state is FxoState.BLOCKED, timeout_s=2)
    assert fxo.port.off_hook


def test_originate_external_skips_a_busied_out_line(rig: AnalogRig) -> None:
    fxo1, line1 = _line(rig, "line1")
    fxo2, line2 = _line(rig, "line2")
    legs = AnalogLegs(rig.switch)
    rig.step(3)
    fxo1.busy_out()
    rec = Recorder()
    leg = legs.originate("external:12345", "", rec)
    assert isinstance(leg, AnalogLeg) and leg.port is fxo2
    rig.run_until(lambda: line2.state is LineState.RINGBACK, timeout_s=8)
    assert line2.dialled == "12345" and line1.dialled == ""
    assert fxo1.state is FxoState.BLOCKED and fxo1.calls_out == 0


def test_originate_external_with_every_line_busied_out_is_refused_user_busy(
        rig: AnalogRig) -> None:
    fxo, line = _line(rig)
    legs = AnalogLegs(rig.switch)
    rig.step(3)
    fxo.busy_out()
    rec = Recorder()
    legs.originate("external:12345", "", rec)
    rig.run(3)
    assert rec.seen == [("hangup", str(CAUSE_USER_BUSY))]
    assert line.dialled == "" and fxo.state is FxoState.BLOCKED


def test_phone_dialling_out_gets_reorder_when_the_only_line_is_busied_out(
        rig: AnalogRig) -> None:
    fxo, line = _line(rig)
    fxs, phone = _phone(rig, "desk1", "201")
    rig.attach_core()
    rig.step(3)
    fxo.busy_out()
    phone.lift()
    rig.run(0.5)
    phone.dial_dtmf("912345#")
    rig.run_until(lambda: fxs.state is FxsState.TONE, timeout_s=5)
    rig.run(1.5)
    assert "reorder" in phone.tones and line.dialled == ""


# -- FXS -------------------------------------------------------------------------------
def test_idle_fxs_port_busied_out_is_not_rung_and_a_lifted_phone_hears_reorder(
        rig: AnalogRig) -> None:
    # US tones: dial (350+440 continuous) and reorder (480+620) differ in frequency, so the
    # phone's ear cannot take the first reorder burst for dial tone (CN: both 450 Hz)
    fxs, phone = _phone(rig, "desk1", "201", "US")
    legs = AnalogLegs(rig.switch)
    rig.step(3)
    row = rig.switch.busy_out("desk1", True)
    assert row["state"] == "blocked" and row["busied_out"] is True
    assert not fxs.offer(CallerId(number="13700000000"))
    rec = Recorder()
    legs.originate("fxs:desk1", "100", rec)
    rig.run(3)
    assert rec.seen == [("hangup", str(CAUSE_USER_BUSY))] and phone.rings == 0
    phone.lift()
    rig.run(1.5)
    assert "reorder" in phone.tones and "dial" not in phone.tones
    assert fxs.state is FxsState.BLOCKED and fxs.playing == "reorder"
    phone.dial_dtmf("202")
    rig.run(1)
    assert fxs.state is FxsState.BLOCKED and fxs.digits == ""
    phone.hang_up()
    rig.run(1)
    assert fxs.state is FxsState.BLOCKED and fxs.playing == ""


def test_fxs_port_returned_to_service_gives_dial_tone_again(rig: AnalogRig) -> None:
    fxs, phone = _phone(rig, "desk1", "201")
    rig.step(3)
    fxs.busy_out()
    row = rig.switch.busy_out("desk1", False)
    assert row["state"] == "idle" and row["busied_out"] is False
    phone.lift()
    rig.run(0.8)
    assert fxs.state is FxsState.DIALTONE and "dial" in phone.tones


def test_fxs_returned_to_service_while_off_hook_gets_dial_tone_at_once(
        rig: AnalogRig) -> None:
    fxs, phone = _phone(rig, "desk1", "201", "US")
    rig.step(3)
    fxs.busy_out()
    phone.lift()
    rig.run(0.8)
    assert "dial" not in phone.tones
    fxs.return_to_service()
    rig.run(0.8)
    assert fxs.state is FxsState.DIALTONE and "dial" in phone.tones


def test_fxs_port_busied_out_in_a_call_is_blocked_when_the_phone_hangs_up(
        rig: AnalogRig) -> None:
    a, pa = _phone(rig, "desk1", "201")
    b, pb = _phone(rig, "desk2", "202")
    rig.attach_core()
    rig.step(3)
    pa.lift()
    rig.run(0.5)
    pa.dial_dtmf("202")
    rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=3)
    pb.lift()
    rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=3)
    row = rig.switch.busy_out("desk2", True)
    assert row["state"] == "connected" and row["busied_out"] is True
    assert row["call_id"] == rig.switch.row(a)["call_id"] != ""  # one call of the core
    rig.run(1)
    assert b.state is FxsState.CONNECTED and a.state is FxsState.CONNECTED
    pb.hang_up()
    rig.run_until(lambda: b.state is FxsState.BLOCKED, timeout_s=2)
    assert a.state.value == "tone"  # the caller hears the far end gone, as usual
    pa.hang_up()
    rig.run(1)
    pa.lift()
    rig.run(0.5)
    pa.dial_dtmf("202")
    rig.run_until(lambda: a.state is FxsState.TONE, timeout_s=3)
    assert b.state.value == "blocked" and pb.rings == 1  # only the first call rang it


# -- control method --------------------------------------------------------------------
def test_ports_busy_out_control_method_answers_the_port_row(rig: AnalogRig) -> None:
    fxo, _line_sim = _line(rig)
    rig.step(3)
    methods = {name: handler for name, (handler, _) in control_methods(rig.switch).items()}
    assert "ports.busy_out" in methods
    rig.switch.bus = bus = EventBus(lambda: 0.0)
    seen: list[dict[str, Any]] = []
    bus.listen("port.*", lambda event: seen.append(event.as_message()))
    row = _call(methods["ports.busy_out"], port="line1", on=True)
    assert row["name"] == "line1" and row["state"] == "blocked" and row["busied_out"] is True
    assert seen[-1]["event"] == "port.state"
    assert (seen[-1]["data"]["state"], seen[-1]["data"]["previous"],
            seen[-1]["data"]["hook"]) == ("blocked", "idle", "off")
    shown = _call(methods["ports.show"], port="line1")
    assert shown["busied_out"] is True
    row = _call(methods["ports.busy_out"], port="line1", on=False)
    assert row["busied_out"] is False and fxo.state is FxoState.RELEASING


@pytest.mark.parametrize(("params", "code", "text"), [
    ({"on": True}, "bad-params", "'port'"),
    ({"port": 3, "on": True}, "bad-params", "'port'"),
    ({"port": "line1", "on": "yes"}, "bad-params", "'on' must be true"),
    ({"port": "line9", "on": True}, "not-found", "no analog port 'line9'; known: line1"),
    ({"port": "dead1", "on": True}, "refused", "dead1 is unavailable: no such device"),
])
def test_ports_busy_out_control_method_errors(rig: AnalogRig, params: dict[str, Any],
                                              code: str, text: str) -> None:
    fxo, _line_sim = _line(rig)
    rig.switch.unavailable["dead1"] = "no such device"
    methods = {name: handler for name, (handler, _) in control_methods(rig.switch).items()}
    with pytest.raises(ControlError) as caught:
        _call(methods["ports.busy_out"], **params)
    assert caught.value.code == code and text in caught.value.message
    assert fxo.state is FxoState.IDLE and not fxo.busied_out
