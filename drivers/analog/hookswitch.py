"""Classify an FXS phone's raw hook-switch states into events, frame by frame.

On DAHDI hardware the kernel does this (``debouncetime``, ``rxflashtime``,
pulse ``pulsebreaktime``/``pulsemaketime``); the simulator backend does it
here with the same rules, counting 20 ms frames:

* a break (on-hook) of at most ``pulse_break_max_ms`` is one dial pulse
  (decadic dialling, ITU-T Q.23 Annex: 10 pulses/s, 60/40 break/make);
  pulses end with a make of at least ``interdigit_ms`` and give a digit
  (10 pulses = '0');
* a break longer than that but at most ``flash_max_ms`` is a hook flash
  (timed break recall);
* a longer break is a hang-up, reported once ``flash_max_ms`` has passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.analog.base import FRAME_SECONDS, PortEvent, PortEventType


@dataclass(frozen=True)
class HookTiming:
    pulse_break_max_ms: int = 80
    flash_max_ms: int = 800
    interdigit_ms: int = 200


class HookSwitch:
    def __init__(self, timing: HookTiming | None = None, off_hook: bool = False) -> None:
        self.timing = timing or HookTiming()
        self._frame_ms = round(FRAME_SECONDS * 1000)
        self.off_hook = off_hook  # debounced state reported upwards
        self._raw = off_hook
        self._break_ms = 0
        self._make_ms = 0
        self._pulses = 0

    def feed(self, raw_off_hook: bool) -> list[PortEvent]:
        """One frame's raw hook state; returns the events it completes."""
        out: list[PortEvent] = []
        t = self.timing
        if raw_off_hook:
            if not self._raw and self.off_hook:
                # end of a break while the phone is considered off-hook
                if self._break_ms <= t.pulse_break_max_ms:
                    self._pulses += 1
                else:
                    out.extend(self._finish_digit())
                    out.append(PortEvent(PortEventType.FLASH))
                self._make_ms = 0
            elif not self.off_hook:
                self.off_hook = True
                self._pulses = 0
                self._make_ms = 0
                out.append(PortEvent(PortEventType.OFF_HOOK))
            self._make_ms += self._frame_ms
            if self._pulses and self._make_ms >= t.interdigit_ms:
                out.extend(self._finish_digit())
            self._break_ms = 0
        else:
            if self._raw:
                self._break_ms = 0
            self._break_ms += self._frame_ms
            if self.off_hook and self._break_ms > t.flash_max_ms:
                self.off_hook = False
                self._pulses = 0
                out.append(PortEvent(PortEventType.ON_HOOK))
        self._raw = raw_off_hook
        return out

    def _finish_digit(self) -> list[PortEvent]:
        if not self._pulses:
            return []
        count, self._pulses = self._pulses, 0
        if count > 10:
            return []  # more than ten pulses is no digit; dropped like a misdial
        return [PortEvent(PortEventType.PULSE_DIGIT, "0" if count == 10 else str(count))]
