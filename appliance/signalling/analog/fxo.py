"""FXO state machine: the appliance as the 'phone' on a carrier line.

States (visible in :meth:`status` and the log)::

    idle --ring--> alerting --N rings--> answered --far end clears--> releasing -> idle
    idle --dial()--> seized --dial tone--> dialling --digits sent--> connected -> ...
    alerting --broken cadence--> ring-ignored --ringing stops--> idle
    any --battery gone (idle)--> no-battery --battery back--> idle
    idle --busy_out()--> blocked (seized) --return_to_service()--> releasing -> idle

Incoming calls: ringing is timed against the country's cadence
(:mod:`cadence`); caller ID is taken from the listener before the first ring
(after a polarity reversal, EN 300 659-1 §5.3.1) or between the first and
second ring (GR-30-CORE, EN 300 659-1 §5.3.2), FSK or DTMF. The line is
answered after ``rings_before_answer`` rings, but not while caller ID is still
expected in the pause after the first ring.

Disconnect supervision in a call, each method switchable and timed from
settings: battery drop (loop current gone for ``battery_drop_ms``), CPC
(calling party control: an open loop of at least ``cpc_min_ms``), polarity
reversal (the second reversal on an outbound call whose answer was signalled
by the first), busy/reorder tone, and silence for ``silence_timeout_s``
(the only way on many Chinese lines, which give no electrical signal).

Glare: a line that rings while we seize it has in fact been answered by our
seizure (loop start): the incoming call wins, the outbound attempt fails with
reason 'glare' and may be retried on another line.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

import numpy as np

from appliance.media.dsp.dtmf import dtmf_generate
from appliance.media.dsp.fsk import BELL202
from appliance.media.engine import MediaEngine
from appliance.runtime.clock import Clock
from appliance.signalling.analog.cadence import RingCadenceValidator, RingVerdict
from appliance.signalling.analog.callerid import CallerId, CallerIdError, parse_dtmf, parse_fsk
from appliance.signalling.analog.channel import AnalogChannel, EventSink
from appliance.signalling.analog.countries import CountryProfile, country
from appliance.signalling.analog.listen import (
    CallerIdBurst,
    CallerIdGarbled,
    DigitHeard,
    LevelHeard,
    ListenEvent,
    ToneHeard,
)
from appliance.signalling.analog.receivers import (
    MODEMS,
    DialToneReceiver,
    FskCallerIdReceiver,
)
from drivers.analog.base import FxoPort, PortEvent, PortEventType

log = logging.getLogger("appliance.signalling.analog")

DISCONNECT_METHODS = ("battery", "cpc", "polarity", "tone", "silence")


class FxoState(enum.Enum):
    IDLE = "idle"
    ALERTING = "alerting"
    RING_IGNORED = "ring-ignored"
    ANSWERED = "answered"
    SEIZED = "seized"
    DIALLING = "dialling"
    CONNECTED = "connected"
    RELEASING = "releasing"
    NO_BATTERY = "no-battery"
    BLOCKED = "blocked"  # busied out for maintenance: held off-hook, no calls either way


@dataclass(frozen=True)
class FxoSettings:
    country: str = "CN"
    rings_before_answer: int = 2
    ring_tolerance: float = 0.25
    min_ring_ms: int = 150
    callerid: str = "auto"  # auto (country), bell202, v23, dtmf, none
    callerid_timing: str = "auto"  # auto (country), after-first-ring, before-ring
    callerid_window_s: float = 3.5  # how long caller ID may take after its cue
    disconnect: tuple[str, ...] = ("battery", "cpc", "polarity", "tone", "silence")
    battery_drop_ms: int = 600
    cpc_min_ms: int = 90
    silence_timeout_s: float = 30.0
    silence_dbm0: float = -45.0
    dial_tone_wait_s: float = 3.0
    blind_dial: bool = False  # dial even when no dial tone was heard
    dtmf_on_ms: int = 80
    dtmf_off_ms: int = 80
    release_guard_s: float = 1.0

    def profile(self) -> CountryProfile:
        return country(self.country)


class FxoChannel(AnalogChannel):
    State = FxoState
    port: FxoPort

    def __init__(self, port: FxoPort, clock: Clock, engine: MediaEngine,
                 settings: FxoSettings | None = None, on_event: EventSink | None = None) -> None:
        self.settings = settings or FxoSettings()
        self.profile = self.settings.profile()
        bad = set(self.settings.disconnect) - set(DISCONNECT_METHODS)
        if bad:
            raise ValueError(f"port {port.name}: unknown disconnect methods {sorted(bad)}")
        self.cid_standard = (self.profile.callerid_standard if self.settings.callerid == "auto"
                             else self.settings.callerid)
        self.cid_timing = (self.profile.callerid_timing if self.settings.callerid_timing == "auto"
                           else self.settings.callerid_timing)
        self.fsk = FskCallerIdReceiver(MODEMS.get(self.cid_standard, BELL202))
        self.dialtone = DialToneReceiver(self.profile.dial_tone)
        # dial tone in a call: the far end left and the exchange offers a new call (a caller
        # who gave up just as we answered); 3 s tells it from a ringback burst on the same
        # frequency (CN: 450 Hz for both, E.180 Supplement 2)
        self.dialtone_in_call = DialToneReceiver(self.profile.dial_tone, min_ms=3000)
        super().__init__(port, clock, engine, [self.fsk, self.dialtone, self.dialtone_in_call],
                         on_event)
        self.validator = RingCadenceValidator(self.profile.ring_cadence_ms,
                                              self.settings.ring_tolerance,
                                              self.settings.min_ring_ms)
        self.state = FxoState.IDLE if port.battery else FxoState.NO_BATTERY
        self.rings = 0
        self.caller_id: CallerId | None = None
        self.cid_problem = ""
        self._cid_window_open = False
        self._cid_digits = ""
        self._cid_at: float | None = None
        self._pending_number = ""
        self._seize_voice_frames = 0
        self._answer_signalled = False  # outbound: far end answered (polarity)
        self._silent_since: float | None = None
        self.disconnect_reason = ""
        self.calls_in = 0
        self.calls_out = 0

    def _set_state(self, new: enum.Enum, why: str) -> None:
        if new is FxoState.IDLE and self.busied_out:
            # a busied-out line never rests idle: seize it so the exchange sees it busy and
            # routes no calls to it (loop start, the usual PBX practice for maintenance)
            self.port.set_hook(True)
            new, why = FxoState.BLOCKED, f"busied out ({why})"
        super()._set_state(new, why)
        self.dialtone.enabled = new is FxoState.SEIZED
        if not self.dialtone.enabled:
            self.dialtone.reset()
        self.dialtone_in_call.enabled = "tone" in self.settings.disconnect and new in (
            FxoState.ANSWERED, FxoState.CONNECTED)
        if not self.dialtone_in_call.enabled:
            self.dialtone_in_call.reset()
        # busy/reorder supervision by the engine's call-progress detector, in calls only
        self.engine.enable_cpt(self.handle, new in (FxoState.ANSWERED, FxoState.DIALLING,
                                                    FxoState.CONNECTED))

    # -- commands from the switch ------------------------------------------------
    def dial(self, number: str) -> bool:
        """Seize the line and dial ``number``; False (and a 'failed' event) if not possible."""
        if any(ch not in "0123456789*#ABCD," for ch in number) or not number:
            raise ValueError(f"port {self.name}: cannot dial {number!r}")
        if self.state is not FxoState.IDLE:
            reason = "glare" if self.state in (FxoState.ALERTING, FxoState.RING_IGNORED) \
                else f"line {self.state.value}"
            log.warning("port %s: outbound call to %s refused: %s", self.name, number, reason,
                        extra={"port": self.name})
            self._emit("failed", reason=reason, digits=number)
            return False
        self._pending_number = number
        self._answer_signalled = False
        self._seize_voice_frames = 0
        self.port.set_hook(True)
        self.reset_listeners()
        self._set_state(FxoState.SEIZED, f"outbound call to {number}")
        self._start_timer("dialtone", self.settings.dial_tone_wait_s, self._no_dial_tone)
        return True

    def answer_now(self) -> None:
        """Answer a ringing line at once (the call layer decides, not the ring count)."""
        if self.state is FxoState.ALERTING:
            self._answer()

    def hangup(self, why: str = "local hang-up") -> None:
        if self.state in (FxoState.ANSWERED, FxoState.SEIZED, FxoState.DIALLING,
                          FxoState.CONNECTED):
            self._release(why, notify=False)

    def busy_out(self) -> None:
        """Take the line out of service (OPS-1): seized at once when idle, else when the
        call (or the missing battery) is over; no inbound answer, no outbound dialling."""
        self.busied_out = True
        log.info("port %s: busied out%s", self.name,
                 "" if self.state is FxoState.IDLE else
                 f"; blocked when it is idle again (now {self.state.value})",
                 extra={"port": self.name})
        if self.state is FxoState.IDLE:
            self._cancel_all_timers()
            self._cid_window_open = False
            self.fsk.enabled = False
            self._set_state(FxoState.IDLE, "maintenance")

    def return_to_service(self) -> None:
        """Undo :meth:`busy_out`: the line goes on-hook and is idle after the release guard."""
        self.busied_out = False
        log.info("port %s: returned to service", self.name, extra={"port": self.name})
        if self.state is FxoState.BLOCKED:
            self._release("returned to service", notify=False)

    def flash(self) -> None:
        """Hook flash towards the carrier (e.g. carrier-side transfer or call waiting)."""
        if self.state in (FxoState.ANSWERED, FxoState.CONNECTED):
            self.port.flash(self.profile.flash_ms)

    # -- incoming --------------------------------------------------------------------
    def _on_port_event(self, event: PortEvent) -> None:
        now = self.clock.monotonic()
        t = event.type
        if t is PortEventType.RING_BEGIN:
            self._ring_begin(now)
        elif t is PortEventType.RING_END:
            self._ring_end(now)
        elif t is PortEventType.POLARITY_REVERSAL:
            self._polarity_reversal()
        elif t is PortEventType.BATTERY_LOST:
            self._battery_lost()
        elif t is PortEventType.BATTERY_RESTORED:
            self._battery_restored()
        elif t is PortEventType.ALARM:
            log.error("port %s: line alarm; taking the port out of service", self.name,
                      extra={"port": self.name})
            if self.state not in (FxoState.IDLE, FxoState.NO_BATTERY):
                self._release("line alarm")
            self._set_state(FxoState.NO_BATTERY, "alarm")

    def _ring_begin(self, now: float) -> None:
        if self.state is FxoState.SEIZED:
            self._glare()
            return
        if self.state is FxoState.RING_IGNORED:
            self._start_timer("ringstop", self.validator.longest_pause_ms / 1000 + 0.5,
                              self._ring_ignored_over)
            return
        if self.state is FxoState.IDLE:
            self.validator.reset()
            self.rings = 0
            fresh = (self._cid_at is not None
                     and now - self._cid_at < self.settings.callerid_window_s + 1.0)
            if not (self.cid_timing == "before-ring" and (self._cid_window_open or fresh)):
                self.caller_id = None
                self.cid_problem = ""
            self._set_state(FxoState.ALERTING, "ringing")
        if self.state is not FxoState.ALERTING:
            return
        self._cancel_timer("ringstop")
        if self.rings >= 1 and self._cid_window_open:
            self._close_cid_window("next ring began")
        check = self.validator.ring_begin(now)
        if check.verdict is RingVerdict.BROKEN:
            self._broken_cadence(check.detail)

    def _ring_end(self, now: float) -> None:
        if self.state is not FxoState.ALERTING:
            return
        check = self.validator.ring_end(now)
        if check.verdict is RingVerdict.BROKEN:
            self._broken_cadence(check.detail)
            return
        # whatever this burst was, ringing that does not come back means the caller left
        self._start_timer("ringstop", self.validator.longest_pause_ms / 1000 + 0.2,
                          self._ringing_stopped)
        if check.verdict is RingVerdict.NOISE:
            log.info("port %s: %s; ignored", self.name, check.detail, extra={"port": self.name})
            if self.rings == 0 and not self.validator.heard_burst:
                self._cancel_timer("ringstop")
                self._set_state(FxoState.IDLE, "ring too short")
            return
        if check.verdict is not RingVerdict.RING:
            return
        self.rings += 1
        if self.rings == 1:
            self.calls_in += 1
            if self.cid_timing == "after-first-ring" and self.cid_standard != "none":
                self._open_cid_window()
            self._emit("incoming", caller_id=self.caller_id)
        self._maybe_answer()

    def _maybe_answer(self) -> None:
        if self.state is not FxoState.ALERTING or self.rings < self.settings.rings_before_answer:
            return
        if self._cid_window_open and self.caller_id is None:
            return  # caller ID is still on its way in the pause after the first ring
        self._answer()

    def _answer(self) -> None:
        self._close_cid_window("answering")
        self._cancel_timer("ringstop")
        self.port.set_hook(True)
        self.reset_listeners()
        self._silent_since = self.clock.monotonic()
        self._set_state(FxoState.ANSWERED, f"answered after {self.rings} ring(s)")
        self._emit("answered", caller_id=self.caller_id)
        self._arm_silence()

    def _broken_cadence(self, detail: str) -> None:
        log.warning("port %s: ring cadence does not match %s (%s); ignoring this ringing",
                    self.name, self.profile.code, detail, extra={"port": self.name})
        self._close_cid_window("broken cadence")
        self._set_state(FxoState.RING_IGNORED, "broken cadence")
        self._start_timer("ringstop", self.validator.longest_pause_ms / 1000 + 0.5,
                          self._ring_ignored_over)
        self._emit("failed", reason="broken-cadence")

    def _ring_ignored_over(self) -> None:
        if self.state is FxoState.RING_IGNORED and not self.port.ringing:
            self._set_state(FxoState.IDLE, "ringing stopped")

    def _ringing_stopped(self) -> None:
        if self.state is FxoState.ALERTING:
            log.info("port %s: ringing stopped after %d ring(s): caller gave up", self.name,
                     self.rings, extra={"port": self.name})
            self._close_cid_window("ringing stopped")
            self._set_state(FxoState.IDLE, "caller abandoned")
            self._emit("disconnected", reason="abandoned", caller_id=self.caller_id)

    # -- caller ID ---------------------------------------------------------------------
    def _open_cid_window(self) -> None:
        self._cid_window_open = True
        self.fsk.enabled = self.cid_standard in MODEMS
        self._cid_digits = ""
        self.reset_listeners()
        self._start_timer("cid", self.settings.callerid_window_s,
                          lambda: self._close_cid_window("caller ID window over"))

    def _close_cid_window(self, why: str) -> None:
        if not self._cid_window_open:
            return
        self._cid_window_open = False
        self.fsk.enabled = False
        self._cancel_timer("cid")
        if self.caller_id is None and self.cid_standard != "none":
            problem = self.cid_problem or "no caller ID received"
            log.info("port %s: %s (%s)", self.name, problem, why, extra={"port": self.name})
        self._maybe_answer()

    def _cid_received(self, cid: CallerId) -> None:
        self.caller_id = cid
        self._cid_at = self.clock.monotonic()
        log.info("port %s: caller ID %s %r", self.name, cid.number or cid.absence, cid.name,
                 extra={"port": self.name})
        self._cid_window_open = False
        self.fsk.enabled = False
        self._cancel_timer("cid")
        self._emit("callerid", caller_id=cid)
        self._maybe_answer()

    def _cid_bad(self, why: str) -> None:
        self.cid_problem = why
        log.warning("port %s: garbled caller ID: %s", self.name, why, extra={"port": self.name})

    # -- what the listener heard ---------------------------------------------------
    def _on_heard(self, heard: ListenEvent) -> None:
        if isinstance(heard, LevelHeard):
            self._level(heard.dbm0)
            return
        if self._cid_window_open:
            if isinstance(heard, CallerIdBurst) and self.cid_standard in ("bell202", "v23"):
                try:
                    self._cid_received(parse_fsk(heard.message))
                except CallerIdError as exc:
                    self._cid_bad(str(exc))
            elif isinstance(heard, CallerIdGarbled):
                self._cid_bad(heard.reason)
            elif isinstance(heard, DigitHeard) and self.cid_standard == "dtmf":
                self._cid_digits += heard.digit
                if heard.digit in "C#":
                    try:
                        self._cid_received(parse_dtmf(self._cid_digits))
                    except CallerIdError as exc:
                        self._cid_bad(str(exc))
                        self._cid_digits = ""
            return
        if isinstance(heard, ToneHeard):
            if self.state is FxoState.SEIZED and heard.name == "dial":
                self._cancel_timer("dialtone")
                self._start_dialling()
            elif heard.name == "dial" and self.state in (FxoState.ANSWERED, FxoState.CONNECTED):
                self._far_end_cleared("dial tone")
            elif heard.name in ("busy", "reorder") and (
                    self.state is FxoState.DIALLING
                    or (self.state in (FxoState.ANSWERED, FxoState.CONNECTED)
                        and "tone" in self.settings.disconnect)):
                self._far_end_cleared(f"{heard.name} tone")

    # -- outbound -------------------------------------------------------------------
    def _no_dial_tone(self) -> None:
        if self.state is not FxoState.SEIZED:
            return
        if self._seize_voice_frames >= 25:
            # no dial tone but someone talking: a call arrived as we seized (glare whose
            # ringing never reached us, the seizure tripped it); the caller is on the line
            self._glare()
            return
        if self.settings.blind_dial:
            log.info("port %s: no dial tone in %.1f s; dialling blind", self.name,
                     self.settings.dial_tone_wait_s, extra={"port": self.name})
            self._start_dialling()
            return
        log.warning("port %s: no dial tone within %.1f s; check the carrier line", self.name,
                    self.settings.dial_tone_wait_s, extra={"port": self.name})
        number = self._pending_number
        self._release("no dial tone", notify=False)
        self._emit("failed", reason="no-dial-tone", digits=number)

    def _start_dialling(self) -> None:
        self._set_state(FxoState.DIALLING, f"dialling {self._pending_number}")
        parts = []
        off = np.zeros(self.settings.dtmf_off_ms * 8, np.int16)
        for digit in self._pending_number:
            if digit == ",":
                parts.append(np.zeros(8000, np.int16))  # one-second pause, as in dial strings
                continue
            parts.append(dtmf_generate(digit, on_ms=self.settings.dtmf_on_ms, off_ms=0))
            parts.append(off)
        self.play_samples("dtmf", np.concatenate(parts))

    def _audio_finished(self, name: str) -> None:
        if name == "dtmf" and self.state is FxoState.DIALLING:
            self.calls_out += 1
            self._silent_since = self.clock.monotonic()
            self._set_state(FxoState.CONNECTED, "number dialled")
            self._emit("connected", digits=self._pending_number)
            self._arm_silence()

    def _glare(self) -> None:
        number = self._pending_number
        log.warning("port %s: glare: the line rang while we seized it for %s; taking the "
                    "incoming call", self.name, number, extra={"port": self.name})
        self._cancel_timer("dialtone")
        self._emit("failed", reason="glare", digits=number)
        self.calls_in += 1
        self.caller_id = None
        self.rings = 0
        self._silent_since = self.clock.monotonic()
        self._set_state(FxoState.ANSWERED, "glare: incoming call took the line")
        self._emit("answered", caller_id=None, reason="glare")
        self._arm_silence()

    # -- supervision ---------------------------------------------------------------
    def _polarity_reversal(self) -> None:
        if self.state is FxoState.IDLE:
            if (self.cid_timing == "before-ring" and self.cid_standard != "none"
                    and not self._cid_window_open):
                self._open_cid_window()  # EN 300 659-1 §5.3.1: reversal announces caller ID
            return
        if self.state in (FxoState.DIALLING, FxoState.CONNECTED) and not self._answer_signalled:
            self._answer_signalled = True
            log.info("port %s: far end answered (polarity reversal)", self.name,
                     extra={"port": self.name})
            self._emit("far-end-answered")
            return
        if self.state in (FxoState.ANSWERED, FxoState.CONNECTED) \
                and "polarity" in self.settings.disconnect:
            self._far_end_cleared("polarity reversal")

    def _battery_lost(self) -> None:
        if self.state in (FxoState.ANSWERED, FxoState.CONNECTED, FxoState.DIALLING,
                          FxoState.SEIZED):
            methods = self.settings.disconnect
            if "cpc" in methods:
                self._start_timer("battery", self.settings.cpc_min_ms / 1000,
                                  lambda: self._battery_gone("CPC (loop open)"))
            elif "battery" in methods:
                self._start_timer("battery", self.settings.battery_drop_ms / 1000,
                                  lambda: self._battery_gone("battery drop"))
            return
        if self.state in (FxoState.IDLE, FxoState.ALERTING, FxoState.RING_IGNORED):
            self._start_timer("battery", self.settings.battery_drop_ms / 1000,
                              lambda: self._battery_gone("no battery on an idle line"))

    def _battery_gone(self, why: str) -> None:
        if self.port.battery:
            return
        if self.state in (FxoState.ANSWERED, FxoState.CONNECTED, FxoState.DIALLING,
                          FxoState.SEIZED):
            self._far_end_cleared(why)
        elif self.state is not FxoState.RELEASING:
            log.error("port %s: no battery on the carrier line; port out of service", self.name,
                      extra={"port": self.name})
            self._cancel_all_timers()
            self._set_state(FxoState.NO_BATTERY, why)

    def _battery_restored(self) -> None:
        self._cancel_timer("battery")
        if self.state is FxoState.NO_BATTERY:
            self._set_state(FxoState.IDLE, "battery restored")

    def _level(self, dbm0: float) -> None:
        if self.state is FxoState.SEIZED and dbm0 > -35.0:
            self._seize_voice_frames += 1
        if self.state not in (FxoState.ANSWERED, FxoState.CONNECTED):
            return
        now = self.clock.monotonic()
        if dbm0 > self.settings.silence_dbm0 or self._silent_since is None:
            self._silent_since = now
        elif ("silence" in self.settings.disconnect
              and now - self._silent_since >= self.settings.silence_timeout_s):
            self._far_end_cleared(f"silence for {self.settings.silence_timeout_s:.0f} s")

    def _arm_silence(self) -> None:
        self._silent_since = self.clock.monotonic()

    def _far_end_cleared(self, how: str) -> None:
        log.info("port %s: far end hung up (%s)", self.name, how, extra={"port": self.name})
        self.disconnect_reason = how
        self._release(how, notify=True)

    def _release(self, why: str, notify: bool = True) -> None:
        self._cancel_all_timers()
        self.stop_audio()
        self._cid_window_open = False
        self.port.set_hook(False)
        self._set_state(FxoState.RELEASING, why)
        if notify:
            self._emit("disconnected", reason=why, caller_id=self.caller_id)
        self._start_timer("guard", self.settings.release_guard_s, self._guard_over)

    def _guard_over(self) -> None:
        if self.state is FxoState.RELEASING:
            self.validator.reset()
            if self.port.battery:
                self._set_state(FxoState.IDLE, "guard time over")
            else:
                self._set_state(FxoState.NO_BATTERY, "no battery after release")

    def status(self) -> dict[str, object]:
        out = super().status()
        out.update({
            "kind": "fxo", "country": self.profile.code, "rings": self.rings,
            "caller_id": self.caller_id.as_dict() if self.caller_id else None,
            "callerid_standard": self.cid_standard, "disconnect": list(self.settings.disconnect),
            "last_disconnect": self.disconnect_reason, "calls_in": self.calls_in,
            "calls_out": self.calls_out,
        })
        return out
