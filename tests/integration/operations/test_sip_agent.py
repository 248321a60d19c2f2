"""Issue 16: an agent works on a SIP phone exactly as on an FXS phone, on the running daemons.

Kamailio (``appliance-sip-edge``, its configuration generated from ``[sip]``) is the
registrar; baresip, a SIP phone nobody on the team wrote, registers extension 2001
by digest and answers at once. The agent logs in on ``sip:2001`` with
``appliancectl agents login``; a customer rings in on the E1 span, keys 1 and is
queued, the ACD rings the SIP phone through the pjsua2 back-end inside telephonyd,
and the two talk: each side hears the other's tone; the agent's shell holds and takes
back the caller. The customer hangs up; the
queue_log, the CDR and the stereo recording are those of an FXS agent's call.
"""

from __future__ import annotations

import re
import signal
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from acd_traffic import agent, caller_hears, key_into_queue, rings, rung, talking_to
from console_terminal import console_on
from operations_rig import Appliance, until

from appliance.config import load_config
from hil.sip.baresip import BaresipPhone

pytestmark = pytest.mark.integration

CALLER = "13800138000"
EXTENSION = "2001"  # the demo configuration's SIP extension
PHONE_HZ = 1000  # the agent's voice
CALLER_HZ = 700  # the customer's voice
COLLEAGUE_HZ = 1500  # 202 (phone2, FXS)


@pytest.fixture
def sip_box(appliance: Appliance, tmp_path: Path) -> Iterator[tuple[Appliance, BaresipPhone]]:
    """The demo appliance (SIP on, extension 2001) with Kamailio and baresip registered as
    2001 (as ``appliancectl sip registrations`` shows it)."""
    box = appliance
    sip = load_config(str(box.config)).sip
    box.start_sip_edge()
    phone = BaresipPhone(tmp_path / "phone", EXTENSION, sip.extensions[EXTENSION].password,
                         sip.listen_port, tone_hz=PHONE_HZ)
    phone.start()
    try:
        until(lambda: [r["extension"] for r in
                       box.ctl_json("sip", "registrations")["registrations"]] == [EXTENSION],
              what="baresip registered as 2001")
        yield box, phone
    finally:
        phone.stop()


def test_an_agent_on_a_sip_phone_takes_an_e1_caller(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    box, phone = sip_box
    assert "1001" in box.ctl("agents", "login", "1001", f"sip:{EXTENSION}").stdout
    assert agent(box, "1001")["device"] == f"sip:{EXTENSION}"
    box.span_up()

    call = talking_to(box, "1001", CALLER, channel=1)
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, what="the caller hearing the agent")
    assert "agent 1001: caller on hold" in box.ctl("calls", "hold", "1001").stdout
    until(lambda: caller_hears(box, call, PHONE_HZ) < 0.05, what="a held caller not hearing")
    assert "back from hold" in box.ctl("calls", "unhold", "1001").stdout
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, what="the caller back with the agent")
    box.sim("e1a", "talk", call=call, hz=CALLER_HZ, seconds=3.0)
    time.sleep(3.0)  # the customer speaks for three seconds (real audio, real time)
    row = box.live_call(CALLER)
    assert row["state"] == "talking" and row["agent"] == "1001"
    call_id = str(row["call_id"])

    box.sim("e1a", "hangup", call=call)
    until(lambda: agent(box, "1001")["state"] != "talking", what="the agent free again")
    until(lambda: phone.calls_heard(), what="baresip's recording of the call")
    until(lambda: phone.heard(CALLER_HZ) > 0.8, timeout=10, what="the agent hearing the caller")

    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert "CONNECT" in events and "COMPLETECALLER" in events, events
    cdr = box.rows("SELECT * FROM cdr WHERE call_id = ?", call_id)
    assert len(cdr) == 1 and cdr[0]["agent"] == "1001", cdr
    recording = until(lambda: next(iter(box.rows(
        "SELECT path FROM recordings WHERE call_id = ? AND status = 'complete'", call_id)), None),
        what="the call's recording final")
    with wave.open(str(box.root / "state" / "recordings" / str(recording["path"]))) as wav:
        assert wav.getnchannels() == 2
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), np.int16).reshape(-1, 2)
    # both sides on their own channel: the caller's 700 Hz and the SIP agent's 1000 Hz
    assert tone_share(stereo[:, 0], CALLER_HZ) > 0.2 and tone_share(stereo[:, 1], PHONE_HZ) > 0.5


