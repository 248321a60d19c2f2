"""Issue 16.5: a carrier on a SIP trunk, on the running daemons.

SIPp (Debian's ``sip-tester``, nobody on the team wrote it) is the carrier, an IP
peer at ``[sip.trunks.carrier]``'s address. A customer's call to a DID comes in
through Kamailio, reaches the IVR's menu, keys 1 as RFC 4733 telephone-events and
is queued and answered by an agent on an FXS phone; ``appliancectl calls list``
shows the trunk, the caller and the DID, ``appliancectl sip trunks`` and the
console's SIP screen the trunk's call; the agent's shell hangs up and the carrier
gets the BYE; the CDR and queue_log are an E1 call's, and the recording holds the
customer's speech. Outside, click-to-dial goes out on the SIP trunk first
(``[calls] outbound_trunks``) with the agent's number as the caller the carrier
sees. And nobody else can pass for the carrier.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from acd_traffic import agent, port_state
from console_terminal import console_on
from operations_rig import Appliance, running, until

from appliance.config import load_config
from hil.sip.baresip import free_port
from hil.sip.sipp import SippCarrier

pytestmark = pytest.mark.integration

CUSTOMER = "13912345678"
DID = "4008001000"
OUTSIDE = "013812345678"


@pytest.fixture
def carrier_box(tmp_path: Path) -> Iterator[tuple[Appliance, SippCarrier]]:
    """The demo appliance with its SIP trunk ``carrier`` (SIPp on loopback) first in the
    outbound route, and its SIP edge up."""
    def trunk_first(box: Appliance) -> None:
        with box.config.open("a", encoding="utf-8") as config:
            config.write('\n[calls]\noutbound_trunks = ["carrier", "pri", "analog"]\n')

    with running(tmp_path, trunk_first) as box:
        sip = load_config(str(box.config)).sip
        box.start_sip_edge()
        yield box, SippCarrier(tmp_path / "carrier", "127.0.0.1", sip.trunks["carrier"].port,
                               f"{sip.listen_host}:{sip.listen_port}", free_port())


def sip_calls(box: Appliance) -> list[dict[str, Any]]:
    return [c for c in box.ctl_json("calls", "list")["calls"] if c["trunk"] == "carrier"]


def test_a_customer_on_the_sip_trunk_reaches_an_agent_through_the_menu(
        carrier_box: tuple[Appliance, SippCarrier]) -> None:
    box, carrier = carrier_box
    box.ctl("agents", "login", "1001", "fxs1")
    run = carrier.call(DID, CUSTOMER, digits="1", speech=True)
    try:
        (row,) = until(lambda: [c for c in sip_calls(box) if c["state"] == "talking"],
                       timeout=40, what="the SIP trunk's caller talking to an agent")
        assert (row["caller"], row["callee"], row["agent"]) == (CUSTOMER, DID, "1001"), row
        call_id = str(row["call_id"])
        assert "carrier" in box.ctl("calls", "list").stdout
        (trunk,) = box.ctl_json("sip", "trunks")["trunks"]
        assert (trunk["trunk"], trunk["peer"], trunk["calls"], trunk["max_calls"]) == (
            "carrier", f"127.0.0.1:{carrier.port}", 1, 2)
        time.sleep(3.0)  # the customer speaks to the agent (real audio, real time)
        box.ctl("calls", "hangup", call_id)  # the agent's shell ends the call: BYE to SIPp
        assert run.wait() == 0, run.messages()
    finally:
        run.stop()
    cdr = until(lambda: box.rows("SELECT * FROM cdr WHERE call_id = ?", call_id),
                what="the CDR")
    assert (cdr[0]["trunk"], cdr[0]["caller"], cdr[0]["callee"], cdr[0]["agent"]) == (
        "carrier", CUSTOMER, DID, "1001"), cdr
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert events[:1] == ["ENTERQUEUE"] and "CONNECT" in events, events
    recording = until(lambda: next(iter(box.rows(
        "SELECT path FROM recordings WHERE call_id = ? AND status = 'complete'", call_id)),
        None), what="the call's recording final")
    with wave.open(str(box.root / "state" / "recordings" / str(recording["path"]))) as wav:
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), np.int16).reshape(-1, 2)
    # the customer's recorded speech (SIPp's A-law pcap) came through pjmedia to the engine
    assert float(np.sqrt(np.mean(stereo[:, 0].astype(np.float64) ** 2))) > 100.0


def test_the_carrier_hangs_up_and_the_agent_is_freed(
        carrier_box: tuple[Appliance, SippCarrier]) -> None:
    box, carrier = carrier_box
    box.ctl("agents", "login", "1001", "fxs1")
    console = console_on(box.root, box.config)
    run = carrier.call(DID, CUSTOMER, digits="1", speech=False, hold=6.0)
    try:
        console.wait_for("SPANS", timeout=15)
        console.keys("i")  # the SIP screen: the trunk with its one call up
        console.wait_for(f"carrier          127.0.0.1:{carrier.port}", timeout=10)
        until(lambda: agent(box, "1001")["state"] == "talking", timeout=40,
              what="the agent talking to the trunk's caller")
        console.wait_for("  1/2", timeout=10)
        assert run.wait() == 0, run.messages()  # BYE from the carrier, 200 OK from us
        console.wait_for("  0/2", timeout=10)
    finally:
        run.stop()
        console.close()
    until(lambda: not sip_calls(box), what="the call gone from calls list")
    until(lambda: agent(box, "1001")["state"] != "talking", what="the agent free again")
    events = [r["event"] for r in box.rows("SELECT event FROM queue_log ORDER BY id")]
    assert "COMPLETECALLER" in events, events


def test_click_to_dial_goes_out_on_the_sip_trunk_with_the_agents_number(
        carrier_box: tuple[Appliance, SippCarrier]) -> None:
    box, carrier = carrier_box
    box.ctl("agents", "login", "1001", "fxs1")
    run = carrier.answer(OUTSIDE, "201")  # Ada's extension as the caller the carrier sees
    try:
        placed = box.ctl_json("calls", "originate", "1001", OUTSIDE)
        until(lambda: [c for c in sip_calls(box) if c["state"] == "talking"], timeout=30,
              what="the carrier answering the outside call")
        box.ctl("calls", "hangup", placed["call_id"])
        assert run.wait() == 0, run.messages()
    finally:
        run.stop()
    record = until(lambda: box.rows("SELECT * FROM cdr WHERE call_id = ?", placed["call_id"]),
                   what="the CDR")[0]
    assert (record["caller"], record["callee"], record["trunk"]) == ("201", OUTSIDE, "carrier")
    until(lambda: port_state(box, "fxs1") == "idle", what="Ada's phone back on hook")


def test_nobody_else_passes_for_the_carrier(
        carrier_box: tuple[Appliance, SippCarrier], tmp_path: Path) -> None:
    """The same call from another port, even claiming the trunk's header, is challenged
    for a digest login like any phone (and never reaches the IVR)."""
    box, carrier = carrier_box
    impostor = SippCarrier(tmp_path / "impostor", "127.0.0.1", free_port(), carrier.edge,
                           free_port())
    run = impostor.call(DID, CUSTOMER, digits="1", speech=False,
                        headers={"X-Appliance-Trunk": "carrier"})
    try:
        assert run.wait(timeout=60) != 0  # SIPp expected a 200 and got 407
    finally:
        run.stop()
    assert "407 Proxy Authentication Required" in run.messages()
    assert not box.rows("SELECT * FROM cdr WHERE trunk = 'carrier'")
