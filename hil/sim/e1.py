"""The network side of one E1 PRI line, for the appliance's ``sim:`` span backend.

It listens on the three SOCK_SEQPACKET sockets :mod:`drivers.span.sim`
connects to (control, D-channel, TDM), runs libpri in **network** mode on
the D-channel, and gives each of the 30 B-channels a far-end party: it can
play tones and DTMF as a caller would, echo, and record what the appliance
sends. Scripted callers place calls; the routing table decides how calls from
the appliance are answered (answer, busy, reject with a Q.850 cause).

Fault injection is a property of the line (:class:`LineFaults`): loss of
signal, AIS, remote alarm, slips, CRC-4 errors, D-channel frame loss and
corruption, malformed Q.931 and a far-end RESTART. Every D-channel frame is
written to a LAPD pcap (:mod:`hil.sim.e1_pcap`).

Limits: no bit-level line coding or timing; the TDM stream is clocked by
:meth:`E1Simulator.send_tdm` (tests) or :meth:`E1Simulator.run_tdm`
(real time, 20 ms blocks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.signalling.pri import libpri as lp
from drivers.span.base import BCHANNELS, FRAME_SAMPLES, SpanAlarms, SpanCounters
from drivers.span.g711 import ALAW_SILENCE, alaw_decode
from drivers.span.sim import DCHAN_SUFFIX, TDM_BLOCK, TDM_SUFFIX, pack_linear, pack_tdm, unpack_tdm
from hil.sim.e1_pcap import LapdPcapWriter

log = logging.getLogger("hil.sim.e1")

SAMPLE_RATE = 8000
RECORD_FRAMES = 3000  # 60 s of 20 ms frames kept per B-channel
# G.706 §4.3.2: >= 915 errored CRC-4 blocks out of 1000 means false multiframe alignment
CRC4_LOSS_OF_MULTIFRAME = 915
# Q.23 DTMF frequencies
_DTMF_LOW = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
             "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
_DTMF_HIGH = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
              "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633,
              "C": 1633, "D": 1633}


def tone_samples(freqs: tuple[float, ...], seconds: float, dbm0: float = -10.0,
                 start: int = 0) -> npt.NDArray[np.int16]:
    """A sum of sines; each at ``dbm0`` (G.711: 0 dBm0 = 3.14 dBov, peak 32768/1.414 A-law)."""
    n = round(seconds * SAMPLE_RATE)
    t = (np.arange(n) + start) / SAMPLE_RATE
    amplitude = 32768 / 1.4142 * 10 ** ((dbm0 - 3.14) / 20) * math.sqrt(2)
    wave = np.zeros(n)
    for f in freqs:
        wave += np.sin(2 * np.pi * f * t)
    out: npt.NDArray[np.int16] = np.clip(wave * amplitude, -32768, 32767).astype(np.int16)
    return out


def dtmf_samples(digits: str, on: float = 0.08, off: float = 0.08,
                 dbm0: float = -10.0) -> npt.NDArray[np.int16]:
    """Q.24 DTMF: each digit ``on`` seconds, then ``off`` seconds of silence."""
    parts = []
    for digit in digits:
        parts.append(tone_samples((_DTMF_LOW[digit], _DTMF_HIGH[digit]), on, dbm0))
        parts.append(np.zeros(int(off * SAMPLE_RATE), np.int16))
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


@dataclass
class FarParty:
    """The far end of one B-channel: what it sends and what it heard."""

    play: npt.NDArray[np.int16] | None = None
    position: int = 0
    loop: bool = False
    echo: bool = False
    heard: deque[npt.NDArray[np.int16]] = field(
        default_factory=lambda: deque(maxlen=RECORD_FRAMES))  # the last minute heard
    record: bool = True

    def next_frame(self, echo_frame: npt.NDArray[np.int16] | None) -> npt.NDArray[np.int16] | None:
        if self.echo:
            return echo_frame
        if self.play is None:
            return None
        end = self.position + FRAME_SAMPLES
        if end > len(self.play):
            if not self.loop:
                frame = np.zeros(FRAME_SAMPLES, np.int16)
                rest = self.play[self.position:]
                frame[: len(rest)] = rest
                self.play = None
                return frame
            self.position = 0
            end = FRAME_SAMPLES
        frame = self.play[self.position:end]
        self.position = end
        return frame


@dataclass
class SimCall:
    """A call as the network side sees it."""

    channel: int
    direction: str  # "to-appliance" or "from-appliance"
    calling: str = ""
    called: str = ""
    handle: Any = None
    state: str = "setup"
    cause: int | None = None
    events: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    pending_digits: str = ""
    restricted: bool = False  # presentation restricted (CLIR)


@dataclass
class Route:
    """How the network treats a call from the appliance to a number."""

    action: str = "answer"  # "answer", "alert" (ring forever), "clear"
    cause: int = 16
    alert: bool = True


@dataclass
class LineFaults:
    """Injected line conditions (the 'device property' of the simulated line)."""

    los: bool = False
    ais: bool = False
    rai: bool = False
    drop_to_appliance: int = 0  # D-channel frames to lose, network -> appliance
    drop_from_appliance: int = 0  # appliance -> network
    corrupt_to_appliance: int = 0  # frames hit by bit errors (bad FCS: the receiver drops them)
    mutations: list[Callable[[bytes], bytes | None]] = field(default_factory=list)


class E1Simulator:
    """One E1 line's network side."""

    def __init__(self, path: str | Path, *, switchtype: str = "euroisdn_e1",
                 pcap: str | Path | None = None, timers: dict[str, int] | None = None,
                 node: str = "network") -> None:
        self.path = str(path)
        self.node = node  # "network" (a carrier's exchange) or "cpe" (a PBX behind us)
        self.switchtype = switchtype
        self.timers = dict(timers or {})
        self.faults = LineFaults()
        self.counters = SpanCounters()
        self.loopback = "off"
        self.config: dict[str, Any] = {}
        self.parties: dict[int, FarParty] = {ts: FarParty() for ts in BCHANNELS}
        self.calls: dict[int, SimCall] = {}  # libpri call key -> call
        self.routes: dict[str, Route] = {}
        self.default_route = Route()
        self.blocked: set[int] = set()
        self.dchannel_up = False
        self.restarts_received: list[int | None] = []
        self.events: list[str] = []
        self.pcap = LapdPcapWriter(pcap, we_network=node == "network") if pcap else None
        self._listeners: dict[str, socket.socket] = {}
        self._conns: dict[str, socket.socket] = {}
        self._ctrl: lp.PriController | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pri_timer: asyncio.TimerHandle | None = None
        self._dchan_empty = True
        self._last_rx: dict[int, npt.NDArray[np.int16]] = {}
        self._dchan_up_event = asyncio.Event()
        self._tdm_task: asyncio.Task[None] | None = None
        self.blocks_sent = 0
        self.blocks_received = 0
        self._crc_burst = False
        self._looped = b""

    # -- sockets -----------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for role, suffix in (("control", ""), ("dchan", DCHAN_SUFFIX), ("tdm", TDM_SUFFIX)):
            name = self.path + suffix
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            sock.bind(name)
            sock.listen(1)
            sock.setblocking(False)
            self._listeners[role] = sock
            self._loop.add_reader(sock.fileno(), self._accept, role)

    def _accept(self, role: str) -> None:
        conn, _ = self._listeners[role].accept()
        conn.setblocking(False)
        old = self._conns.pop(role, None)
        if old is not None:
            self._drop_reader(old)
            old.close()
        self._conns[role] = conn
        assert self._loop is not None
        if role == "dchan":
            if self._ctrl is not None:  # the appliance came back: a fresh D-channel
                for call in list(self.calls.values()):
                    self._forget(call, "appliance reconnected", 41, hangup=False)
                self._ctrl.close()
                if self._pri_timer is not None:
                    self._pri_timer.cancel()
                    self._pri_timer = None
                self.dchannel_up = False
                self._dchan_up_event.clear()
            self._ctrl = lp.PriController(
                f"sim:{Path(self.path).name}", conn.fileno(),
                lp.NETWORK if self.node == "network" else lp.CPE,
                lp.SWITCH_TYPES[self.switchtype], self._read_frame, self._write_frame)
            for name, value in self.timers.items():
                self._ctrl.set_timer(name, value)
            if self.switchtype in ("ni2", "dms100", "lucent5e", "att4ess"):
                lp.enable_service_messages(self._ctrl)  # SERVICE: North American only
            lp.set_overlap(self._ctrl, True)  # Sending Complete only when the caller is done
            self._loop.add_reader(conn.fileno(), self._on_dchannel)
            self._reschedule()
        elif role == "control":
            self._loop.add_reader(conn.fileno(), self._on_control)
            self._push_line("appliance connected")
        else:
            self._loop.add_reader(conn.fileno(), self._on_tdm)

    def _drop_reader(self, sock: socket.socket) -> None:
        if self._loop is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(sock.fileno())

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Wait until the appliance's D-channel is up (SABME/UA done)."""
        await asyncio.wait_for(self._dchan_up_event.wait(), timeout)

    async def close(self) -> None:
        if self._tdm_task is not None:
            self._tdm_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tdm_task
        if self._pri_timer is not None:
            self._pri_timer.cancel()
        if self._ctrl is not None:
            self._ctrl.close()
        for sock in [*self._conns.values(), *self._listeners.values()]:
            self._drop_reader(sock)
            sock.close()
        for suffix in ("", DCHAN_SUFFIX, TDM_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)
        if self.pcap is not None:
            self.pcap.close()

    # -- control channel ---------------------------------------------------------

    @property
    def alarms(self) -> SpanAlarms:
        """Alarms as the appliance's receiver sees the line (G.775 defects)."""
        lof = self.counters.crc4 >= CRC4_LOSS_OF_MULTIFRAME and self._crc_burst
        return SpanAlarms(los=self.faults.los, lof=lof, yellow=self.faults.rai,
                          blue=self.faults.ais and not self.faults.los,
                          loopback=self.loopback != "off")

    def _push_line(self, detail: str = "", kind: str = "line") -> None:
        conn = self._conns.get("control")
        if conn is None:
            return
        message = {"event": kind, "alarms": asdict(self.alarms),
                   "counters": self.counters.as_dict(), "detail": detail}
        with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
            conn.send(json.dumps(message).encode())

    def _on_control(self) -> None:
        conn = self._conns["control"]
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        if not data:
            self._drop_reader(conn)
            return
        try:
            message = json.loads(data)
            op = message["op"]
        except (ValueError, KeyError, TypeError):
            log.warning("e1 sim: bad control message %r", data[:80])
            return
        if op == "configure":
            self.config = dict(message.get("config", {}))
            self._push_line("configured")
        elif op == "loopback":
            self.set_loopback(str(message.get("mode", "off")))

    def set_loopback(self, mode: str) -> None:
        self.loopback = mode
        if mode != "off":
            self._clear_calls("loopback", 41)
        self._push_line(f"loopback {mode}")

    # -- faults ------------------------------------------------------------------

    def _line_down(self) -> bool:
        return self.faults.los or self.faults.ais or self.loopback != "off"

    def set_los(self, on: bool = True) -> None:
        """Loss of signal (G.775 §4.1): nothing passes, the appliance sees a red alarm."""
        self.faults.los = on
        if on:
            self._clear_calls("loss of signal", 38)
        self._push_line("loss of signal" if on else "signal restored")

    def set_ais(self, on: bool = True) -> None:
        """AIS (all ones, G.775 §4.2): upstream failure, the appliance sees a blue alarm."""
        self.faults.ais = on
        if on:
            self._clear_calls("AIS", 38)
        self._push_line("AIS received" if on else "AIS cleared")

    def set_rai(self, on: bool = True) -> None:
        """Remote alarm (A-bit of NFAS, G.704 §2.3.2): the far end lost our signal."""
        self.faults.rai = on
        if on:
            self._clear_calls("remote alarm", 38)
        self._push_line("remote alarm indication" if on else "remote alarm cleared")

    def inject_slips(self, count: int = 1) -> None:
        """Controlled slips (G.822): counted; one 125 us frame repeated or deleted each."""
        self.counters = SpanCounters(**{**self.counters.as_dict(),
                                        "slips": self.counters.slips + count})
        self._push_line(f"{count} controlled slip(s)", kind="counters")

    def inject_crc_errors(self, count: int, *, towards_appliance: bool = True) -> None:
        """CRC-4 block errors (G.704 §2.3.3.5). Towards the appliance they count at its
        receiver, and a burst of >= 915 in 1000 blocks loses multiframe alignment
        (G.706 §4.3.2), i.e. loss of frame: a red alarm. From the appliance they come
        back as E-bits, the far end's report of our errored blocks (G.704 §2.3.3.4)."""
        values = self.counters.as_dict()
        if not towards_appliance:
            values["ebit"] += count
            self.counters = SpanCounters(**values)
            self._push_line(f"far end reports {count} errored block(s) (E-bits)",
                            kind="counters")
            return
        self._crc_burst = count >= CRC4_LOSS_OF_MULTIFRAME
        values["crc4"] += count
        self.counters = SpanCounters(**values)
        if self._crc_burst:
            self._clear_calls("loss of CRC-4 multiframe", 38)
        self._push_line(f"{count} CRC-4 error(s)", kind="line" if self._crc_burst else "counters")

    def clear_crc_burst(self) -> None:
        self._crc_burst = False
        self._push_line("CRC-4 multiframe regained")

    def drop_dframes(self, to_appliance: int = 0, from_appliance: int = 0) -> None:
        self.faults.drop_to_appliance += to_appliance
        self.faults.drop_from_appliance += from_appliance

    def corrupt_dframes(self, count: int) -> None:
        """Bit errors in D-channel frames towards the appliance: the FCS fails, so the
        appliance's HDLC controller discards them (Q.921 §2.9); LAPD recovers."""
        self.faults.corrupt_to_appliance += count

    def mutate_next_q931(self, mutate: Callable[[bytes], bytes | None]) -> None:
        """Rewrite the Q.931 part of an I-frame to the appliance (bad-input tests).

        ``mutate`` gets each outgoing Q.931 message until it returns bytes (the
        replacement); returning None lets the message pass unchanged.
        """
        self.faults.mutations.append(mutate)

    def far_end_restart(self, channel: int | None = None) -> None:
        """The network restarts one B-channel or the whole interface (Q.931 §5.5)."""
        for number in BCHANNELS if channel is None else (channel,):
            lp.restart_channel(self.ctrl, number)
        for call in list(self.calls.values()):
            if channel is None or call.channel == channel:
                self._forget(call, "far-end restart", 41)
        self._reschedule()

    # -- D-channel ---------------------------------------------------------------

    @property
    def ctrl(self) -> lp.PriController:
        if self._ctrl is None:
            raise RuntimeError("e1 sim: the appliance has not connected its D-channel")
        return self._ctrl

    def _read_frame(self) -> bytes | None:
        conn = self._conns.get("dchan")
        if conn is None:
            self._dchan_empty = True
            return None
        while True:
            try:
                frame = conn.recv(4096)
            except BlockingIOError:
                self._dchan_empty = True
                return None
            if not frame:
                self._dchan_empty = True
                self._drop_reader(conn)
                return None
            self._dchan_empty = False
            if self._line_down() or self.faults.rai:
                continue  # lost on the line
            if self.faults.drop_from_appliance > 0:
                self.faults.drop_from_appliance -= 1
                continue
            if self.pcap is not None:
                self.pcap.write(frame, outgoing=False)
            return frame

    def _write_frame(self, frame: bytes) -> None:
        conn = self._conns.get("dchan")
        if conn is None or self._line_down():
            return
        if self.pcap is not None:
            self.pcap.write(frame, outgoing=True)
        if self.faults.drop_to_appliance > 0:
            self.faults.drop_to_appliance -= 1
            return
        if self.faults.corrupt_to_appliance > 0:
            self.faults.corrupt_to_appliance -= 1
            return  # FCS failure at the receiver: the frame never reaches LAPD
        is_iframe = len(frame) > 4 and not frame[2] & 0x01  # Q.921 §3.6.2: I-frame bit 1 = 0
        if is_iframe and self.faults.mutations:
            mutated = self.faults.mutations[0](frame[4:])
            if mutated is not None:  # None: not the message it waits for
                self.faults.mutations.pop(0)
                frame = frame[:4] + mutated
        with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
            conn.send(frame)

    def _on_dchannel(self) -> None:
        for _ in range(64):
            event = self.ctrl.check_event()
            if event is not None:
                self._handle(event)
            if self._dchan_empty:
                break
        self._reschedule()

    def _run_timers(self) -> None:
        self._pri_timer = None
        if self._ctrl is None:
            return
        event = self._ctrl.schedule_run()
        if event is not None:
            self._handle(event)
        self._reschedule()

    def _reschedule(self) -> None:
        if self._ctrl is None or self._loop is None:
            return
        due = self._ctrl.schedule_next()
        if self._pri_timer is not None:
            self._pri_timer.cancel()
            self._pri_timer = None
        if due is not None:  # libpri's timers are wall-clock
            self._pri_timer = self._loop.call_later(max(0.0, due - time.time()),
                                                    self._run_timers)

    # -- network-side call control ---------------------------------------------

    def _handle(self, ev: lp.PriEvent) -> None:
        self.events.append(ev.name)
        kind = ev.kind
        if kind == lp.EV_DCHAN_UP:
            self.dchannel_up = True
            self._dchan_up_event.set()
        elif kind == lp.EV_DCHAN_DOWN:
            self.dchannel_up = False
            self._dchan_up_event.clear()
            self._clear_calls("D-channel down", 38)
        elif kind == lp.EV_RING:
            self._incoming_from_appliance(ev)
        elif kind in (lp.EV_PROCEEDING, lp.EV_RINGING, lp.EV_ANSWER, lp.EV_SETUP_ACK,
                      lp.EV_PROGRESS, lp.EV_CONNECT_ACK):
            call = self.calls.get(lp.call_key(ev.call))
            if call is not None:
                call.events.append(ev.name)
                if ev.kind == lp.EV_ANSWER:
                    call.state = "connected"
                    call.connected.set()
                elif ev.kind == lp.EV_RINGING:
                    call.state = "alerting"
                elif ev.kind == lp.EV_SETUP_ACK:  # Q.931 §5.1.3: overlap sending
                    for digit in call.pending_digits:
                        lp.information(self.ctrl, call.handle, digit)
                    call.pending_digits = ""
        elif kind in (lp.EV_HANGUP_REQ, lp.EV_HANGUP):
            lp.hangup(self.ctrl, ev.call, ev.cause)  # always: or RELEASE COMPLETE never goes
            call = self.calls.get(lp.call_key(ev.call))
            if call is not None:
                call.cause = ev.cause
                if kind == lp.EV_HANGUP:
                    self._forget(call, "released", ev.cause, hangup=False)
                else:
                    call.state = "disconnecting"
        elif kind == lp.EV_HANGUP_ACK:
            call = self.calls.get(lp.call_key(ev.call))
            if call is not None:
                self._forget(call, "released", call.cause or ev.cause, hangup=False)
        elif kind == lp.EV_RESTART:
            self.restarts_received.append(ev.channel)
            for call in list(self.calls.values()):
                if ev.channel is None or call.channel == ev.channel:
                    self._forget(call, "restart", 41, hangup=False)
        elif kind == lp.EV_SERVICE and ev.channel is not None:
            if ev.changestatus == lp.SERVICE_IN:
                self.blocked.discard(ev.channel)
            else:
                self.blocked.add(ev.channel)

    def _incoming_from_appliance(self, ev: lp.PriEvent) -> None:
        channel = ev.channel
        busy = {c.channel for c in self.calls.values()}
        if channel is None or channel in busy or channel in self.blocked:
            free = [ts for ts in BCHANNELS if ts not in busy and ts not in self.blocked]
            if (channel is not None and not ev.flexible) or not free:
                lp.hangup(self.ctrl, ev.call, 44 if free else 34)
                return
            channel = free[-1]
        call = SimCall(channel=channel, direction="from-appliance", calling=ev.calling_number,
                       called=ev.called_number, handle=ev.call,
                       restricted=bool(ev.calling_pres & lp.PRES_RESTRICTION_MASK))
        self.calls[lp.call_key(ev.call)] = call
        route = self.routes.get(ev.called_number, self.default_route)
        lp.proceeding(self.ctrl, ev.call, channel)
        if route.action == "clear":
            call.cause = route.cause
            lp.hangup(self.ctrl, ev.call, route.cause)
            call.state = "disconnecting"
            return
        if route.alert:
            lp.acknowledge(self.ctrl, ev.call, channel, inband=True)
            call.state = "alerting"
        if route.action == "answer":
            lp.answer(self.ctrl, ev.call, channel)
            call.state = "connected"
            call.connected.set()

    def place_call(self, channel: int, called: str, calling: str = "",
                   restricted: bool = False, *, overlap_digits: str = "") -> SimCall:
        """A caller on the network side dials the appliance (SETUP on ``channel``).

        With ``overlap_digits`` the SETUP carries ``called`` without 'sending
        complete' and the remaining digits follow in INFORMATION messages.
        """
        handle = self.ctrl.new_call()
        pres = lp.PRES_RESTRICTED if restricted else lp.PRES_ALLOWED
        call = SimCall(channel=channel, direction="to-appliance", calling=calling, called=called,
                       handle=handle, restricted=restricted)
        if self.ctrl.setup(handle, channel, True, called, calling, pres,
                           complete=not overlap_digits) != 0:
            raise RuntimeError(f"e1 sim: libpri refused SETUP on B{channel}")
        self.calls[lp.call_key(handle)] = call
        call.pending_digits = overlap_digits
        self._reschedule()
        return call

    def hangup(self, call: SimCall, cause: int = 16) -> None:
        call.cause = cause
        call.state = "disconnecting"
        lp.hangup(self.ctrl, call.handle, cause)
        self._reschedule()

    def _forget(self, call: SimCall, why: str, cause: int | None, hangup: bool = True) -> None:
        self.calls.pop(lp.call_key(call.handle), None)
        if hangup and self._ctrl is not None:
            lp.hangup(self._ctrl, call.handle, cause or 16)
        call.cause = call.cause if call.cause is not None else cause
        call.state = f"cleared ({why})"
        call.done.set()

    def _clear_calls(self, why: str, cause: int) -> None:
        for call in list(self.calls.values()):
            self._forget(call, why, cause)
        self._reschedule()

    # -- B-channels --------------------------------------------------------------

    def play(self, channel: int, samples: npt.NDArray[np.int16], loop: bool = False) -> None:
        party = self.parties[channel]
        party.play, party.position, party.loop, party.echo = samples, 0, loop, False

    def play_tone(self, channel: int, freqs: tuple[float, ...], seconds: float,
                  dbm0: float = -10.0) -> None:
        self.play(channel, tone_samples(freqs, seconds, dbm0))

    def send_dtmf(self, channel: int, digits: str) -> None:
        self.play(channel, dtmf_samples(digits))

    def echo(self, channel: int, on: bool = True) -> None:
        self.parties[channel].echo = on

    def heard(self, channel: int) -> npt.NDArray[np.int16]:
        """Everything the appliance sent on ``channel`` (linear)."""
        frames = self.parties[channel].heard
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)

    def send_tdm(self, blocks: int = 1) -> None:
        """Clock out ``blocks`` x 20 ms of the 2048 kbit/s stream towards the appliance."""
        conn = self._conns.get("tdm")
        if conn is None or self.faults.los:
            return
        for _ in range(blocks):
            if self.faults.ais:
                data = bytes([0xFF]) * TDM_BLOCK  # AIS: all ones (G.775 §4.2)
            elif self.loopback == "local":  # the appliance hears its own transmit
                data = self._looped or pack_tdm({})
            else:
                linear: dict[int, npt.NDArray[np.int16]] = {}
                for ts, party in self.parties.items():
                    frame = party.next_frame(self._last_rx.get(ts))
                    if frame is not None:
                        linear[ts] = frame
                data = pack_linear(linear, ts0=_ts0_pattern())
            try:
                conn.send(data)
            except BlockingIOError:
                self.inject_slips(1)  # the appliance did not keep up: a slip
                return
            except (BrokenPipeError, ConnectionResetError):
                return
            self.blocks_sent += 1
            if self.loopback in ("remote", "payload"):  # the appliance loops the line to us
                self._receive_block(data)

    def _on_tdm(self) -> None:
        conn = self._conns["tdm"]
        while True:
            try:
                data = conn.recv(TDM_BLOCK + 1)
            except BlockingIOError:
                return
            except ConnectionResetError:  # the appliance went away mid-block
                data = b""
            if not data:
                self._drop_reader(conn)
                return
            self.blocks_received += 1
            if self.loopback == "local":
                self._looped = data  # goes back to the appliance on the next clock
                continue
            if self.loopback in ("remote", "payload"):
                continue  # the line carries our own signal back instead
            self._receive_block(data)

    def _receive_block(self, data: bytes) -> None:
        if not self.parties:
            return
        columns = np.ascontiguousarray(unpack_tdm(data)[:, list(self.parties)].T)
        silent = (columns == ALAW_SILENCE).all(axis=1)
        linear = alaw_decode(columns)  # the whole span decoded in one pass per block
        for i, (ts, party) in enumerate(self.parties.items()):
            frame = linear[i]
            if silent[i]:
                self._last_rx.pop(ts, None)
            else:
                self._last_rx[ts] = frame
            if party.record:  # silence too: a caller put on hold hears nothing, not the past
                party.heard.append(frame)

    async def run_tdm(self, period: float = FRAME_SAMPLES / SAMPLE_RATE) -> None:
        """Clock the TDM stream in real time until cancelled."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        k = 0
        while True:
            k += 1
            await asyncio.sleep(max(0.0, start + k * period - loop.time()))
            self.send_tdm(1)

    def start_tdm(self) -> None:
        self._tdm_task = asyncio.get_running_loop().create_task(self.run_tdm())


def _ts0_pattern() -> npt.NDArray[np.uint8]:
    """Timeslot 0: FAS (x0011011) in even frames, NFAS (x1AS...) in odd (G.704 §2.3.1)."""
    pattern = np.empty(FRAME_SAMPLES, np.uint8)
    pattern[0::2] = 0x1B
    pattern[1::2] = 0x5F  # bit 2 = 1, A (RAI) = 0, Sa bits = 1
    return pattern


def main(argv: Sequence[str] | None = None) -> int:
    """Run as a hil process: ``python -m hil.sim.e1 --name e1a --run-dir DIR``."""
    from hil.sim.e1_device import E1Device  # the process wrapper imports this module
    from hil.sim.process import run_device

    return run_device(E1Device, argv)


if __name__ == "__main__":
    raise SystemExit(main())
