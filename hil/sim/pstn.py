"""A carrier analog line (the exchange side of a loop-start line), for FXO ports.

Models what a central office does on a subscriber line, per 20 ms frame:
battery (loop feed), ringing with the national cadence, caller ID before the
first ring (polarity reversal, DT-AS, FSK; EN 300 659-1 §5.3.1) or in the
first ring pause (GR-30-CORE §3; EN 300 659-1 §5.3.2), dial tone when
seized, DTMF digit reception, ringback then answer (optionally signalled by a
polarity reversal), talk audio from the far end, and the far end's hang-up
signalled the way the configured line does it: a CPC open-loop pulse, a
polarity reversal, busy tone afterwards, or nothing at all (silence: many
lines in China).

Fault injection is a property of the line (:class:`LineFaults`): no battery,
a ring too short, a broken cadence, a garbled caller-ID burst, no dial tone,
no disconnect signal at all.

Run as a hil process: ``python -m hil.sim.pstn --name line1 --run-dir DIR
--options '{"country": "CN", "clear": ["busy"]}'``; the port connects to
``DIR/line1.sock`` and scenarios drive the line through ``DIR/line1.ctl``
(``ring``, ``hangup``, ``dtmf``, ``battery``, ``fault``; see :class:`PstnHost`).

Limits: no line voltages or impedances (bits per frame), one far-end party,
no call waiting, no metering pulses.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from appliance.media.dsp.dtmf import dtmf_generate
from appliance.media.dsp.tones import parse_tone, render_cycle
from appliance.runtime.control import ControlError, ControlServer, Handler
from appliance.signalling.analog.callerid import CallerId, build_dtmf, build_mdmf
from appliance.signalling.analog.callerid_tx import DTAS_TONE, fsk_burst
from appliance.signalling.analog.countries import CountryProfile, country
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
from hil.sim.analog_listen import DigitEar, level_dbm0
from hil.sim.guard import RIG_CONTROL
from hil.sim.process import run_device

log = logging.getLogger("hil.sim.pstn")


class LineState(enum.Enum):
    IDLE = "idle"
    ALERTING = "alerting"  # caller ID before ring and/or ringing
    DIALTONE = "dialtone"
    DIGITS = "digits"
    RINGBACK = "ringback"
    TALKING = "talking"
    CLEARED = "cleared"  # far end hung up; line plays its clear signal
    BUSY = "busy"


@dataclass
class LineFaults:
    no_battery: bool = False
    ring_on_ms: int | None = None  # every ring burst this long (a ring too short)
    broken_cadence: tuple[int, ...] | None = None  # on/off sequence instead of the country's
    garble_callerid: bool = False  # flip bits in the caller-ID message
    no_dial_tone: bool = False


@dataclass
class LineConfig:
    country: str = "CN"
    callerid_standard: str = ""  # empty: the country's
    callerid_timing: str = ""
    reverse_on_answer: bool = False  # polarity reversal when the far end answers
    clear: tuple[str, ...] = ("busy",)  # how a far-end hang-up shows: cpc, polarity, busy, none
    cpc_ms: int = 600
    answer_after_ms: int = 3000  # outbound: ringback this long, then answer
    busy_numbers: tuple[str, ...] = ()
    interdigit_ms: int = 2500  # outbound: number complete after this pause
    clear_after_ms: int = 600  # a break in a call longer than this clears it; shorter: flash
    faults: LineFaults = field(default_factory=LineFaults)


def _loop(samples: Frame, position: int) -> Frame:
    idx = (position + np.arange(FRAME_SAMPLES)) % len(samples)
    return samples[idx]


class PstnLine(AnalogSimDevice):
    def __init__(self, config: LineConfig | None = None) -> None:
        super().__init__()
        self.config = config or LineConfig()
        self.profile: CountryProfile = country(self.config.country)
        self.state = LineState.IDLE
        self.battery = not self.config.faults.no_battery
        self.reversed = False
        self.off_hook = False  # the FXO port's loop
        self.ring_count = 0
        self.dialled = ""
        self.received: list[Frame] = []  # audio from the port while a call is up
        self.events: list[tuple[int, str]] = []
        self._ear = DigitEar()
        self._tone: Frame | None = None
        self._tone_pos = 0
        self._oneshot: list[Frame] = []
        self._cadence: tuple[int, ...] = ()
        self._ring_start = 0
        self._caller: CallerId | None = None
        self._after: list[tuple[int, str]] = []  # (time ms, action)
        self._last_digit_ms = 0
        self._cpc_until = -1
        self._talk_phase = 0
        self._break_since: int | None = None
        self.flashes = 0

    # -- scenario actions --------------------------------------------------------
    def ring(self, caller: CallerId | None = None) -> None:
        """A call arrives from the network for this line."""
        if self.state is not LineState.IDLE:
            raise RuntimeError(f"line is {self.state.value}; cannot ring")
        self._caller = caller
        self.ring_count = 0
        faults = self.config.faults
        cadence = faults.broken_cadence or self.profile.ring_cadence_ms
        if faults.ring_on_ms is not None:
            cadence = (faults.ring_on_ms, *cadence[1:])
        self._cadence = tuple(cadence)
        self.state = LineState.ALERTING
        self._log("ring")
        if caller is not None and self._cid_timing == "before-ring":
            self._callerid_before_ring()
        else:
            self._start_ringing(self.now_ms)
            if caller is not None:
                self._at(self._cadence[0] + 500, "callerid")

    def far_end_hangup(self) -> None:
        """The remote party hangs up; the line signals it as configured."""
        if self.state not in (LineState.TALKING, LineState.RINGBACK):
            return
        self._log("far-end-hangup")
        self.state = LineState.CLEARED
        self._tone = None
        clear = self.config.clear
        if "cpc" in clear:
            self._cpc_until = self.now_ms + self.config.cpc_ms
        if "polarity" in clear:
            self.reversed = not self.reversed
        if "busy" in clear:
            self._play(self.profile.busy_tone)

    def far_end_dtmf(self, digits: str) -> None:
        """The remote party presses keys (an IVR menu choice)."""
        self._queue(dtmf_generate(digits, on_ms=100, off_ms=100))

    def caller_abandons(self) -> None:
        """The caller hangs up while the line is still ringing."""
        if self.state is LineState.ALERTING:
            self._log("abandoned")
            self._stop_ringing()
            self.state = LineState.IDLE

    def set_battery(self, on: bool) -> None:
        self.battery = on

    # -- helpers -----------------------------------------------------------------------
    @property
    def _cid_standard(self) -> str:
        return self.config.callerid_standard or self.profile.callerid_standard

    @property
    def _cid_timing(self) -> str:
        return self.config.callerid_timing or self.profile.callerid_timing

    def _log(self, what: str) -> None:
        self.events.append((self.now_ms, what))

    def _at(self, delay_ms: int, action: str) -> None:
        self._after.append((self.now_ms + delay_ms, action))

    def _play(self, tone: str) -> None:
        self._tone = render_cycle(parse_tone(tone), -13.0)
        self._tone_pos = 0

    def _callerid_audio(self) -> Frame:
        assert self._caller is not None
        if self._cid_standard == "dtmf":
            return dtmf_generate(build_dtmf(self._caller), on_ms=70, off_ms=70)
        message = bytearray(build_mdmf(self._caller))
        if self.config.faults.garble_callerid:
            message[len(message) // 2] ^= 0x5A  # a burst hit by line noise
        return fsk_burst(bytes(message), self._cid_standard)

    def _queue(self, samples: Frame) -> None:
        pad = (-len(samples)) % FRAME_SAMPLES
        samples = np.concatenate([samples, np.zeros(pad, np.int16)])
        self._oneshot.extend(samples.reshape(-1, FRAME_SAMPLES))

    def _callerid_before_ring(self) -> None:
        # EN 300 659-1 §5.3.1 / SIN 227: reversal, >=100 ms, DT-AS, FSK, then ringing
        self.reversed = True
        self._log("polarity-reversal")
        silence = np.zeros(2400, np.int16)  # 300 ms
        parts = [silence]
        if self._cid_standard != "dtmf":
            parts += [render_cycle(parse_tone(DTAS_TONE), -13.0), np.zeros(800, np.int16)]
        parts.append(self._callerid_audio())
        audio = np.concatenate(parts)
        self._queue(audio)
        self._at(math.ceil(len(audio) / 8 / FRAME_MS) * FRAME_MS + 200, "restore-polarity")
        self._at(math.ceil(len(audio) / 8 / FRAME_MS) * FRAME_MS + 500, "start-ringing")

    def _start_ringing(self, at_ms: int) -> None:
        self._ring_start = at_ms
        self._ringing = True

    def _stop_ringing(self) -> None:
        self._ringing = False

    _ringing = False

    def _ring_voltage(self) -> bool:
        if not self._ringing or not self._cadence:
            return False
        pos = (self.now_ms - self._ring_start) % sum(self._cadence)
        cycle_start = pos == 0
        if cycle_start and self.now_ms > self._ring_start:
            self.ring_count += 1
        for i, length in enumerate(self._cadence):
            if pos < length:
                return i % 2 == 0
            pos -= length
        return False

    def _talk(self) -> Frame:
        """Far-end speech stand-in: a 600 Hz + 1400 Hz mix at about -20 dBm0, syllabic."""
        t = (self._talk_phase + np.arange(FRAME_SAMPLES)) / 8000
        self._talk_phase += FRAME_SAMPLES
        envelope = 0.6 + 0.4 * math.sin(2 * math.pi * 3 * self._talk_phase / 8000)
        wave = envelope * 1500 * (np.sin(2 * np.pi * 600 * t) + 0.7 * np.sin(2 * np.pi * 1400 * t))
        return wave.astype(np.int16)

    # -- the frame --------------------------------------------------------------------
    def step(self, flags: int, audio: Frame) -> tuple[int, Frame]:
        hook = bool(flags & simwire.OFF_HOOK)
        self._run_actions()
        if (self._break_since is not None and not hook
                and self.now_ms - self._break_since >= self.config.clear_after_ms):
            self._release()
        if hook != self.off_hook:
            self.off_hook = hook
            self._hook_changed(hook)
        if self.off_hook:
            self.received.append(audio)
            if self.state in (LineState.DIALTONE, LineState.DIGITS):
                self._collect_digits(audio)
        out_flags = 0
        if self.battery and self.now_ms >= self._cpc_until:
            out_flags |= simwire.BATTERY
        if self.reversed:
            out_flags |= simwire.REVERSED
        if self.state is LineState.ALERTING and self._ring_voltage():
            out_flags |= simwire.RING
        return out_flags, self._audio_out()

    def _audio_out(self) -> Frame:
        if self._oneshot:
            return self._oneshot.pop(0)
        if self._tone is not None:
            frame = _loop(self._tone, self._tone_pos)
            self._tone_pos = (self._tone_pos + FRAME_SAMPLES) % len(self._tone)
            return frame
        if self.state is LineState.TALKING:
            return self._talk()
        return np.zeros(FRAME_SAMPLES, np.int16)

    def _run_actions(self) -> None:
        due = [a for a in self._after if a[0] <= self.now_ms]
        self._after = [a for a in self._after if a[0] > self.now_ms]
        for _, action in due:
            if action == "callerid" and self.state is LineState.ALERTING:
                self._queue(self._callerid_audio())
                self._log("callerid")
            elif action == "restore-polarity" and self.state is LineState.ALERTING:
                self.reversed = False
            elif action == "start-ringing" and self.state is LineState.ALERTING:
                self._start_ringing(self.now_ms)
            elif action == "answer" and self.state is LineState.RINGBACK:
                self._tone = None
                self.state = LineState.TALKING
                self._log("far-end-answer")
                if self.config.reverse_on_answer:
                    self.reversed = not self.reversed

    def _hook_changed(self, off_hook: bool) -> None:
        self._log("off-hook" if off_hook else "on-hook")
        if off_hook:
            if self._break_since is not None:
                # a break shorter than the clear recognition time is a hook flash
                self._break_since = None
                self.flashes += 1
                self._log("flash")
                return
            if self.state is LineState.ALERTING:
                # ring trip: the call is answered
                self._stop_ringing()
                self._oneshot.clear()
                self.state = LineState.TALKING
                self._after = [a for a in self._after if a[1] not in ("callerid",
                                                                      "start-ringing")]
            elif self.state is LineState.IDLE and self.battery:
                self.state = LineState.DIALTONE
                self.dialled = ""
                self._ear = DigitEar()
                if not self.config.faults.no_dial_tone:
                    self._play(self.profile.dial_tone)
            return
        if self.state in (LineState.TALKING, LineState.RINGBACK):
            self._break_since = self.now_ms  # a flash or a clear: time will tell
            return
        self._release()

    def _release(self) -> None:
        """The subscriber has cleared: whatever was going on is over."""
        self._break_since = None
        self._tone = None
        self._oneshot.clear()
        self._after.clear()
        self._stop_ringing()
        self.reversed = False
        self._cpc_until = -1
        self.state = LineState.IDLE

    def _collect_digits(self, audio: Frame) -> None:
        new = self._ear.listen(audio)
        if new:
            if self.state is LineState.DIALTONE:
                self._tone = None
                self.state = LineState.DIGITS
            self.dialled += new
            self._last_digit_ms = self.now_ms
        elif self.state is LineState.DIGITS \
                and self.now_ms - self._last_digit_ms >= self.config.interdigit_ms:
            self._log(f"dialled {self.dialled}")
            if self.dialled in self.config.busy_numbers:
                self.state = LineState.BUSY
                self._play(self.profile.busy_tone)
            else:
                self.state = LineState.RINGBACK
                self._play(self.profile.ringback_tone)
                self._at(self.config.answer_after_ms, "answer")

    def far_end_level_heard(self) -> float:
        """Level of the last frame the port sent (dBm0)."""
        return level_dbm0(self.received[-1]) if self.received else -200.0


class ScriptedLine(PstnLine):
    """A line that rings after ``ring_after_s`` and clears ``hangup_after_s`` after answer."""

    def __init__(self, config: LineConfig, ring_after_s: float | None = None,
                 hangup_after_s: float | None = None, caller: CallerId | None = None) -> None:
        super().__init__(config)
        self.ring_after_ms = None if ring_after_s is None else int(ring_after_s * 1000)
        self.hangup_after_ms = None if hangup_after_s is None else int(hangup_after_s * 1000)
        self.caller = caller
        self._answered_at: int | None = None

    def step(self, flags: int, audio: Frame) -> tuple[int, Frame]:
        if self.ring_after_ms is not None and self.now_ms >= self.ring_after_ms \
                and self.state is LineState.IDLE:
            self.ring_after_ms = None
            self.ring(self.caller)
        if self.state is LineState.TALKING and self._answered_at is None:
            self._answered_at = self.now_ms
        if (self.hangup_after_ms is not None and self._answered_at is not None
                and self.now_ms - self._answered_at >= self.hangup_after_ms):
            self.hangup_after_ms = None
            self.far_end_hangup()
        return super().step(flags, audio)


class PstnHost(AnalogDeviceHost):
    """``python -m hil.sim.pstn --name line1 --run-dir DIR --options '{...}'``.

    Options: country, clear (list), reverse_on_answer, callerid_standard,
    callerid_timing, busy_numbers, answer_after_ms, and a script: callerid
    (number), ring_after_s, hangup_after_s. Control methods: ``ring``
    (number, name), ``hangup`` (the far end clears), ``abandon``, ``dtmf``
    (digits), ``battery`` (on), ``fault`` (no_dial_tone, garble_callerid,
    ring_on_ms, broken_cadence).
    """

    device = "pstn"

    def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
        config = LineConfig(
            country=option(options, "country", str, "CN"),
            callerid_standard=option(options, "callerid_standard", str, ""),
            callerid_timing=option(options, "callerid_timing", str, ""),
            reverse_on_answer=option(options, "reverse_on_answer", bool, False),
            clear=tuple(option(options, "clear", list, ["busy"])),
            busy_numbers=tuple(option(options, "busy_numbers", list, [])),
            answer_after_ms=option(options, "answer_after_ms", int, 3000),
        )
        number = option(options, "callerid", str, "")
        line = ScriptedLine(config, option(options, "ring_after_s", float, None),
                            option(options, "hangup_after_s", float, None),
                            CallerId(number=number) if number else None)
        super().__init__(name, run_dir, options, line)
        self.line = line

    def register(self, control: ControlServer) -> None:
        control.register("ring", self._ring, needs=RIG_CONTROL)
        control.register("hangup", self._simple(self.line.far_end_hangup), needs=RIG_CONTROL)
        control.register("abandon", self._simple(self.line.caller_abandons), needs=RIG_CONTROL)
        control.register("dtmf", self._dtmf, needs=RIG_CONTROL)
        control.register("battery", self._battery, needs=RIG_CONTROL)
        control.register("fault", self._fault, needs=RIG_CONTROL)

    def _simple(self, action: Callable[[], None]) -> Handler:
        async def handler(params: dict[str, Any]) -> dict[str, Any]:
            action()
            return self.status()
        return handler

    async def _ring(self, params: dict[str, Any]) -> dict[str, Any]:
        number = option(params, "number", str, "")
        name = option(params, "name", str, "")
        if self.line.state is not LineState.IDLE:
            raise ControlError("refused", f"line is {self.line.state.value}")
        self.line.ring(CallerId(number=number, name=name) if number else None)
        return self.status()

    async def _dtmf(self, params: dict[str, Any]) -> dict[str, Any]:
        self.line.far_end_dtmf(require(params, "digits", str))
        return self.status()

    async def _battery(self, params: dict[str, Any]) -> dict[str, Any]:
        self.line.set_battery(require(params, "on", bool))
        return self.status()

    async def _fault(self, params: dict[str, Any]) -> dict[str, Any]:
        faults = self.line.config.faults
        faults.no_dial_tone = require(params, "no_dial_tone", bool, faults.no_dial_tone)
        faults.garble_callerid = require(params, "garble_callerid", bool,
                                         faults.garble_callerid)
        faults.ring_on_ms = option(params, "ring_on_ms", int, faults.ring_on_ms)
        cadence = option(params, "broken_cadence", list, None)
        faults.broken_cadence = tuple(cadence) if cadence else faults.broken_cadence
        return self.status()

    def status(self) -> dict[str, Any]:
        line = self.line
        return {**super().status(), "state": line.state.value, "off_hook": line.off_hook,
                "battery": line.battery, "reversed": line.reversed, "dialled": line.dialled,
                "flashes": line.flashes, "events": line.events[-10:]}


def main(argv: Sequence[str] | None = None) -> int:
    return run_device(PstnHost, argv)


if __name__ == "__main__":
    raise SystemExit(main())
