"""Analog ports as call legs of the call model: inbound line, agent phone, external dial."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, CAUSE_USER_BUSY, Channel
from appliance.media.prompts import Prompt
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.calls import AnalogLeg, AnalogLegs
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoSettings, FxoState
from appliance.signalling.analog.fxs import FxsSettings, FxsState
from hil.sim.analog_rig import AnalogRig
from hil.sim.pstn import LineConfig, LineState

WELCOME = Prompt("welcome", (np.sin(np.arange(8000) * 0.3) * 4000).astype(np.int16),
                 "16-bit PCM 8000 Hz 1 ch", False)


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


def test_inbound_line_call_through_ivr_prompt_digits_and_agent_phone(rig: AnalogRig) -> None:
    _fxo, line = rig.add_line("line1", LineConfig(country="CN", clear=("busy",)),
                             FxoSettings(country="CN", rings_before_answer=1))
    fxs, phone = rig.add_phone("desk1", FxsSettings(country="CN", extension="201"))
    inbound: list[AnalogLeg] = []
    legs = AnalogLegs(rig.switch, {"welcome": WELCOME}.get, on_inbound=inbound.append)
    caller = Recorder()
    rig.step(3)
    line.ring(CallerId(number="13700000000"))
    rig.run_until(lambda: bool(inbound), timeout_s=10)
    leg = inbound[0]
    leg.set_listener(caller)
    assert leg.caller == "13700000000" and leg.trunk == "line1"
    leg.play("welcome")
    rig.run(1.3)
    assert ("play_done", "welcome") in caller.seen
    line.far_end_dtmf("2")
    rig.run(0.5)
    assert ("digit", "2") in caller.seen
    agent_events = Recorder()
    agent = legs.originate("fxs:desk1", leg.caller, agent_events)
    rig.run_until(lambda: phone.caller_id is not None, timeout_s=8)
    assert phone.caller_id is not None and phone.caller_id.number == "13700000000"
    phone.lift()
    rig.run(0.3)
    assert ("answered", "desk1") in agent_events.seen
    agent.set_listener(agent_events)
    agent.play("welcome")  # an announcement to the agent before the caller is put through
    rig.run(1.2)
    assert ("play_done", "welcome") in agent_events.seen and phone.voice_seconds >= 0.9
    bridge = legs.bridge([leg, agent])
    rig.run(0.5)
    assert phone.received and np.abs(np.concatenate(phone.received[-5:])).max() > 500
    line.far_end_hangup()
    rig.run(3.5)
    assert ("hangup", str(CAUSE_NORMAL_CLEARING)) in caller.seen
    bridge.destroy()
    agent.hangup()
    rig.run(0.5)
    assert fxs.state is FxsState.TONE


def test_originate_external_dials_on_an_idle_line(rig: AnalogRig) -> None:
    fxo, line = rig.add_line("line1", LineConfig(country="CN"), FxoSettings(country="CN"))
    legs = AnalogLegs(rig.switch)
    rec = Recorder()
    rig.step(3)
    leg = legs.originate("external:12345", "", rec)
    rig.run_until(lambda: line.state is LineState.RINGBACK, timeout_s=8)
    assert line.dialled == "12345" and ("answered", "line1") in rec.seen
    leg.hangup()
    rig.run(0.8)  # the exchange takes a break over 600 ms as a clear, not a flash
    assert fxo.state is FxoState.RELEASING and line.state is LineState.IDLE


def test_originate_to_a_busy_phone_reports_user_busy_after_returning(rig: AnalogRig) -> None:
    _fxs, phone = rig.add_phone("desk1", FxsSettings(country="CN", extension="201"))
    legs = AnalogLegs(rig.switch)
    phone.lift()
    rig.run(0.3)
    rec = Recorder()
    legs.originate("201", "100", rec)
    assert rec.seen == []
    rig.step()
    assert rec.seen == [("hangup", str(CAUSE_USER_BUSY))]
    with pytest.raises(ValueError, match="no FXS phone"):
        legs.originate("fxs:nobody", "", rec)


def test_a_flash_on_a_phone_in_a_core_call_goes_to_the_core_with_what_follows(
        rig: AnalogRig) -> None:
    """Register recall: the flash, the number keyed after it and the on-hook reach the
    core (on_recall); its answer picks the phone's tone. Unanswered, a flash is ignored."""
    fxs, phone = rig.add_phone("desk1", FxsSettings(country="CN", extension="201",
                                                     dial_plan=(DialRule("202", "ext"),)))
    asked: list[tuple[str, str, str]] = []
    answers = {"flash": "dialtone", "dial": "connected", "hangup": ""}
    legs = AnalogLegs(rig.switch, on_recall=lambda leg, action, destination: (
        asked.append((leg.name, action, destination)) or answers[action]))
    leg = legs.originate("201", "0301", Recorder())
    rig.run_until(lambda: fxs.state is FxsState.RINGING, timeout_s=2)
    phone.lift()
    rig.run_until(lambda: fxs.state is FxsState.CONNECTED, timeout_s=2)

    phone.flash()
    rig.run_until(lambda: fxs.state is FxsState.DIALTONE, timeout_s=2)
    phone.dial_dtmf("202")
    rig.run_until(lambda: fxs.state is FxsState.CONNECTED, timeout_s=5)
    assert asked == [("desk1", "flash", ""), ("desk1", "dial", "202")]
    phone.hang_up()
    rig.run_until(lambda: fxs.state is FxsState.IDLE, timeout_s=2)
    assert asked[-1] == ("desk1", "hangup", "")
    assert leg.hung_up

    answers["flash"] = ""  # a core call nobody can hold: the flash changes nothing
    legs.originate("201", "0301", Recorder())
    rig.run_until(lambda: fxs.state is FxsState.RINGING, timeout_s=2)
    phone.lift()
    rig.run_until(lambda: fxs.state is FxsState.CONNECTED, timeout_s=2)
    phone.flash()
    rig.run(1.0)
    assert fxs.state is FxsState.CONNECTED


def test_a_missing_prompt_is_logged_and_the_flow_goes_on(rig: AnalogRig) -> None:
    """As on a B-channel: a prompt not installed never strands the call (it used to raise
    MediaError, e.g. music on hold for a phone held by a flash on a rig without prompts)."""
    _fxs, phone = rig.add_phone("desk1", FxsSettings(country="CN", extension="201"))
    legs = AnalogLegs(rig.switch, prompts=lambda name: None)
    rec = Recorder()
    leg = legs.originate("201", "0301", rec)
    rig.run_until(lambda: phone.ringing, timeout_s=2)
    phone.lift()
    rig.run(0.5)
    leg.play("welcome")
    rig.step()
    leg.play("moh", loop=True)  # looped: nothing to report as finished
    rig.step()
    assert ("play_done", "welcome") in rec.seen and ("play_done", "moh") not in rec.seen
