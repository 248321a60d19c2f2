"""An appliance database for recording tests, and finished recordings to work on."""

from __future__ import annotations

import os

import numpy as np
import sqlite_utils

from appliance.recording.index import RecordingIndex
from appliance.recording.sink import file_checksum
from appliance.recording.wav import WavFormat, WavWriter
from appliance.store import open_database


def recordings_database(path: str) -> sqlite_utils.Database:
    """A fresh appliance database at the latest schema level (the shipped migrations)."""
    return open_database(path)


def make_recording(index: RecordingIndex, root: str, call_id: str, *, start: float,
                   seconds: float = 1.0, queue: str = "sales", agent: str = "a1",
                   caller: str = "0612345678", extension: str = "201") -> int:
    """A finished stereo recording on disk and in the index, as the recorder leaves one."""
    relative = f"2026/01/01/{call_id}-1.wav"
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = WavWriter(path, WavFormat(2, "pcm16"))
    writer.write(np.full((2, int(8000 * seconds)), 100, np.int16))
    writer.close()
    rec_id = index.add(call_id=call_id, segment=1, path=relative, start=start, format="pcm16",
                       channels=2, agent=agent, extension=extension, queue=queue, caller=caller,
                       dnis="3000", policy="all")
    index.finish(rec_id, duration=seconds, size=os.path.getsize(path),
                 checksum=file_checksum(path), status="complete", ended=start + seconds)
    return rec_id
