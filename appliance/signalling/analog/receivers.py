"""Receivers an analog channel runs on its own received audio, next to the media engine.

* :class:`FskCallerIdReceiver` collects one caller-ID burst (channel seizure,
  mark signal, message; GR-30-CORE §3, EN 300 659-1 §5.2.1) and reads it with
  the media engine's FSK modem (:mod:`appliance.media.dsp.fsk`), then returns
  the message bytes from the message type to the checksum.
* :class:`DialToneReceiver` recognises the country's continuous dial tone
  before an FXO channel dials (E.180 §2.1: dial tone is continuous), which the
  engine's call-progress detector does not report.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES, SAMPLE_RATE
from appliance.media.dsp.fsk import BELL202, V23, FskModem, fsk_discriminate, uart_decode
from appliance.media.dsp.levels import sine_power
from appliance.media.dsp.tones import parse_tone
from appliance.signalling.analog.callerid import MDMF_TYPE, SDMF_TYPE
from appliance.signalling.analog.listen import (
    CallerIdBurst,
    CallerIdGarbled,
    ListenEvent,
    ToneHeard,
)
from drivers.analog.base import Frame

MODEMS = {"bell202": BELL202, "v23": V23}


class FskCallerIdReceiver:
    """One caller-ID burst per window, from carrier on to carrier off."""

    def __init__(self, modem: FskModem, min_dbm0: float = -40.0, max_seconds: float = 3.0) -> None:
        self.modem = modem
        self.min_power = sine_power(min_dbm0)
        self.max_frames = int(max_seconds * SAMPLE_RATE / FRAME_SAMPLES)
        self.enabled = False
        self.reset()

    def reset(self) -> None:
        self._frames: list[Frame] = []
        self._quiet = 0

    def listen(self, frame: Frame) -> list[ListenEvent]:
        if not self.enabled:
            return []
        power = float(np.mean(np.square(frame.astype(np.float64))))
        carrier = power >= self.min_power
        if carrier:
            self._frames.append(frame)
            self._quiet = 0
        elif self._frames:
            self._frames.append(frame)
            self._quiet += 1
        if self._frames and (self._quiet >= 3 or len(self._frames) >= self.max_frames):
            samples = np.concatenate(self._frames)
            self.reset()
            return [self.decode(samples)]
        return []

    def decode(self, samples: npt.NDArray[np.int16]) -> ListenEvent:
        decision = fsk_discriminate(samples, self.modem)
        # the mark signal after the seizure is up to 180 bits long (GR-30-CORE)
        chars = uart_decode(decision, self.modem, max_gap_bits=200)
        values = [c.value for c in chars]
        for i, value in enumerate(values):
            if value not in (MDMF_TYPE, SDMF_TYPE) or i + 1 >= len(values):
                continue
            end = i + values[i + 1] + 3
            if end > len(values):
                continue
            message = bytes(values[i:end])
            framing = all(c.framing_ok for c in chars[i:end])
            if framing and sum(message) & 0xFF == 0:
                return CallerIdBurst(message)
        if not chars:
            return CallerIdGarbled("FSK carrier without readable characters")
        return CallerIdGarbled(f"no valid caller-ID message in {len(chars)} characters "
                               f"(checksum or framing errors)")


class DialToneReceiver:
    """Continuous dial tone at the country's frequencies for ``min_ms``."""

    def __init__(self, dial_tone: str, min_dbm0: float = -35.0, min_ms: int = 300,
                 min_ratio: float = 0.7) -> None:
        freqs = parse_tone(dial_tone).frequencies
        n = np.arange(FRAME_SAMPLES)
        window = np.hanning(FRAME_SAMPLES + 2)[1:-1]
        self._basis = np.stack([window * np.exp(-2j * np.pi * f * n / SAMPLE_RATE)
                                for f in freqs], axis=1)
        self._scale = 2.0 / float(window.sum()) ** 2
        self.min_power = sine_power(min_dbm0)
        self.min_ratio = min_ratio
        self.frames_needed = max(1, min_ms * SAMPLE_RATE // 1000 // FRAME_SAMPLES)
        self.enabled = False
        self.reset()

    def reset(self) -> None:
        self._run = 0

    def listen(self, frame: Frame) -> list[ListenEvent]:
        if not self.enabled:
            return []
        x = frame.astype(np.float64)
        total = float(np.mean(x * x))
        tone = float(np.sum(np.abs(x @ self._basis) ** 2) * self._scale)
        if tone >= self.min_power and tone >= self.min_ratio * total:
            self._run += 1
            if self._run == self.frames_needed:
                return [ToneHeard("dial")]
        else:
            self._run = 0
        return []
