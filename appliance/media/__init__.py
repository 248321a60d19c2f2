"""The media engine: 20 ms vectorised tick, cross-connects, tones, prompts,
DTMF/call-progress detection, caller ID modems and recording taps (docs/media.md)."""

from appliance.media.engine import ChannelGroup, ChannelHandle, EngineStats, MediaEngine, MediaError
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished, ToneDetected
from appliance.media.recording import RawTapSink, RecordingTap, TapSink

__all__ = [
    "ChannelGroup",
    "ChannelHandle",
    "DtmfDigit",
    "EngineStats",
    "MediaEngine",
    "MediaError",
    "MediaEvent",
    "PlaybackFinished",
    "RawTapSink",
    "RecordingTap",
    "TapSink",
    "ToneDetected",
]
