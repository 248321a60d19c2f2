"""Call recording (REC-1, REC-2): WAV files that survive crashes, an index, retention, QA.

See docs/recording.md for the durability policy and the folder layout.
"""

from appliance.recording.index import Recording, RecordingError, RecordingIndex, SearchFilter
from appliance.recording.maintenance import (
    VerifyReport,
    apply_retention,
    delete,
    export,
    verify,
)
from appliance.recording.policy import CallInfo, RecordingPolicy
from appliance.recording.recorder import ActiveRecording, Recorder
from appliance.recording.wav import WavError, WavFormat, WavWriter, read_audio, repair

__all__ = [
    "ActiveRecording",
    "CallInfo",
    "Recorder",
    "Recording",
    "RecordingError",
    "RecordingIndex",
    "RecordingPolicy",
    "SearchFilter",
    "VerifyReport",
    "WavError",
    "WavFormat",
    "WavWriter",
    "apply_retention",
    "delete",
    "export",
    "read_audio",
    "repair",
    "verify",
]
