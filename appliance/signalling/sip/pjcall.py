"""The pjsua2 objects of SIP legs; every method here runs on the endpoint's owner thread.

:class:`LegCall` is one pjsua2 call (one SIP dialog through Kamailio), reporting
to a :class:`CallEvents` (the leg's side, which posts to the event loop).
:class:`AudioPort` is its ``AudioMediaPort`` on pjmedia's conference bridge:
pjmedia's clock thread hands it each received frame and asks it for each frame
to send, and it moves them through the leg's :class:`FrameQueues`.
:class:`BackendAccount` is the back-end's one local account (no registration:
Kamailio is the registrar) that receives calls from the phones.

The wrappers live in the endpoint's ``owned`` table until pjsua2 reports the call
gone (the pjsua2 garbage-collection pitfall: a dropped ``Call`` wrapper hangs
its call up), and are dropped on this thread, never inside their own callback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from appliance.signalling.sip.endpoint import load_pjsua2
from appliance.signalling.sip.frames import (
    FRAME_BYTES,
    SILENCE,
    FrameQueues,
    fill_vector,
    vector_bytes,
)

pj: Any = load_pjsua2()

#: A call arrived: (pjsua call id, the INVITE's whole text, the sender's ``host:port``).
Incoming = Callable[[int, str, str], None]

#: pjsip's INVITE session states (``pjsip_inv_state``) by the names the leg side uses.
STATES = {pj.PJSIP_INV_STATE_CALLING: "CALLING", pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
          pj.PJSIP_INV_STATE_EARLY: "EARLY", pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
          pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
          pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED"}


class CallEvents(Protocol):
    """What a call reports (on the owner thread; the receiver posts to the loop)."""

    def state(self, state: str, status: int) -> None: ...

    def digit(self, digit: str) -> None: ...

    def hold(self, held: bool) -> None: ...


class AudioPort(pj.AudioMediaPort):  # type: ignore[misc]
    """A leg's port on the conference bridge: 16-bit linear, 8 kHz, 20 ms frames; between
    calls (``frames`` None) it sends silence and drops what it gets."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.frames: FrameQueues | None = None
        self._out = pj.ByteVector(SILENCE)
        audio = pj.MediaFormatAudio()
        audio.init(pj.PJMEDIA_FORMAT_PCM, 8000, 1, 20000, 16)
        self.createPort(name, audio)

    def onFrameRequested(self, frame: Any) -> None:
        frames = self.frames
        fill_vector(self._out, frames.to_send() if frames is not None else SILENCE)
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = self._out
        frame.size = FRAME_BYTES

    def onFrameReceived(self, frame: Any) -> None:
        frames = self.frames
        if frames is not None and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
            frames.received(vector_bytes(frame.buf))


class PortPool:
    """The legs' ``AudioPort`` objects, reused from call to call and never destroyed while
    pjsua runs (owner thread only).

    Destroying an ``AudioMediaPort`` frees its pjmedia port at once, but pjmedia's
    conference bridge removes ports asynchronously since pjproject 2.14 (pjproject #3928),
    and its clock thread then reads the freed port: telephonyd died of SIGSEGV in the
    destructor, at 40 call set-ups a second (bench/sip.py) and once in CI after a carrier's
    BYE (pjproject #4200, #4526 describe the bug). A finished call's port is disconnected
    with its stream by pjsua and goes back here; at most as many exist as calls were up
    at once. :meth:`abandon` is for the end: the ports are never destroyed, not even after
    ``libDestroy`` (which aborts the process).
    """

    def __init__(self) -> None:
        self._free: list[AudioPort] = []
        self._all: list[AudioPort] = []

    def take(self, frames: FrameQueues) -> AudioPort:
        if self._free:
            port = self._free.pop()
        else:
            port = AudioPort(f"leg-port-{len(self._all) + 1}")
            self._all.append(port)
        port.frames = frames
        return port

    def give(self, port: AudioPort) -> None:
        port.frames = None
        self._free.append(port)

    def abandon(self) -> list[AudioPort]:
        """Before ``libDestroy``: every port's C++ object is left to the process's end
        (SWIG ``thisown``); the caller keeps the returned wrappers until the library is gone,
        so the bridge never calls into a freed Python object."""
        for port in self._all:
            port.thisown = False
        ports, self._all, self._free = self._all, [], []
        return ports


class LegCall(pj.Call):  # type: ignore[misc]
    """One SIP dialog of a leg."""

    def __init__(self, account: Any, events: CallEvents, frames: FrameQueues, name: str,
                 ports: PortPool, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.events = events
        self.frames = frames
        self.name = name
        self.ports = ports
        self.port: AudioPort | None = None
        self.held = False  # the phone holds the call (its re-INVITE: sendonly or inactive)

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.frames.flowing = False
        self.events.state(STATES.get(info.state, str(info.stateText)),
                          int(info.lastStatusCode))

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        audio_media = [m for m in info.media if m.type == pj.PJMEDIA_TYPE_AUDIO]
        # RFC 3264 §8.4: the far end holds the call by offering sendonly (or inactive) media
        held = any(m.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD for m in audio_media)
        if held != self.held:
            self.held = held
            self.events.hold(held)
        for media in audio_media:
            if media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            audio = self.getAudioMedia(media.index)
            if self.port is None:
                self.port = self.ports.take(self.frames)
            audio.startTransmit(self.port)
            self.port.startTransmit(audio)
            self.frames.flowing = True

    def onDtmfDigit(self, prm: Any) -> None:
        self.events.digit(str(prm.digit))  # RFC 4733 telephone-event (or SIP INFO)

    def release_port(self) -> None:
        """The call is over (its stream left the bridge): its port goes back to the pool."""
        if self.port is not None:
            self.ports.give(self.port)
            self.port = None


class BackendAccount(pj.Account):  # type: ignore[misc]
    """The back-end's account on loopback; Kamailio relays the phones' calls to it."""

    def __init__(self, on_incoming: Incoming) -> None:
        super().__init__()
        self.on_incoming = on_incoming

    def onIncomingCall(self, prm: Any) -> None:
        self.on_incoming(int(prm.callId), str(prm.rdata.wholeMsg), str(prm.rdata.srcAddress))


def backend_account(uri: str, media_host: str, on_incoming: Incoming) -> BackendAccount:
    """The back-end account; its RTP binds to ``media_host``, the address the phones reach
    (Kamailio relays signalling only: RTP flows between the phone and pjsua2)."""
    config = pj.AccountConfig()
    config.idUri = uri
    config.mediaConfig.transportConfig.boundAddress = media_host
    config.mediaConfig.lockCodecEnabled = False  # no re-INVITE after a multi-codec answer
    account = BackendAccount(on_incoming)
    account.create(config)
    return account


def call_param(status: int = 0, headers: dict[str, str] | None = None) -> Any:
    """A ``CallOpParam`` with a final ``status`` (0: pjsua's default) and extra headers."""
    prm = pj.CallOpParam(True)
    if status:
        prm.statusCode = status
    for name, value in (headers or {}).items():
        header = pj.SipHeader()
        header.hName, header.hValue = name, value
        prm.txOption.headers.append(header)
    return prm