def tone_share(audio: npt.NDArray[np.int16], hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1 / 8000)
    return float(spectrum[np.abs(freqs - hz) <= 20].sum() / (spectrum.sum() or 1.0))


def test_the_sip_agent_hangs_up_and_the_caller_is_released(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    box, phone = sip_box
    box.ctl("agents", "login", "1001", EXTENSION)  # the bare extension names the same phone
    box.span_up()
    talking_to(box, "1001", CALLER, channel=2)
    call_id = str(box.live_call(CALLER)["call_id"])

    phone.command("hangup")  # the agent puts the handset down: BYE from the phone
    until(lambda: not [c for c in box.ctl_json("calls", "list")["calls"]
                       if c["caller"] == CALLER], what="the caller released")
    until(lambda: box.rows("SELECT * FROM cdr WHERE call_id = ?", call_id), what="the CDR")
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert "COMPLETEAGENT" in events, events
    until(lambda: agent(box, "1001")["state"] != "talking", what="the agent free again")
    cdr = box.rows("SELECT * FROM cdr WHERE call_id = ?", call_id)[0]
    assert cdr["cause"] == 16, cdr  # the phone's BYE is a normal clearing (RFC 3398)


def test_an_agent_whose_sip_phone_is_off_is_skipped_and_the_caller_still_served(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    box, phone = sip_box
    phone.stop()  # switched off: it takes its registration back (REGISTER, Expires: 0)
    until(lambda: not box.ctl_json("sip", "registrations")["registrations"],
          what="the registration gone")
    box.ctl("agents", "login", "1001", f"sip:{EXTENSION}")
    box.span_up()
    call = box.e1_call(channel=3, calling=CALLER)
    key_into_queue(box, call, CALLER)
    call_id = str(box.live_call(CALLER)["call_id"])
    # Kamailio answers 404 for an extension with no contact (Q.850 1): not a 15 s ring-out
    until(lambda: "RINGNOANSWER" in [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)],
        timeout=10, what="the ring refused at once")
    assert agent(box, "1001")["state"] == "paused"
    assert box.live_call(CALLER)["state"] == "queued"
    box.ctl("agents", "login", "1002", "fxs2")  # a colleague on an FXS phone takes it
    until(lambda: agent(box, "1002")["state"] == "talking", timeout=30, what="1002 talking")


def test_a_sip_agent_logs_in_by_feature_code_and_calls_an_fxs_extension(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    box, phone = sip_box
    phone.command("dial", "*511001")  # *51 + agent id, as on an FXS phone
    until(lambda: agent(box, "1001")["state"] == "idle", what="1001 logged in by *51")
    assert agent(box, "1001")["device"] == f"sip:{EXTENSION}"

    rings_before = rings(box, "phone1")
    phone.command("dial", "201")
    rung(box, "phone1", rings_before, "201 (phone1) ringing for the SIP phone")
    box.sim("phone1", "lift")
    until(lambda: box.live_call(EXTENSION)["state"] == "talking", what="2001 and 201 talking")
    heard = float(box.sim("phone1", "status")["voice_s"])
    until(lambda: float(box.sim("phone1", "status")["voice_s"]) > heard + 1.0,
          what="201 hearing the SIP phone")
    phone.command("hold")  # the phone's hold key on a call it placed: 201 is held
    until(lambda: box.live_call(EXTENSION)["state"] == "held", what="201 held")
    phone.command("resume")
    until(lambda: box.live_call(EXTENSION)["state"] == "talking", what="back with 201")
    box.sim("phone1", "hangup")
    (record,) = until(lambda: box.rows("SELECT * FROM cdr WHERE callee = '201'"),
                      what="the CDR of the call to 201")
    assert (record["caller"], record["agent"], record["disposition"]) == (
        EXTENSION, "1001", "ANSWERED"), record
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the SIP leg released")

    phone.command("dial", "555")  # no such number: refused, nothing left behind
    until(lambda: "404" in phone.log.read_text(errors="replace"), what="the phone told 404")
    assert not box.ctl_json("calls", "list")["calls"]


def test_telephonyd_stops_cleanly_in_the_middle_of_a_sip_call(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    """pjsua2's pitfalls at shutdown: every call wrapper is dropped on the owner thread
    before ``libDestroy`` (a destructor after it aborts the process), and the phone is
    told (BYE), not left talking to nobody."""
    box, phone = sip_box
    box.ctl("agents", "login", "1001", f"sip:{EXTENSION}")
    box.span_up()
    talking_to(box, "1001", CALLER, channel=4)
    box.kill("telephonyd", signal.SIGTERM)
    assert box.processes["telephonyd"].returncode == 0
    until(lambda: "terminated" in phone.log.read_text(errors="replace"),
          what="the phone told the call ended")


def test_a_sip_agent_hands_the_caller_to_an_fxs_colleague(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    """Attended transfer from the SIP phone's agent to extension 202 (phone2, FXS)."""
    box, _ = sip_box
    box.ctl("agents", "login", "1001", f"sip:{EXTENSION}")
    box.span_up()
    call = talking_to(box, "1001", CALLER, channel=5)
    call_id = str(box.live_call(CALLER)["call_id"])
    before = rings(box, "phone2")
    assert "ringing 202" in box.ctl("calls", "consult", "1001", "202").stdout
    rung(box, "phone2", before, "202 ringing")
    box.sim("phone2", "lift")
    box.sim("phone2", "talk", hz=COLLEAGUE_HZ)
    said = box.ctl("calls", "transfer-complete", "1001").stdout
    assert "caller handed to the consulted party" in said
    until(lambda: caller_hears(box, call, COLLEAGUE_HZ) > 0.8, what="the caller with 202")
    until(lambda: agent(box, "1001")["state"] in ("wrapup", "idle"), what="1001 freed")
    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert "ATTENDEDTRANSFER" in events, events


def test_an_fxs_agent_hands_the_caller_to_a_sip_extension(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    """Agent 1002 (fxs2) consults SIP extension 2001, whose phone answers, and hands the
    caller over."""
    box, _ = sip_box
    box.ctl("agents", "login", "1002", "fxs2")
    box.span_up()
    call = talking_to(box, "1002", CALLER, channel=6)
    assert "ringing 2001" in box.ctl("calls", "consult", "1002", EXTENSION).stdout
    assert caller_hears(box, call, PHONE_HZ) < 0.05  # on hold, not yet with 2001
    until(lambda: box.ctl("calls", "transfer-complete", "1002", check=False).returncode == 0,
          what="the consultation answered by 2001 and the caller handed over")
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, timeout=30,
          what="the caller with the SIP phone (2001)")
    until(lambda: agent(box, "1002")["state"] in ("wrapup", "idle"), what="1002 freed")
    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")


def test_the_console_shows_each_sip_phone_its_agent_and_its_calls(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    """The field engineer's SIP screen (key i): extension 2001 registered by baresip with
    its expiry, agent 1001 at it, then its call; and the phone gone when switched off."""
    box, phone = sip_box
    box.ctl("agents", "login", "1001", f"sip:{EXTENSION}")
    console = console_on(box.root, box.config)
    try:
        console.wait_for("SPANS", timeout=15)
        console.keys("i")
        screen = console.wait_for("sip:2001-", timeout=10)  # baresip's contact
        row = next(line for line in screen.splitlines() if line.startswith(EXTENSION))
        assert "1001 Ada" in row and re.search(r" 0 +\d+s sip:2001-", row), row
        box.span_up()
        call = talking_to(box, "1001", CALLER, channel=7)
        console.wait_for("1001 Ada         1", timeout=10)  # one call up on the phone
        box.sim("e1a", "hangup", call=call)
        phone.stop()
        console.wait_for("not registered", timeout=15)
        assert "Traceback" not in console.errors()
    finally:
        console.close()


def test_an_fxs_agent_sends_the_caller_blind_to_the_sip_extension(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    """Blind transfer to one of our phones (ext:2001, SIP): the agent is free at once, the
    SIP phone answers and the caller talks to it; an unknown phone is refused (exit 4)."""
    box, _ = sip_box
    box.ctl("agents", "login", "1002", "fxs2")
    box.span_up()
    call = talking_to(box, "1002", CALLER, channel=8)
    call_id = str(box.live_call(CALLER)["call_id"])
    unknown = box.ctl("calls", "transfer", "1002", "ext:2999", check=False)
    assert unknown.returncode == 4 and "2999" in unknown.stderr
    said = box.ctl("calls", "transfer", "1002", f"ext:{EXTENSION}").stdout
    assert "caller sent to ext:2001" in said
    until(lambda: agent(box, "1002")["state"] in ("wrapup", "idle"), what="1002 freed")
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, timeout=30,
          what="the caller with the SIP phone (2001)")
    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert "BLINDTRANSFER" in events, events


def test_the_sip_agent_holds_the_caller_with_the_phones_hold_key(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    """baresip's hold (a re-INVITE offering sendonly, RFC 3264 §8.4) holds the caller as
    ``calls hold`` does; its resume takes the caller back; queue_log has both."""
    box, phone = sip_box
    box.ctl("agents", "login", "1001", f"sip:{EXTENSION}")
    box.span_up()
    call = talking_to(box, "1001", CALLER, channel=3)
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, what="the caller hearing the agent")
    call_id = str(box.live_call(CALLER)["call_id"])

    phone.command("hold")
    until(lambda: box.live_call(CALLER)["state"] == "held", what="the call held in calls list")
    until(lambda: caller_hears(box, call, PHONE_HZ) < 0.05, what="a held caller not hearing")
    phone.command("resume")
    until(lambda: box.live_call(CALLER)["state"] == "talking", what="the call back")
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, what="the caller back with the agent")
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert events.count("HOLD") == 1 and events.count("UNHOLD") == 1, events
    box.sim("e1a", "hangup", call=call)


def test_an_extension_on_two_phones_rings_both_and_the_first_to_answer_takes_it(
        sip_box: tuple[Appliance, BaresipPhone], tmp_path: Path) -> None:
    """Several contacts per extension (RFC 3261 §16.6: Kamailio forks in parallel): the
    agent's desk phone and softphone both ring; the desk phone answers, the softphone is
    CANCELled, and the caller talks to the desk phone."""
    box, desk = sip_box
    sip = load_config(str(box.config)).sip
    softphone = BaresipPhone(tmp_path / "softphone", EXTENSION,
                             sip.extensions[EXTENSION].password, sip.listen_port,
                             tone_hz=COLLEAGUE_HZ, auto_answer=False)
    softphone.start()
    try:
        until(lambda: len(box.ctl_json("sip", "registrations")["registrations"]) == 2,
              what="2001 registered from two phones")
        box.ctl("agents", "login", "1001", f"sip:{EXTENSION}")
        box.span_up()
        call = box.e1_call(channel=11, calling=CALLER)
        key_into_queue(box, call, CALLER)
        until(lambda: agent(box, "1001")["state"] == "talking", timeout=30,
              what="the first phone to answer talking")
        until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8,
              what="the caller hearing the desk phone (it answered first)")
        # the softphone rang, then its INVITE was CANCELled (baresip: "session closed")
        rang = until(lambda: re.search(r"Incoming call from.*\n(.*\n)*.*session closed",
                                       softphone.log.read_text(errors="replace")),
                     what="the softphone rung, then cancelled")
        assert rang
        box.sim("e1a", "hangup", call=call)
        until(desk.calls_heard, what="the desk phone's call (it took it)")
        assert not softphone.calls_heard()
    finally:
        softphone.stop()
