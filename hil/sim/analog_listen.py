"""An ear for the simulators: which tones, digits and caller ID arrive on a line.

Used by the phone simulator (what an FXS port plays to it) and the carrier
line simulator (what an FXO port dials). Tones are recognised by their
frequencies and cadence from a national profile; caller ID by the media
engine's FSK modem and DTMF receiver, read with the caller-ID message parser.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from appliance.media.dsp.dtmf import DtmfDetector
from appliance.media.dsp.levels import sine_power
from appliance.media.dsp.tones import parse_tone
from appliance.signalling.analog.callerid import CallerId, CallerIdError, parse_dtmf, parse_fsk
from appliance.signalling.analog.countries import CountryProfile
from appliance.signalling.analog.listen import CallerIdBurst
from appliance.signalling.analog.receivers import MODEMS, FskCallerIdReceiver
from drivers.analog.base import FRAME_SAMPLES, SAMPLE_RATE

Frame = npt.NDArray[np.int16]
FRAME_MS = 20


class _ToneTrack:
    def __init__(self, name: str, text: str) -> None:
        spec = parse_tone(text)
        self.name = name
        self.continuous = spec.continuous
        first_on = next(s for s in spec.segments if s.frequencies)
        off = [s.ms for s in spec.segments if not s.frequencies]
        self.on_ms = first_on.ms or 0
        self.off_ms = (off[0] or 0) if off else 0
        freqs = spec.frequencies
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        columns = []
        for f in freqs:
            columns += [np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)]
        # least-squares fit of the frame by the tone's sines: exact even for tones
        # closer together than a 20 ms frame resolves (US ringback 440+480 Hz)
        self.basis = np.stack(columns, axis=1)
        self.solve = np.linalg.pinv(self.basis)
        self.signature = tuple(sorted(freqs))
        self.on = False
        self.run = 0
        self.runs: list[tuple[bool, int]] = []


class ToneEar:
    """Names the call-progress tones of ``profile`` that are heard."""

    def __init__(self, profile: CountryProfile, min_dbm0: float = -35.0) -> None:
        tones = {"dial": profile.dial_tone, "busy": profile.busy_tone,
                 "ringback": profile.ringback_tone, "reorder": profile.reorder_tone,
                 "howler": profile.howler_tone}
        self.tracks = [_ToneTrack(name, text) for name, text in tones.items()]
        self.min_power = sine_power(min_dbm0)
        self.heard: list[str] = []
        self.current = ""
        self.voice_frames = 0  # frames with sound that is no known tone: speech, a prompt

    def listen(self, frame: Frame) -> None:
        x = frame.astype(np.float64)
        total = float(np.mean(x * x))
        for track in self.tracks:
            coef = track.solve @ x
            amps = np.hypot(coef[0::2], coef[1::2])
            fitted = track.basis @ coef
            explained = float(np.mean(fitted * fitted))
            on = (explained >= self.min_power and explained >= 0.8 * total
                  and float(amps.min()) >= 0.3 * float(amps.max()))
            if on == track.on:
                track.run += FRAME_MS
            else:
                track.runs.append((track.on, track.run))
                track.runs = track.runs[-4:]
                track.on, track.run = on, FRAME_MS
            name = self._classify(track)
            if name:
                self._hear(name)
        if total >= self.min_power and not any(track.on for track in self.tracks):
            self.voice_frames += 1

    @staticmethod
    def _classify(track: _ToneTrack) -> str:
        def close(measured: int, nominal: int) -> bool:
            return abs(measured - nominal) <= max(0.25 * nominal, 2 * FRAME_MS)

        if track.continuous:
            return track.name if track.on and track.run == 500 else ""
        # name a cadenced tone when its next burst starts after a burst and a pause of the
        # right lengths: one burst alone is ambiguous (CN ringback cut short by an answer
        # after 700 ms is as long as a CN reorder burst, both 450 Hz)
        if track.on and track.run == FRAME_MS and len(track.runs) >= 2:
            (was_on, on_ms), (was_off, off_ms) = track.runs[-2], track.runs[-1]
            if (was_on and not was_off and close(on_ms, track.on_ms)
                    and close(off_ms, track.off_ms)):
                return track.name
        return ""

    def _hear(self, name: str) -> None:
        # tracks sharing frequencies (CN: dial, busy, ringback all 450 Hz) are told
        # apart by cadence, so one frame can name only one tone
        if not self.heard or self.heard[-1] != name:
            self.heard.append(name)
        self.current = name


SILENCE_SETTLES_FRAMES = 4  # after this many silent frames both caller-ID receivers are idle


class CallerIdEar:
    """Caller ID presented to an on-hook phone: FSK (Bell 202 / V.23) or DTMF."""

    def __init__(self, standard: str) -> None:
        self.standard = standard
        self.fsk = FskCallerIdReceiver(MODEMS[standard]) if standard in MODEMS else None
        if self.fsk is not None:
            self.fsk.enabled = True
        self.dtmf = DtmfDetector(1)
        self.digits = ""
        self.received: list[CallerId] = []
        self.errors: list[str] = []
        self._silent = 0  # consecutive all-zero frames

    def listen(self, frame: Frame) -> None:
        # An idle on-hook phone hears digital silence 50 times a second. Once both
        # receivers have seen enough of it to be idle (the FSK burst closes after 3 quiet
        # frames, a DTMF digit after a 40 ms pause), more silence cannot change them, so
        # it is not run through them: the DTMF filter bank was half of an idle phone's CPU.
        if not frame.any():
            self._silent += 1
            if self._silent > SILENCE_SETTLES_FRAMES:
                return
        else:
            self._silent = 0
        if self.fsk is not None:
            for event in self.fsk.listen(frame):
                if isinstance(event, CallerIdBurst):
                    try:
                        self.received.append(parse_fsk(event.message))
                    except CallerIdError as exc:
                        self.errors.append(str(exc))
                else:
                    self.errors.append(str(event))
        for digit_event in self.dtmf.process(frame[None, :]):
            self.digits += digit_event.digit
            if digit_event.digit in "C#":
                try:
                    self.received.append(parse_dtmf(self.digits))
                except CallerIdError as exc:
                    self.errors.append(str(exc))
                self.digits = ""


class DigitEar:
    """DTMF digits arriving on a line (what an FXO port dials)."""

    def __init__(self) -> None:
        self.dtmf = DtmfDetector(1)
        self.digits = ""

    def listen(self, frame: Frame) -> str:
        new = "".join(e.digit for e in self.dtmf.process(frame[None, :]))
        self.digits += new
        return new


def level_dbm0(frame: Frame) -> float:
    power = float(np.mean(np.square(frame.astype(np.float64))))
    return -200.0 if power <= 0 else 10 * float(np.log10(power / sine_power(0.0)))


__all__ = ["SAMPLE_RATE", "CallerIdEar", "DigitEar", "ToneEar", "level_dbm0"]
