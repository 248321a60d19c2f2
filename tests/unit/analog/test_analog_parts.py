"""The small parts: ring cadence, caller-ID messages, dial plan, hook switch, sim wire."""

from __future__ import annotations

import socket
from typing import Any

import numpy as np
import pytest

from appliance.signalling.analog.cadence import RingCadenceValidator, RingVerdict
from appliance.signalling.analog.callerid import (
    CallerId,
    CallerIdError,
    build_dtmf,
    build_mdmf,
    build_sdmf,
    parse_dtmf,
    parse_fsk,
)
from appliance.signalling.analog.callerid_tx import render_callerid
from appliance.signalling.analog.dialplan import DialPlan, DialRule, Match
from drivers.analog import simwire
from drivers.analog.base import FRAME_SAMPLES, PortEventType, silence
from drivers.analog.errors import PortStateError
from drivers.analog.hookswitch import HookSwitch
from drivers.analog.sim import SimFxoPort, SimFxsPort
from hil.sim.analog_listen import CallerIdEar


def test_uk_double_ring_counts_one_ring_per_cycle() -> None:
    v = RingCadenceValidator((400, 200, 400, 2000))
    t = 0.0
    verdicts = []
    for _ in range(2):
        for on, off in ((0.4, 0.2), (0.4, 2.0)):
            verdicts.append(v.ring_begin(t).verdict)
            verdicts.append(v.ring_end(t + on).verdict)
            t += on + off
    assert verdicts.count(RingVerdict.RING) == 2
    assert RingVerdict.BROKEN not in verdicts


def test_cadence_faults_are_named() -> None:
    v = RingCadenceValidator((1000, 4000))
    v.ring_begin(0.0)
    check = v.ring_end(0.05)
    assert check.verdict is RingVerdict.NOISE and "too short" in check.detail
    v.ring_begin(1.0)
    check = v.ring_end(3.0)
    assert check.verdict is RingVerdict.BROKEN and "2000 ms where 1000 ms" in check.detail
    v.reset()
    v.ring_begin(0.0)
    assert v.ring_end(1.0).verdict is RingVerdict.RING
    assert v.ring_begin(2.0).verdict is RingVerdict.BROKEN  # pause of 1 s, 4 s expected
    assert v.silence_exceeded(20.0)


def test_mdmf_round_trip_and_checksum_per_en_300_659_3() -> None:
    cid = CallerId(number="13800138000", name="ZHANG", datetime="11231015")
    message = build_mdmf(cid)
    assert message[0] == 0x80 and sum(message) & 0xFF == 0
    assert parse_fsk(message) == cid
    private = parse_fsk(build_mdmf(CallerId(absence="private")))
    assert private.absence == "private" and private.number == ""


def test_sdmf_is_parsed() -> None:
    assert parse_fsk(build_sdmf(CallerId(number="5551234", datetime="01011200"))).number \
        == "5551234"


@pytest.mark.parametrize("damage", ["checksum", "truncated", "type", "overrun"])
def test_damaged_caller_id_messages_are_refused(damage: str) -> None:
    message = bytearray(build_mdmf(CallerId(number="123456")))
    if damage == "checksum":
        message[5] ^= 0x01
    elif damage == "truncated":
        del message[-4:]
    elif damage == "type":
        message[0] = 0x81
        message[-1] = (message[-1] - 1) & 0xFF
    else:
        message[3] = 0x40  # parameter length running past the message
        message[-1] = (-(sum(message[:-1]))) & 0xFF
    with pytest.raises(CallerIdError):
        parse_fsk(bytes(message))


def test_dtmf_caller_id() -> None:
    assert parse_dtmf(build_dtmf(CallerId(number="0201234567"))).number == "0201234567"
    assert parse_dtmf("D1C").absence == "private"
    with pytest.raises(CallerIdError):
        parse_dtmf("A12B4C")


def test_dial_plan_verdicts() -> None:
    plan = DialPlan([DialRule("2XX", "ext"), DialRule("9.", "trunk", 1),
                     DialRule("*21", "feature:agent-login"), DialRule("[3-4]Z", "ext")])
    assert plan.match("2")[0] is Match.PARTIAL
    assert plan.match("201")[0] is Match.COMPLETE
    assert plan.match("2011")[0] is Match.NONE
    assert plan.match("9")[0] is Match.PARTIAL
    assert plan.match("9123")[0] is Match.AMBIGUOUS
    assert plan.match("*21")[1] == DialRule("*21", "feature:agent-login")
    assert plan.match("35")[0] is Match.COMPLETE and plan.match("30")[0] is Match.NONE
    with pytest.raises(ValueError):
        DialPlan([DialRule("9.1", "trunk")])


def _feed(hook: HookSwitch, states: list[bool]) -> list[tuple[PortEventType, str]]:
    out = []
    for state in states:
        out += [(e.type, e.digit) for e in hook.feed(state)]
    return out


