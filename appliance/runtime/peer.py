"""Who is on the other end of a control-socket connection (SEC-2, ADM-2).

The kernel tells a UNIX-socket server its peer's credentials (``SO_PEERCRED``,
socket(7)): the process id, user id and group id at ``connect()`` time. They
cannot be forged by the client, unlike ``$USER``. The control server reads
them once per connection; its guard (appliance/auth/guard.py) maps them to
the principal that authorisation and the audit log use.
"""

from __future__ import annotations

import os
import pwd
import socket
import struct
from dataclasses import dataclass

_UCRED = struct.Struct("3i")  # struct ucred { pid_t pid; uid_t uid; gid_t gid; }


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int

    @property
    def user(self) -> str:
        """The Unix user name, or the numeric uid when the account has no name."""
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return str(self.uid)

    @property
    def is_owner(self) -> bool:
        """Root, or the user this process runs as (the daemons themselves, the installer)."""
        return self.uid in (0, os.getuid())

    @property
    def origin(self) -> str:
        """What the audit log records as where the request came from."""
        return f"socket:pid={self.pid}"


def peer_of(sock: socket.socket) -> Peer:
    """The credentials of the process connected to the UNIX socket ``sock``."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return Peer(pid, uid, gid)
