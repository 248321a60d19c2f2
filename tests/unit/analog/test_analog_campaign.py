"""A seeded campaign of line and phone misbehaviour: every call ends, no port is left stuck."""

from __future__ import annotations

import random

from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoSettings, FxoState
from appliance.signalling.analog.fxs import FxsSettings, FxsState
from hil.sim.analog_rig import AnalogRig
from hil.sim.pstn import LineConfig, LineFaults, LineState

LINE_CASES = ["normal", "short-ring", "broken-cadence", "garbled-cid", "abandon",
              "cpc", "polarity", "busy", "silent", "outbound", "outbound-busy", "glare"]
PHONE_CASES = ["call", "flash-mid-dial", "bad-number", "abandon", "pulse", "walk-away"]


def test_thirty_line_calls_in_and_out_with_faults_always_return_the_port_to_idle() -> None:
    line_campaign(20261123)


def test_phones_misbehaving_never_leave_a_port_stuck() -> None:
    phone_campaign(7)


def line_campaign(seed: int) -> None:
    rng = random.Random(seed)
    rig = AnalogRig()
    faults = LineFaults()
    config = LineConfig(country="CN", faults=faults, busy_numbers=("10086",))
    fxo, line = rig.add_line("line1", config, FxoSettings(
        country="CN", rings_before_answer=2, silence_timeout_s=6.0))
    rig.step(3)
    outcomes: dict[str, int] = {}
    for _ in range(30):
        case = rng.choice(LINE_CASES)
        faults.ring_on_ms = 60 if case == "short-ring" else None
        faults.broken_cadence = (2500, 600) if case == "broken-cadence" else None
        faults.garble_callerid = case == "garbled-cid"
        config.clear = {"cpc": ("cpc",), "polarity": ("polarity",), "busy": ("busy",),
                        "silent": ("none",)}.get(case, ("busy",))
        if case.startswith("outbound"):
            assert fxo.dial("10086" if case == "outbound-busy" else "95555")
            if case == "outbound":
                rig.run_until(lambda: line.state is LineState.TALKING, timeout_s=15)
                rig.run(rng.uniform(0.5, 2.0))
                line.far_end_hangup()
            rig.run_until(lambda: fxo.state is FxoState.IDLE and line.state is LineState.IDLE,
                          timeout_s=15)
            outcomes[case] = outcomes.get(case, 0) + 1
            continue
        line.ring(CallerId(number=str(rng.randrange(10**10, 10**11))))
        if case == "glare":
            rig.step(rng.randrange(1, 3))
            fxo.dial("123")  # refused or turned into the incoming call; either way it ends
            rig.run(rng.uniform(1.0, 4.0))
            if line.state is LineState.ALERTING:
                line.caller_abandons()
            else:
                line.far_end_hangup()
        elif case == "abandon":
            rig.run(rng.uniform(0.5, 6.0))
            line.caller_abandons()
        elif case in ("short-ring", "broken-cadence"):
            rig.run(7)
            line.caller_abandons()
        else:
            rig.run_until(lambda: fxo.state is FxoState.ANSWERED, timeout_s=15)
            rig.run(rng.uniform(0.5, 3.0))
            line.far_end_hangup()
        rig.run_until(lambda: fxo.state is FxoState.IDLE and line.state is LineState.IDLE,
                      timeout_s=12)
        outcomes[case] = outcomes.get(case, 0) + 1
    assert len(outcomes) >= 7  # the seed exercises most cases
    assert fxo.status()["calls_in"] >= 10
    rig.close()


def phone_campaign(seed: int) -> None:
    rng = random.Random(seed)
    rig = AnalogRig()
    rig.attach_core()  # the phones call through the call core, as on the box
    plan = (DialRule("2XX", "ext"),)
    a, pa = rig.add_phone("desk1", FxsSettings(country="CN", extension="201", dial_plan=plan,
                                               off_hook_warning_s=3, howler_s=3,
                                               interdigit_s=2))
    b, pb = rig.add_phone("desk2", FxsSettings(country="CN", extension="202", dial_plan=plan))
    rig.step(3)
    for _ in range(20):
        case = rng.choice(PHONE_CASES)
        pa.lift()
        rig.run(0.3)
        if case == "flash-mid-dial":
            pa.dial_dtmf("2")
            rig.run(0.4)
            pa.flash(150)
            rig.run(0.8)
            assert a.state is FxsState.DIALTONE
        elif case == "bad-number":
            pa.dial_dtmf("7")
            rig.run(1)
            assert a.state is FxsState.TONE
        elif case in ("call", "pulse", "abandon"):
            if case == "pulse":
                pa.dial_pulse("202")
            else:
                pa.dial_dtmf("202")
            rig.run_until(lambda: b.state is FxsState.RINGING, timeout_s=5)
            if case != "abandon":
                pb.lift()
                rig.run_until(lambda: a.state is FxsState.CONNECTED, timeout_s=2)
                rig.run(rng.uniform(0.2, 2))
                pb.hang_up()
                rig.run(1.5)
        elif case == "walk-away":
            rig.run(16)  # reorder, howler, then lockout
            assert a.state is FxsState.LOCKOUT
        pa.hang_up()
        rig.run_until(lambda: a.state is FxsState.IDLE and b.state is FxsState.IDLE,
                      timeout_s=3)
        assert not pb.ringing
    rig.close()
