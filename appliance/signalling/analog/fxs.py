"""FXS state machine: the appliance as the 'exchange' for an analog phone.

States (visible in :meth:`status` and the log)::

    idle --off-hook--> dialtone --digit--> collecting --plan complete--> calling
    calling --far end answers--> connected --far end clears--> tone --> howler --> lockout
    idle --offer()--> ringing (with caller ID) --off-hook--> connected
    connected --flash--> dialtone (first party held) --dial--> calling/connected
        --on-hook--> transfer (held party joined to the consulted party)
        --flash--> consulted party dropped, back to the held party
    any --on-hook--> idle
    idle --busy_out()--> blocked (off-hook: reorder) --return_to_service()--> idle

Digits come as DTMF (the media engine) or dial pulses (the port). The dial
plan decides when a number is complete; ``#`` ends dialling at once; the
inter-digit timer ends a variable-length number. A phone left off-hook after
a failure hears busy/reorder, then the howler tone (off-hook warning, as
in BT SIN 351 / E.180 practice), then silence until it is hung up.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appliance.calls.technology import (
    RECALL_CONNECTED,
    RECALL_DIAL,
    RECALL_DIALTONE,
    RECALL_FLASH,
    RECALL_HANGUP,
)
from appliance.media.engine import MediaEngine
from appliance.runtime.clock import Clock
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.callerid_tx import DTAS_TONE, render_callerid
from appliance.signalling.analog.channel import AnalogChannel, EventSink
from appliance.signalling.analog.countries import country
from appliance.signalling.analog.dialplan import DialPlan, DialRule, Match, feature_rules
from appliance.signalling.analog.listen import DigitHeard, ListenEvent
from drivers.analog.base import FxsPort, PortEvent, PortEventType

if TYPE_CHECKING:
    from appliance.signalling.analog.switch import AnalogSwitch

log = logging.getLogger("appliance.signalling.analog")


class FxsState(enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    DIALTONE = "dialtone"
    COLLECTING = "collecting"
    CALLING = "calling"
    CONNECTED = "connected"
    FEATURE = "feature"
    TONE = "tone"  # busy or reorder after a failure or a far-end hang-up
    HOWLER = "howler"
    LOCKOUT = "lockout"
    BLOCKED = "blocked"  # busied out for maintenance: not rung, reorder when lifted


#: States in which the handset is down (or the port is out of service): no DTMF detection.
_ON_HOOK = frozenset({FxsState.IDLE, FxsState.RINGING, FxsState.BLOCKED})


@dataclass(frozen=True)
class FxsSettings:
    country: str = "CN"
    extension: str = ""
    callerid: str = "auto"  # auto (country), bell202, v23, dtmf, none
    callerid_timing: str = "auto"  # auto (country), after-first-ring, before-ring
    first_digit_s: float = 10.0
    interdigit_s: float = 4.0
    off_hook_warning_s: float = 20.0  # busy/reorder before the howler
    howler_s: float = 30.0
    disconnect_signal: str = "cpc"  # cpc (open loop), polarity, none: tells the phone we cleared
    cpc_ms: int = 800
    dial_plan: tuple[DialRule, ...] = ()
    features: dict[str, str] = field(default_factory=dict)  # code -> feature name

    def plan(self) -> DialPlan:
        return DialPlan([*self.dial_plan, *feature_rules(self.features)])


# (device, dialled digits) -> True when the feature was carried out, e.g.
# ``lambda device, digits: appliance.acd.features.feature_code(acd, device, digits).ok``
FeatureHandler = Callable[[str, str], bool]


class FxsChannel(AnalogChannel):
    State = FxsState
    port: FxsPort
    measures_level = False  # the FXS state machine acts on hook and digits, never on levels

    def __init__(self, port: FxsPort, clock: Clock, engine: MediaEngine,
                 settings: FxsSettings | None = None, on_event: EventSink | None = None) -> None:
        super().__init__(port, clock, engine, [], on_event)
        self.settings = settings or FxsSettings()
        self.profile = country(self.settings.country)
        self.cid_standard = (self.profile.callerid_standard if self.settings.callerid == "auto"
                             else self.settings.callerid)
        self.cid_timing = (self.profile.callerid_timing if self.settings.callerid_timing == "auto"
                           else self.settings.callerid_timing)
        self.plan = self.settings.plan()
        self.switch: AnalogSwitch | None = None
        self.feature_handler: FeatureHandler | None = None
        self.recall = False  # a flash put the call core's call on hold (register recall)
        self.state = FxsState.IDLE
        self.engine.enable_dtmf(self.handle, False)  # on hook: nothing to listen for yet
        self.digits = ""
        self.offered_cid: CallerId | None = None
        self.port.set_cadence(self.profile.ring_cadence_ms)
        self.calls_in = 0
        self.calls_out = 0

    @property
    def extension(self) -> str:
        return self.settings.extension

    def _set_state(self, new: enum.Enum, why: str) -> None:
        if new is FxsState.IDLE and self.busied_out:
            new, why = FxsState.BLOCKED, f"busied out ({why})"
        super()._set_state(new, why)
        # An on-hook phone cannot key digits: the DTMF detector runs only with the handset
        # lifted, so idle ports cost the media tick nothing (issue 14 item 3).
        self.engine.enable_dtmf(self.handle, new not in _ON_HOOK)

    # -- maintenance (OPS-1) -------------------------------------------------------------
    def busy_out(self) -> None:
        """Take the phone out of service: blocked now when idle, else when it hangs up.

        A blocked port is not rung (:meth:`offer` refuses) and a phone lifted on it
        hears reorder (congestion) instead of dial tone.
        """
        self.busied_out = True
        log.info("port %s: busied out%s", self.name,
                 "" if self.state is FxsState.IDLE else
                 f"; blocked when the phone hangs up (now {self.state.value})",
                 extra={"port": self.name})
        if self.state is FxsState.IDLE:
            self._set_state(FxsState.IDLE, "maintenance")

    def return_to_service(self) -> None:
        """Undo :meth:`busy_out`; a phone already off-hook gets dial tone."""
        self.busied_out = False
        log.info("port %s: returned to service", self.name, extra={"port": self.name})
        if self.state is not FxsState.BLOCKED:
            return
        self._cancel_all_timers()
        self.stop_audio()
        if self.port.off_hook:
            self._give_dial_tone("returned to service, phone off-hook")
        else:
            self._set_state(FxsState.IDLE, "returned to service")

    # -- the phone ---------------------------------------------------------------
    def _on_port_event(self, event: PortEvent) -> None:
        t = event.type
        if t is PortEventType.OFF_HOOK:
            self._off_hook()
        elif t is PortEventType.ON_HOOK:
            self._on_hook()
        elif t is PortEventType.FLASH:
            self._flash()
        elif t is PortEventType.PULSE_DIGIT:
            self._digit(event.digit, "pulse")
        elif t is PortEventType.ALARM:
            log.error("port %s: FXS port alarm", self.name, extra={"port": self.name})
            self._on_hook()

    def _on_heard(self, heard: ListenEvent) -> None:
        if isinstance(heard, DigitHeard):
            self._digit(heard.digit, "dtmf")

    def _off_hook(self) -> None:
        if self.state is FxsState.RINGING:
            self._cancel_all_timers()
            self.port.ring(False)
            self.port.set_polarity(False)
            self.stop_audio()
            self.calls_in += 1
            self._set_state(FxsState.CONNECTED, "answered")
            self._emit("answered", caller_id=self.offered_cid)
            if self.switch is not None:
                self.switch.answered(self)
            return
        if self.state is FxsState.IDLE:
            self._give_dial_tone("off-hook")
            self._emit("offhook")
        elif self.state is FxsState.BLOCKED:
            log.info("port %s: off-hook on a busied-out port; reorder", self.name,
                     extra={"port": self.name})
            self.play_tone("reorder", self.profile.reorder_tone)

    def _give_dial_tone(self, why: str) -> None:
        self.digits = ""
        self.play_tone("dial", self.profile.dial_tone)
        self._set_state(FxsState.DIALTONE, why)
        self._start_timer("digit", self.settings.first_digit_s,
                          lambda: self._fail("reorder", "no digit dialled"))

    def _on_hook(self) -> None:
        if self.state is FxsState.IDLE:
            return
        if self.state is FxsState.BLOCKED:
            self.stop_audio()
            return
        recall, self.recall = self.recall, False
        self._cancel_all_timers()
        self.stop_audio()
        self.port.ring(False)
        self.disconnect()
        self.digits = ""
        self._set_state(FxsState.IDLE, "on-hook")
        if recall and self.switch is not None:  # after a flash: hand the caller over
            self.switch.recall(self, RECALL_HANGUP)
        self._emit("onhook")

    def _flash(self) -> None:
        if self.switch is not None and (self.recall or self.state is FxsState.CONNECTED):
            answer = self.switch.recall(self, RECALL_FLASH)  # the call core's call?
            if answer == RECALL_DIALTONE:
                self.recall = True
                self._cancel_all_timers()
                self.stop_audio()
                self._give_dial_tone("flash: caller held, consultation")
                return
            if answer == RECALL_CONNECTED:
                self.recall = False
                self._cancel_all_timers()
                self.stop_audio()
                self._set_state(FxsState.CONNECTED, "flash: back to the caller")
                return
        if self.state is FxsState.CONNECTED:
            log.info("port %s: flash ignored: the call takes no register recall", self.name,
                     extra={"port": self.name})
            return
        if self.state in (FxsState.DIALTONE, FxsState.COLLECTING):
            log.info("port %s: flash while dialling %r; digits cleared", self.name, self.digits,
                     extra={"port": self.name})
            self._cancel_all_timers()
            self._give_dial_tone("flash while dialling")

    # -- digits and the dial plan ------------------------------------------------------
    def _digit(self, digit: str, how: str) -> None:
        if self.state not in (FxsState.DIALTONE, FxsState.COLLECTING):
            return
        if self.state is FxsState.DIALTONE:
            self.stop_audio()
            self._set_state(FxsState.COLLECTING, f"first digit ({how})")
        if digit == "#" and self.digits:
            verdict, rule = self.plan.match(self.digits)
            if verdict in (Match.AMBIGUOUS, Match.COMPLETE) and rule is not None:
                self._dial_complete(rule)
            else:
                self._fail("reorder", f"number {self.digits!r} not in the dial plan")
            return
        self.digits += digit
        verdict, rule = self.plan.match(self.digits)
        if verdict is Match.NONE:
            self._fail("reorder", f"number {self.digits!r} not in the dial plan")
        elif verdict is Match.COMPLETE and rule is not None:
            self._dial_complete(rule)
        else:
            self._start_timer("digit", self.settings.interdigit_s, self._interdigit_timeout)

    def _interdigit_timeout(self) -> None:
        verdict, rule = self.plan.match(self.digits)
        if verdict is Match.AMBIGUOUS and rule is not None:
            self._dial_complete(rule)
        else:
            self._fail("reorder", f"incomplete number {self.digits!r} (inter-digit timeout)")

    def _dial_complete(self, rule: DialRule) -> None:
        self._cancel_timer("digit")
        digits = self.digits
        if rule.target.startswith("feature:"):
            feature = rule.target.split(":", 1)[1]
            log.info("port %s: feature %s (%s)", self.name, feature, digits,
                     extra={"port": self.name})
            ok = True
            if self.feature_handler is not None:
                try:
                    ok = self.feature_handler(self.name, digits)
                except Exception:  # the phone must get a tone whatever the ACD did
                    log.exception("port %s: feature %s failed", self.name, feature,
                                  extra={"port": self.name})
                    ok = False
            self._emit("feature", digits=digits, detail={"feature": feature, "ok": ok})
            if not ok:
                self._fail("reorder", f"feature {feature} ({digits}) refused")
                return
            self._set_state(FxsState.FEATURE, f"feature {feature}")
            self.play_tone("confirm", "350+440/100,0/100", duration_s=0.6)
            return
        self._set_state(FxsState.CALLING, f"dialled {digits}")
        self.calls_out += 1
        self._emit("dialled", digits=digits, detail={"target": rule.target})
        if self.switch is None:
            self._fail("reorder", "no switch to route the call")
            return
        if self.recall:  # keyed after a flash: the core consults that number
            if self.switch.recall(self, RECALL_DIAL, rule.destination(digits)):
                self._set_state(FxsState.CONNECTED, f"consulting {digits}")
            else:
                self._fail("reorder", f"consultation of {digits} refused")
            return
        self.switch.place(self, digits, rule)

    def _audio_finished(self, name: str) -> None:
        if name == "confirm" and self.state is FxsState.FEATURE:
            self._give_dial_tone("feature confirmed")
        elif name == "callerid" and self.state is FxsState.RINGING:
            self._callerid_sent()

    # -- results of a call we placed (from the switch) ------------------------------
    def far_ringing(self) -> None:
        if self.state is FxsState.CALLING:
            self.play_tone("ringback", self.profile.ringback_tone)

    def far_answered(self, other: AnalogChannel | None = None) -> None:
        """The party this phone called answered; ``other`` None: the call core bridges
        the audio (a call placed through the core)."""
        if self.state is FxsState.CALLING:
            if other is not None:
                self.connect(other)
            peer = other.name if other is not None else "the called party"
            self._set_state(FxsState.CONNECTED, f"connected to {peer}")
            self._emit("connected", detail={"peer": peer})

    def far_failed(self, reason: str) -> None:
        if self.state is FxsState.CALLING:
            self._fail("busy" if reason == "busy" else "reorder", reason)

    def far_cleared(self) -> None:
        """The other party hung up."""
        if self.state is FxsState.RINGING:
            self.cancel_offer()
            return
        if self.state not in (FxsState.CONNECTED, FxsState.CALLING):
            return
        self.disconnect()
        if self.settings.disconnect_signal == "cpc":
            self.port.set_battery(False)  # open-loop disconnect, the phone's CPC cue
            self._start_timer("cpc", self.settings.cpc_ms / 1000,
                              lambda: self.port.set_battery(True))
        elif self.settings.disconnect_signal == "polarity":
            self.port.set_polarity(True)  # a reversal tells the phone the far end cleared
            self._start_timer("cpc", self.settings.cpc_ms / 1000,
                              lambda: self.port.set_polarity(False))
        self._fail("busy", "far end hung up")

    def _fail(self, tone: str, why: str) -> None:
        log.info("port %s: %s", self.name, why, extra={"port": self.name})
        self._cancel_timer("digit")
        self.disconnect()
        self.play_tone(tone, self.profile.busy_tone if tone == "busy"
                       else self.profile.reorder_tone)
        self._set_state(FxsState.TONE, why)
        self._start_timer("warning", self.settings.off_hook_warning_s, self._howl)

    def _howl(self) -> None:
        if self.state is FxsState.TONE:
            self.play_tone("howler", self.profile.howler_tone)
            self._set_state(FxsState.HOWLER, "left off-hook")
            self._start_timer("warning", self.settings.howler_s, self._lockout)

    def _lockout(self) -> None:
        if self.state is FxsState.HOWLER:
            self.stop_audio()
            log.warning("port %s: phone left off-hook; port locked out until it is hung up",
                        self.name, extra={"port": self.name})
            self._set_state(FxsState.LOCKOUT, "howler ignored")

    # -- incoming (from the switch) ----------------------------------------------------
    def offer(self, cid: CallerId | None) -> bool:
        """Ring the phone with caller ID; False when it is not idle."""
        if self.state is not FxsState.IDLE or self.port.off_hook:
            return False
        self.offered_cid = cid
        self._set_state(FxsState.RINGING, f"call from {cid.number if cid else 'unknown'}")
        send_cid = cid is not None and self.cid_standard != "none"
        if send_cid and self.cid_timing == "before-ring":
            # EN 300 659-1 §5.3.1: line reversal, then (for FSK) DT-AS, then the message
            self.port.set_polarity(True)
            self._start_timer("cid", 0.25, self._send_callerid_before_ring)
        else:
            self.port.ring(True)
            if send_cid:
                # GR-30-CORE: the burst starts at least 500 ms after the first ring ends
                first_ring = self.profile.ring_cadence_ms[0] / 1000
                self._start_timer("cid", first_ring + 0.6, self._send_callerid)
        return True

    def _send_callerid_before_ring(self) -> None:
        if self.state is not FxsState.RINGING:
            return
        if self.cid_standard in ("bell202", "v23"):
            self.play_tone("dtas", DTAS_TONE, duration_s=0.1)
            self._start_timer("cid", 0.2, self._send_callerid)
        else:
            self._send_callerid()

    def _send_callerid(self) -> None:
        if self.state is FxsState.RINGING and self.offered_cid is not None:
            samples = render_callerid(self.offered_cid, self.cid_standard)
            self.port.on_hook_transfer(len(samples) // 8 + 200)  # open the on-hook audio path
            self.play_samples("callerid", samples)

    def _callerid_sent(self) -> None:
        if self.cid_timing == "before-ring":
            self.port.set_polarity(False)
            self._start_timer("cid", 0.3, lambda: self.port.ring(True)
                              if self.state is FxsState.RINGING else None)

    def cancel_offer(self) -> None:
        if self.state is FxsState.RINGING:
            self._cancel_all_timers()
            self.port.ring(False)
            self.port.set_polarity(False)
            self.stop_audio()
            self._set_state(FxsState.IDLE, "caller gave up")

    def status(self) -> dict[str, Any]:
        out = super().status()
        out.update({
            "kind": "fxs", "country": self.profile.code, "extension": self.extension,
            "digits": self.digits,
            "callerid_standard": self.cid_standard, "calls_in": self.calls_in,
            "calls_out": self.calls_out,
        })
        return out