def test_hook_switch_tells_pulses_flash_and_hang_up_apart() -> None:
    hook = HookSwitch()
    events = _feed(hook, [True] * 5)
    assert events == [(PortEventType.OFF_HOOK, "")]
    three = ([False] * 3 + [True] * 2) * 3 + [True] * 12  # 60/40 ms pulses, then a pause
    assert _feed(hook, three) == [(PortEventType.PULSE_DIGIT, "3")]
    flash = [False] * 10 + [True] * 3  # 200 ms break
    assert _feed(hook, flash) == [(PortEventType.FLASH, "")]
    hang_up = [False] * 45  # 900 ms
    assert _feed(hook, hang_up) == [(PortEventType.ON_HOOK, "")]


def test_sim_wire_rejects_malformed_frames() -> None:
    good = simwire.encode(simwire.RING, 7, silence())
    assert simwire.decode(good).has(simwire.RING)
    with pytest.raises(simwire.WireError):
        simwire.decode(good[:-2])
    with pytest.raises(simwire.WireError):
        simwire.decode(b"XX" + good[2:])
    with pytest.raises(simwire.WireError):
        simwire.encode(0, 0, np.zeros(10, np.int16))


def test_sim_port_survives_garbage_and_reports_a_lost_simulator() -> None:
    port_end, sim_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    port = SimFxoPort.from_socket(port_end, "line9")
    sim_end.send(b"garbage")
    assert port.read_frame() is None and port.status()["bad_frames"] == 1
    sim_end.send(simwire.encode(simwire.BATTERY | simwire.RING, 0, silence()))
    assert port.read_frame() is not None
    assert [e.type for e in port.poll_events()] == [PortEventType.RING_BEGIN]
    sim_end.close()
    assert port.read_frame() is None
    assert next(e.type for e in port.poll_events()) is PortEventType.ALARM
    assert port.status()["link"] == "down"
    port.write_frame(silence())  # a dead port does not block or raise
    port.close()
    with pytest.raises(PortStateError):
        port.read_frame()


def test_fxs_sim_port_plays_the_ring_cadence_and_trips_on_answer() -> None:
    port_end, sim_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    port = SimFxsPort.from_socket(port_end, "desk9")
    port.set_cadence((100, 100))
    port.ring(True)
    rings = []
    for _ in range(10):
        port.write_frame(silence())
        rings.append(simwire.decode(sim_end.recv(400)).has(simwire.RING))
    assert rings == [True] * 5 + [False] * 5
    sim_end.send(simwire.encode(simwire.OFF_HOOK, 0, silence()))
    port.read_frame()
    types = [e.type for e in port.poll_events()]
    assert PortEventType.RINGER_OFF in types and PortEventType.OFF_HOOK in types
    with pytest.raises(ValueError):
        port.set_cadence((100,))
    port.close()
    sim_end.close()


def test_open_analog_names_unknown_schemes_and_bad_options(tmp_path: object) -> None:
    from drivers.analog import open_analog
    from drivers.analog.errors import AnalogPortInitError
    from drivers.errors import AddressError

    with pytest.raises(AddressError, match="known: dahdi, sim"):
        open_analog("serial:/dev/ttyS1", "fxo")
    with pytest.raises(AnalogPortInitError, match=r"expected 'sim:/path/to/port\.sock'"):
        open_analog("sim:", "fxs")
    with pytest.raises(AnalogPortInitError, match="unknown option 'ring'"):
        open_analog(f"sim:{tmp_path}/x.sock?ring=1", "fxs")


@pytest.mark.parametrize("standard", ["v23", "bell202", "dtmf"])
def test_an_idle_phones_ear_skips_settled_silence_and_still_hears_caller_id(
    standard: str,
) -> None:
    """Silence after the receivers have settled is not run through them (an idle phone's
    cost), and caller ID after a long silence is still heard, twice in a row."""
    ear = CallerIdEar(standard)
    runs = 0
    process = ear.dtmf.process

    def counted(frame: Any) -> Any:
        nonlocal runs
        runs += 1
        return process(frame)

    ear.dtmf.process = counted  # type: ignore[method-assign]
    silence = np.zeros(FRAME_SAMPLES, np.int16)
    cid = CallerId(number="13800138000", name="ZHANG" if standard != "dtmf" else "")
    audio = render_callerid(cid, standard)
    audio = np.concatenate([audio, np.zeros(-len(audio) % FRAME_SAMPLES, np.int16)])
    for _ in range(2):
        for _ in range(500):  # 10 s on hook
            ear.listen(silence)
        for frame in audio.reshape(-1, FRAME_SAMPLES):
            ear.listen(frame)
    for _ in range(10):
        ear.listen(silence)
    assert [c.number for c in ear.received] == ["13800138000"] * 2, ear.errors
    assert runs < 2 * len(audio) // FRAME_SAMPLES + 40  # not the 1,000 silent frames
