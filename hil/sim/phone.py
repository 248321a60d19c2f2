"""An analog phone on an FXS port: hook switch, DTMF and pulse dialling, flash, and an ear.

Per 20 ms frame the phone sends its loop state (off-hook bit) and its
microphone audio, and receives ringing voltage, battery, polarity, the
message-waiting lamp and the audio the FXS port plays. Its ear
(:mod:`hil.sim.analog_listen`) names the call-progress tones it hears and
reads the caller ID presented while it is on-hook.

Dialling: DTMF at 100 ms on / 100 ms off (Q.23 timing practice); decadic
pulses at 10 pulses/s with a 60/40 break/make ratio and 700 ms between
digits (ITU-T Q.23 annex practice for rotary dials); a hook flash is a timed
break of ``flash_ms`` (100 ms by default, the European timed break recall).

Run as a hil process: ``python -m hil.sim.phone --name desk1 --run-dir DIR
--options '{"answer_after_s": 2}'``; the port connects to ``DIR/desk1.sock``
and scenarios use ``DIR/desk1.ctl`` (``lift``, ``hangup``, ``dial``, ``flash``,
``talk``; see :class:`PhoneHost`).

Limits: no ringer impedance or ring-trip timing below 20 ms; the ear knows
the national tones of one country at a time.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from appliance.media.dsp.dtmf import dtmf_generate
from appliance.runtime.control import ControlError, ControlServer
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.countries import country
from drivers.analog import simwire
from drivers.analog.base import FRAME_SAMPLES
from hil.sim.analog_link import (
    FRAME_MS,
    AnalogDeviceHost,
    AnalogSimDevice,
    Frame,
    option,
    require,
)
from hil.sim.analog_listen import CallerIdEar, ToneEar, level_dbm0
from hil.sim.guard import RIG_CONTROL
from hil.sim.process import run_device


class AnalogPhone(AnalogSimDevice):
    def __init__(self, country_code: str = "CN", callerid_standard: str = "") -> None:
        super().__init__()
        self.profile = country(country_code)
        self.callerid_standard = callerid_standard or self.profile.callerid_standard
        self.off_hook = False
        self.ringing = False
        self.rings = 0  # ring bursts seen
        self.battery = True
        self.reversed = False
        self.mwi = False
        self.battery_drops = 0
        self.reversals = 0
        self.ear = ToneEar(self.profile)
        self.cid_ear = CallerIdEar(self.callerid_standard)
        self.heard_levels: deque[float] = deque(maxlen=500)
        self.received: list[Frame] = []
        self._hook_script: deque[bool] = deque()  # per-frame hook states to play out
        self._mic: deque[Frame] = deque()
        self._talk_hz: float | None = None
        self._talk_pos = 0

    # -- what a user does ------------------------------------------------------------
    @property
    def caller_id(self) -> CallerId | None:
        return self.cid_ear.received[-1] if self.cid_ear.received else None

    def lift(self) -> None:
        self._hook_script.clear()
        self.off_hook = True
        self.ear = ToneEar(self.profile)

    def hang_up(self) -> None:
        self._hook_script.clear()
        self.off_hook = False
        self._talk_hz = None
        self.cid_ear = CallerIdEar(self.callerid_standard)

    def dial_dtmf(self, digits: str, on_ms: int = 100, off_ms: int = 100) -> None:
        samples = dtmf_generate(digits, on_ms=on_ms, off_ms=off_ms)
        pad = (-len(samples)) % FRAME_SAMPLES
        samples = np.concatenate([samples, np.zeros(pad, np.int16)])
        self._mic.extend(samples.reshape(-1, FRAME_SAMPLES))

    def dial_pulse(
        self, digits: str, break_ms: int = 60, make_ms: int = 40, interdigit_ms: int = 700
    ) -> None:
        script: list[bool] = []
        for digit in digits:
            pulses = 10 if digit == "0" else int(digit)
            for _ in range(pulses):
                script += [False] * (break_ms // FRAME_MS) + [True] * (make_ms // FRAME_MS)
            script += [True] * (interdigit_ms // FRAME_MS)
        self._hook_script.extend(script)

    def flash(self, flash_ms: int = 100) -> None:
        self._hook_script.extend([False] * math.ceil(flash_ms / FRAME_MS) + [True])

    def talk(self, hz: float | None) -> None:
        """Speak a steady tone into the mouthpiece (None: be quiet)."""
        self._talk_hz = hz

    @property
    def tones(self) -> list[str]:
        return self.ear.heard

    @property
    def voice_seconds(self) -> float:
        """How long the phone has heard sound that is not a call-progress tone (a prompt)."""
        return self.ear.voice_frames * FRAME_MS / 1000

    # -- the frame ---------------------------------------------------------------
    def step(self, flags: int, audio: Frame) -> tuple[int, Frame]:
        ring = bool(flags & simwire.RING)
        if ring and not self.ringing:
            self.rings += 1
        self.ringing = ring
        battery = bool(flags & simwire.BATTERY)
        if self.battery and not battery:
            self.battery_drops += 1
        self.battery = battery
        reversed_ = bool(flags & simwire.REVERSED)
        if reversed_ != self.reversed:
            self.reversals += 1
        self.reversed = reversed_
        self.mwi = bool(flags & simwire.MWI)
        if self._hook_script:  # a pulse train or flash being played out, frame by frame
            hook = self._hook_script.popleft()
            if not self._hook_script:
                self.off_hook = hook
        else:
            hook = self.off_hook
        if hook:
            self.received.append(audio)
            self.heard_levels.append(level_dbm0(audio))
            self.ear.listen(audio)
        else:
            self.cid_ear.listen(audio)
        return (simwire.OFF_HOOK if hook else 0), self._mouth()

    def _mouth(self) -> Frame:
        if self._mic:
            return self._mic.popleft()
        if self._talk_hz is not None and self.off_hook:
            t = (self._talk_pos + np.arange(FRAME_SAMPLES)) / 8000
            self._talk_pos += FRAME_SAMPLES
            return (3000 * np.sin(2 * np.pi * self._talk_hz * t)).astype(np.int16)
        return np.zeros(FRAME_SAMPLES, np.int16)

    def hears_tone_hz(self, hz: float, frames: int = 10) -> bool:
        """True when the last ``frames`` received frames are dominated by ``hz``."""
        if len(self.received) < frames:
            return False
        x = np.concatenate(self.received[-frames:]).astype(np.float64)
        n = np.arange(len(x))
        amp = abs(np.sum(x * np.exp(-2j * np.pi * hz * n / 8000))) * 2 / len(x)
        rms = math.sqrt(float(np.mean(x * x))) * math.sqrt(2)
        return rms > 100 and amp > 0.7 * rms


class AnsweringPhone(AnalogPhone):
    """An agent at a phone: answers every call ``answer_after_s`` after it starts ringing,
    hangs up ``hangup_after_s`` later, or as soon as the far end has cleared (a battery
    drop, CPC, once the call is settled; or busy/reorder tone), then waits for the next
    call."""

    SETTLE_MS = 1000  # line transients right after answering are not a disconnect

    def __init__(
        self, answer_after_s: float, hangup_after_s: float | None, country_code: str = "CN"
    ) -> None:
        super().__init__(country_code)
        self.answer_after_ms = int(answer_after_s * 1000)
        self.hangup_after_ms = None if hangup_after_s is None else int(hangup_after_s * 1000)
        self._ring_seen: int | None = None
        self._answered: int | None = None
        self._tones_at_answer = 0
        self._drops_settled: int | None = None
        self.calls_answered = 0

    def hang_up(self) -> None:
        super().hang_up()
        self._ring_seen = self._answered = None  # by hand or by itself: the call is over

    def step(self, flags: int, audio: Frame) -> tuple[int, Frame]:
        if flags & simwire.RING and self._ring_seen is None and not self.off_hook:
            self._ring_seen = self.now_ms
        if self._ring_seen is not None and self._answered is None and self.off_hook:
            self._answered = self.now_ms  # lifted by hand (hil ctl lift) before its own time
            self._tones_at_answer = len(self.tones)
            self._drops_settled = None
            self.calls_answered += 1
        if (
            self._ring_seen is not None
            and self._answered is None
            and self.now_ms - self._ring_seen >= self.answer_after_ms
        ):
            self._answered = self.now_ms
            self._tones_at_answer = len(self.tones)
            self._drops_settled = None
            self.calls_answered += 1
            self.lift()
        if self._answered is not None:
            talked_out = (
                self.hangup_after_ms is not None
                and self.now_ms - self._answered >= self.hangup_after_ms
            )
            if self._drops_settled is None and self.now_ms - self._answered >= self.SETTLE_MS:
                self._drops_settled = self.battery_drops
            cleared = any(
                t in ("busy", "reorder") for t in self.tones[self._tones_at_answer :]
            ) or (self._drops_settled is not None and self.battery_drops > self._drops_settled)
            if talked_out or cleared:
                self.hang_up()
        return super().step(flags, audio)


class PhoneHost(AnalogDeviceHost):
    """``python -m hil.sim.phone --name desk1 --run-dir DIR --options '{...}'``.

    Options: country, callerid_standard, answer_after_s (answer by itself when
    rung), hangup_after_s. Control methods: ``lift``, ``hangup``, ``dial``
    (digits, mode 'dtmf' or 'pulse'), ``flash`` (ms), ``talk`` (hz or null).
    """

    device = "phone"

    def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
        country_code = option(options, "country", str, "CN")
        answer_after = option(options, "answer_after_s", float, None)
        phone: AnalogPhone
        if answer_after is not None:
            phone = AnsweringPhone(
                answer_after, option(options, "hangup_after_s", float, None), country_code
            )
        else:
            phone = AnalogPhone(country_code, option(options, "callerid_standard", str, ""))
        super().__init__(name, run_dir, options, phone)
        self.phone = phone

    def register(self, control: ControlServer) -> None:
        control.register("lift", self._lift, needs=RIG_CONTROL)
        control.register("hangup", self._hang_up, needs=RIG_CONTROL)
        control.register("dial", self._dial, needs=RIG_CONTROL)
        control.register("flash", self._flash, needs=RIG_CONTROL)
        control.register("talk", self._talk, needs=RIG_CONTROL)

    async def _lift(self, params: dict[str, Any]) -> dict[str, Any]:
        self.phone.lift()
        return self.status()

    async def _hang_up(self, params: dict[str, Any]) -> dict[str, Any]:
        self.phone.hang_up()
        return self.status()

    async def _dial(self, params: dict[str, Any]) -> dict[str, Any]:
        digits = require(params, "digits", str)
        mode = require(params, "mode", str, "dtmf")
        if mode == "pulse":
            if not digits.isdigit():
                raise ControlError("bad-params", f"pulse dialling sends 0-9 only, got {digits!r}")
            self.phone.dial_pulse(digits)
        elif mode == "dtmf":
            if any(ch not in "0123456789*#ABCD" for ch in digits):
                raise ControlError("bad-params", f"{digits!r} has non-DTMF characters")
            self.phone.dial_dtmf(digits)
        else:
            raise ControlError("bad-params", f"mode must be 'dtmf' or 'pulse', got {mode!r}")
        return self.status()

    async def _flash(self, params: dict[str, Any]) -> dict[str, Any]:
        ms = require(params, "ms", int, 100)
        if not 20 <= ms <= 2000:
            raise ControlError("bad-params", f"flash of {ms} ms outside 20..2000 ms")
        self.phone.flash(ms)
        return self.status()

    async def _talk(self, params: dict[str, Any]) -> dict[str, Any]:
        hz = option(params, "hz", float, None)
        self.phone.talk(hz)
        return self.status()

    def status(self) -> dict[str, Any]:
        phone = self.phone
        cid = phone.caller_id
        return {
            **super().status(),
            "off_hook": phone.off_hook,
            "ringing": phone.ringing,
            "rings": phone.rings,
            "battery": phone.battery,
            "reversed": phone.reversed,
            "mwi": phone.mwi,
            "tones": phone.tones[-10:],
            "voice_s": phone.voice_seconds,
            "caller_id": cid.as_dict() if cid else None,
        }


def main(argv: Sequence[str] | None = None) -> int:
    return run_device(PhoneHost, argv)


if __name__ == "__main__":
    raise SystemExit(main())
