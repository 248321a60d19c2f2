"""PriSpan over the DAHDI backend, the kernel replaced at the ioctl/open boundary.

The D-channel file descriptor is one end of a SOCK_SEQPACKET pair; the other
end plays the card: it hands frames to a libpri network-side controller with
the two FCS octets DAHDI delivers and expects, so the backend's FCS handling,
channel numbering and SPANSTAT alarm polling are exercised under real
signalling.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from appliance.config.sections.spans import SpanEntry
from appliance.runtime.clock import VirtualClock
from appliance.signalling.pri import libpri as lp
from appliance.signalling.pri.span import PriSpan
from drivers import dahdi_abi as abi
from drivers.span.dahdi import DahdiSpan
from hil.sim.e1_rig import answer_all

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[2] / "unit" / "span" / "fixtures"


class FakeCard:
    """The kernel side: ioctls answered, channels as socket pairs, SPANSTAT alarms settable."""

    def __init__(self) -> None:
        self.alarms = 0
        self.specified: dict[int, int] = {}  # channel number -> card-side socket index
        self.card_ends: list[socket.socket] = []
        self._fd_to_card: dict[int, socket.socket] = {}

    def open(self, path: str, flags: int) -> int:
        ours, card = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        card.setblocking(False)
        self.card_ends.append(card)
        fd = ours.detach()
        self._fd_to_card[fd] = card
        return fd

    def ioctl(self, fd: int, request: int, arg: Any) -> Any:
        if request == abi.DAHDI_SPECIFY:
            self.specified[abi.INT.unpack(bytes(arg))[0]] = fd
        if request == abi.DAHDI_SPANSTAT:
            return abi.SPANINFO.pack(1, b"WCTE13x/0", b"", self.alarms, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 1, 31, 31, 1, 0, 0, b"", b"", b"", b"", 0, 0,
                                     b"E1")
        return arg

    def channel(self, number: int) -> socket.socket:
        return self._fd_to_card[self.specified[number]]

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(argv), 0, "", "")


class CardNetwork:
    """libpri NET on the card side of the D-channel, frames with 2 FCS octets on the wire."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.events: list[str] = []
        self.ctrl = lp.PriController("card-net", sock.fileno(), lp.NETWORK,
                                     lp.SWITCH_TYPES["euroisdn_e1"], self._read, self._write)
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(sock.fileno(), self._readable)
        self.timer: asyncio.TimerHandle | None = None
        self._reschedule()

    def _read(self) -> bytes | None:
        try:
            data = self.sock.recv(2048)
        except BlockingIOError:
            return None
        assert data[-2:] == b"\x00\x00", "DAHDI writes carry 2 octets of FCS room"
        return data[:-2]

    def _write(self, frame: bytes) -> None:
        self.sock.send(frame + b"\x5a\xa5")  # the card delivers the received FCS octets

    def _handle(self, event: lp.PriEvent | None) -> None:
        if event is not None:
            self.events.append(event.name)
            if event.kind in (lp.EV_HANGUP, lp.EV_HANGUP_REQ):
                lp.hangup(self.ctrl, event.call, event.cause)

    def _readable(self) -> None:
        self._handle(self.ctrl.check_event())
        self._reschedule()

    def _reschedule(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        due = self.ctrl.schedule_next()
        if due is not None:
            self.timer = self.loop.call_later(max(0.0, due - time.time()), self._fire)

    def _fire(self) -> None:
        self.timer = None
        self._handle(self.ctrl.schedule_run())
        self._reschedule()

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        if self.timer is not None:
            self.timer.cancel()
        self.ctrl.close()


async def _until(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_pri_over_the_dahdi_backend_answers_calls_and_follows_spanstat_alarms(
        tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "te133-ok", root)
    card = FakeCard()
    clock = VirtualClock()

    async def scenario() -> None:
        span = DahdiSpan(f"dahdi:1?root={root}", ioctl=card.ioctl, opener=card.open,
                         run=card.run)
        entry = SpanEntry(name="e1a", address=span.address, recovery_holdoff=0.5)
        pri = PriSpan(entry, span, clock, on_incoming=answer_all)
        pri.start()
        net = CardNetwork(card.channel(16))  # hardhdlc on timeslot 16 = DAHDI channel 16
        try:
            await _until(lambda: pri.status()["channel_counts"] == {"idle": 30})
            assert "hardhdlc=16" in (root / "etc/dahdi/system.conf").read_text()
            call = net.ctrl.new_call()
            net.ctrl.setup(call, 5, True, "4000", "0301", lp.PRES_ALLOWED)
            net._reschedule()
            await _until(lambda: "PRI_EVENT_ANSWER" in net.events)
            assert pri.channels[5].call is not None and pri.channels[5].call.called_number == "4000"
            card.alarms = abi.ALARM_RED | abi.ALARM_LOS
            clock.advance(1.0)  # the alarm poll (DAHDI has no event fd for span alarms)
            assert pri.status()["alarms"] == ["red"]
            assert pri.status()["channel_counts"] == {"alarm": 30}
            card.alarms = 0
            clock.advance(1.0)  # alarm gone ...
            clock.advance(0.5)  # ... and stayed gone for the hold-off: restart
            await _until(lambda: pri.status()["channel_counts"] == {"idle": 30})
        finally:
            net.close()
            pri.close()
            for end in card.card_ends:
                end.close()

    asyncio.run(scenario())
