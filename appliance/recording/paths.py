"""Where a recording's file is: the stored relative path, resolved, inside the folder.

The index is data, not trust: a row whose ``path`` is absolute, climbs out with
``..`` or runs through a symbolic link to somewhere else (an attacker with
write access to the database, a restored foreign backup) would otherwise make
delete unlink, export archive or playback read any file the daemon can reach
(issue 13 item 7). Every stored path goes through :func:`recording_file`.
"""

from __future__ import annotations

import os

from appliance.recording.index import Recording, RecordingError


def recording_file(root: str, rec: Recording) -> str:
    """The real path of ``rec``'s file; RecordingError if it resolves outside ``root``.

    Symbolic links are resolved on both sides (os.path.realpath), so a link inside
    the folder that points out of it is refused as well.
    """
    folder = os.path.realpath(root)
    resolved = os.path.realpath(os.path.join(folder, rec.path))
    if os.path.commonpath([folder, resolved]) != folder or resolved == folder:
        raise RecordingError(
            f"recording {rec.id} (call {rec.call_id}): stored path {rec.path!r} resolves to "
            f"{resolved}, outside the recordings folder {folder}; refused (index row tampered "
            "with? check it with rec verify)"
        )
    return resolved
