"""Issue 16: an agent works on a SIP phone exactly as on an FXS phone, on the running daemons.

Kamailio (``appliance-sip-edge``, its configuration generated from ``[sip]``) is the
registrar; baresip, a SIP phone nobody on the team wrote, registers extension 2001
by digest and answers at once. The agent logs in on ``sip:2001`` with
``appliancectl agents login``; a customer rings in on the E1 span, keys 1 and is
queued, the ACD rings the SIP phone through the pjsua2 back-end inside telephonyd,
and the two talk: each side hears the other's tone. The customer hangs up; the
queue_log, the CDR and the stereo recording are those of an FXS agent's call.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from acd_traffic import agent, caller_hears, talking_to
from operations_rig import Appliance, running, until

from hil.sip.baresip import BaresipPhone, free_port

pytestmark = pytest.mark.integration

CALLER = "13800138000"
EXTENSION, PASSWORD = "2001", "agent-2001-secret"
PHONE_HZ = 1000  # the agent's voice
CALLER_HZ = 700  # the customer's voice


@pytest.fixture
def sip_box(tmp_path: Path) -> Iterator[tuple[Appliance, BaresipPhone]]:
    edge_port, backend_port = free_port(), free_port()

    def with_sip(box: Appliance) -> None:
        with box.config.open("a", encoding="utf-8") as config:
            config.write(f"\n[sip]\nenabled = true\nlisten_port = {edge_port}\n"
                         f"backend_port = {backend_port}\n"
                         f'[sip.extensions.{EXTENSION}]\npassword = "{PASSWORD}"\n')

    with running(tmp_path, with_sip) as box:
        box.start_sip_edge()
        phone = BaresipPhone(tmp_path / "phone", EXTENSION, PASSWORD, edge_port,
                             tone_hz=PHONE_HZ)
        phone.start()
        try:
            yield box, phone
        finally:
            phone.stop()


def test_an_agent_on_a_sip_phone_takes_an_e1_caller(
        sip_box: tuple[Appliance, BaresipPhone]) -> None:
    box, phone = sip_box
    until(lambda: [r["extension"] for r in
                   box.ctl_json("sip", "registrations")["registrations"]] == [EXTENSION],
          what="baresip registered as 2001")
    assert "1001" in box.ctl("agents", "login", "1001", f"sip:{EXTENSION}").stdout
    assert agent(box, "1001")["device"] == f"sip:{EXTENSION}"
    box.span_up()

    call = talking_to(box, "1001", CALLER, channel=1)
    until(lambda: caller_hears(box, call, PHONE_HZ) > 0.8, what="the caller hearing the agent")
    box.sim("e1a", "talk", call=call, hz=CALLER_HZ, seconds=3.0)
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
    until(lambda: box.ctl_json("sip", "registrations")["registrations"],
          what="baresip registered")
    box.ctl("agents", "login", "1001", EXTENSION)  # the bare extension names the same phone
    box.span_up()
    call = talking_to(box, "1001", CALLER, channel=2)
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
