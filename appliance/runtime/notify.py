"""systemd's notify protocol (sd_notify(3)) through systemd-python.

Every call is harmless outside systemd: without ``$NOTIFY_SOCKET`` nothing is
sent. The watchdog interval comes from ``$WATCHDOG_USEC`` when
``$WATCHDOG_PID`` is ours or unset (sd_watchdog_enabled(3)).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import systemd.daemon


def notify(**fields: str | int) -> bool:
    """Send ``KEY=value`` lines (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1, RELOADING=1)."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return False
    message = "\n".join(f"{key}={value}" for key, value in fields.items())
    return bool(systemd.daemon.notify(message))


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """The systemd watchdog period in seconds, or None when it is not enabled for us."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 1_000_000
