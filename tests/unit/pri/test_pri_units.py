"""PRI building blocks: causes, the call state table, the Q.931 check, config, libpri pair."""

from __future__ import annotations

import socket

import pytest

from appliance.config.sections.spans import SpanEntry
from appliance.config.validate import Problem, build
from appliance.signalling.pri import causes
from appliance.signalling.pri import libpri as lp
from appliance.signalling.pri.call import TRANSITIONS, CallState, CallStateError, PriCall
from appliance.signalling.pri.q931check import check_q931, q931_of

# A SETUP as libpri sends it: PD, CR length 2, CR, type, bearer capability, channel id,
# calling and called party numbers
SETUP = bytes.fromhex("0802000105" "04038090a3" "1803a98381" "6c0600803330" "3031" "7003803132")


def test_causes_map_both_ways() -> None:
    assert causes.cause_for("busy") == 17 and causes.reason_for(17) == "busy"
    assert causes.reason_for(causes.NO_CIRCUIT_AVAILABLE) == "congestion"
    assert causes.reason_for(111) == "protocol-error"
    assert causes.reason_for(88) == "invalid-message"  # class 5 (Q.850 §2.2.5)
    for reason, cause in causes.REASON_TO_CAUSE.items():
        assert causes.reason_for(cause) == reason
    with pytest.raises(ValueError, match="unknown clearing reason 'nope'"):
        causes.cause_for("nope")


def test_inbound_call_walks_the_q931_states() -> None:
    call = PriCall(span="s", direction="inbound", channel=1)
    for stimulus, state in [("recv-setup", CallState.CALL_PRESENT),
                            ("send-proceeding", CallState.INCOMING_PROCEEDING),
                            ("send-alerting", CallState.CALL_RECEIVED),
                            ("send-connect", CallState.ACTIVE),
                            ("recv-disconnect", CallState.DISCONNECT_INDICATION),
                            ("send-release", CallState.RELEASE_REQUEST),
                            ("recv-release", CallState.NULL)]:
        assert call.fire(stimulus) is state
    assert call.cleared


def test_an_out_of_state_stimulus_is_refused() -> None:
    call = PriCall(span="s", direction="outbound", channel=31)
    with pytest.raises(CallStateError, match="'send-connect' not allowed in state U0-null"):
        call.fire("send-connect")
    call.fire("send-setup")
    with pytest.raises(CallStateError):
        call.fire("recv-setup")
    assert all(state is not CallState.NULL for (state, s) in TRANSITIONS if s == "local-clear")


def test_q931_check_accepts_a_good_setup() -> None:
    assert check_q931(SETUP) == []
    assert q931_of(b"\x00\x01\x00\x00" + SETUP) == SETUP  # I-frame, SAPI 0
    assert q931_of(b"\x00\x01\x7f") is None  # SABME: no Q.931


@pytest.mark.parametrize(("message", "problem"), [
    (b"\x08\x02", "too short"),
    (b"\x41\x02\x00\x01\x05", "unknown protocol discriminator 0x41"),
    (b"\x08\x02\x00\x01", "no message type"),
    (b"\x08\x32\x00\x01\x05", "call reference length octet 0x32"),
    (b"\x08\x02\x00\x01\x99", "unknown message type 0x99"),
    (SETUP + b"\x2f\x01\x00", "unrecognised IE 0x2f"),
    (SETUP + b"\x70\x09\x80", "IE 0x70 length 9 runs past the end"),
    (SETUP[:5] + SETUP[10:], "mandatory IE bearer capability missing"),
    (b"\x08\x02\x80\x01\x45", "mandatory IE cause missing"),
])
def test_q931_check_names_the_fault(message: bytes, problem: str) -> None:
    found = check_q931(message)
    assert any(problem in p for p in found), found


def test_q931_check_skips_other_codesets() -> None:
    assert check_q931(SETUP + b"\x96\x2f\x01\x00") == []  # shift to codeset 6, then unknown IE


def test_span_entry_defaults_and_validation() -> None:
    problems: list[Problem] = []
    entry = build(SpanEntry, {"name": "e1a", "address": "sim:/tmp/x.sock"}, ("rig", "spans", 0),
                  problems)
    assert problems == []
    assert (entry.framing, entry.crc4, entry.linecode, entry.switchtype, entry.node) == (
        "ccs", True, "hdb3", "euroisdn_e1", "cpe")
    problems = []
    build(SpanEntry, {"name": "e1a", "address": "tcp:x", "hunt_list": [16], "lbo": 9,
                      "switchtype": "dss1", "timers": {"t200": -1}}, ("rig", "spans", 0),
          problems)
    keys = {p.path[-1] for p in problems}
    assert {"address", "hunt_list", "lbo", "switchtype", "t200"} <= keys


def test_libpri_pair_over_a_socketpair_brings_the_dchannel_up() -> None:
    """libpri NET and CPE over SOCK_SEQPACKET, pumped by hand (no loop, no sleeps)."""
    net_sock, cpe_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for sock in (net_sock, cpe_sock):
        sock.setblocking(False)

    def reader(sock: socket.socket):  # type: ignore[no-untyped-def]
        def read() -> bytes | None:
            try:
                return sock.recv(1024)
            except BlockingIOError:
                return None
        return read

    def writer(sock: socket.socket):  # type: ignore[no-untyped-def]
        def write(frame: bytes) -> None:
            sock.send(frame)
        return write

    net = lp.PriController("net", net_sock.fileno(), lp.NETWORK, lp.SWITCH_TYPES["euroisdn_e1"],
                           reader(net_sock), writer(net_sock))
    cpe = lp.PriController("cpe", cpe_sock.fileno(), lp.CPE, lp.SWITCH_TYPES["euroisdn_e1"],
                           reader(cpe_sock), writer(cpe_sock))
    events: list[tuple[str, str]] = []
    for _ in range(20):
        for name, ctrl in (("net", net), ("cpe", cpe)):
            for _ in range(4):
                event = ctrl.check_event()
                if event is not None:
                    events.append((name, event.name))
            # libpri starts SABME on its first timer run (wall-clock due 'now')
            if ctrl.schedule_next() is not None and not events:
                event = ctrl.schedule_run()
                if event is not None:
                    events.append((name, event.name))
        if len(events) >= 2:
            break
    assert ("cpe", "PRI_EVENT_DCHAN_UP") in events and ("net", "PRI_EVENT_DCHAN_UP") in events
    assert lp.version().startswith("1.6")
    assert lp.cause_text(17) == "User busy"
    net.close()
    cpe.close()
    net_sock.close()
    cpe_sock.close()


def test_pri_refuses_cas_framing_and_spy_needs_an_inner_address() -> None:
    from appliance.runtime.clock import VirtualClock
    from appliance.signalling.pri.span import PriSpan
    from drivers.span import SpanInitError, open_span

    entry = SpanEntry(name="e1a", address="sim:/nonexistent.sock", framing="cas")
    with pytest.raises(ValueError, match="PRI needs CCS framing"):
        PriSpan.open(entry, VirtualClock())
    with pytest.raises(SpanInitError, match="'spy:' wraps another address"):
        open_span("spy:")
