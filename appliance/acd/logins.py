"""Agent logins that outlive telephonyd (as Asterisk's ``persistentmembers``).

An agent logged in stays logged in across a restart or a crash of the daemon:
a call center must not find every seat logged out after an update or a power
cut, and no AGENTLOGOFF is ever written for a login nobody ended. The truth is
``queue_log`` itself: an agent whose last AGENTLOGIN has no AGENTLOGOFF after
it was logged in when the daemon stopped, on the device that AGENTLOGIN names,
and paused with a reason when a PAUSE follows it without an UNPAUSE.

:func:`open_logins` reads that (in a worker thread) when
:class:`AgentLoginsComponent` starts, after every technology has registered
its phones; :meth:`appliance.acd.engine.Acd.restore_login` puts the agent back
without a new AGENTLOGIN, so the session continues (the statistics count the
time the daemon was down as logged in, as Asterisk's persistent members do).
A login that cannot come back (the agent or the device no longer configured)
is closed with AGENTLOGOFF, reason ``not restored``, so no session stays open.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.acd.engine import AcdError
from appliance.runtime.service import Component, Service

if TYPE_CHECKING:
    from appliance.calls.component import CallCenterComponent

log = logging.getLogger("appliance.acd")

_LOGIN_EVENTS = ("AGENTLOGIN", "AGENTLOGOFF", "PAUSE", "UNPAUSE")


@dataclass(frozen=True)
class OpenLogin:
    agent: str
    device: str
    since: float  # epoch of the AGENTLOGIN
    pause_reason: str  # '' unless paused when the daemon stopped


def open_logins(conn: sqlite3.Connection) -> list[OpenLogin]:
    """Every agent whose last AGENTLOGIN in queue_log was never ended, in agent order."""
    marks = ", ".join("?" for _ in _LOGIN_EVENTS)
    last_login = dict(conn.execute(
        "SELECT agent, max(id) FROM queue_log WHERE event = 'AGENTLOGIN' GROUP BY agent"))
    found: list[OpenLogin] = []
    for agent, login_id in sorted(last_login.items()):
        rows = conn.execute(
            f"SELECT event, at, data1 FROM queue_log WHERE agent = ? AND id >= ? "
            f"AND event IN ({marks}) ORDER BY id", (agent, login_id, *_LOGIN_EVENTS)).fetchall()
        _, since, device = rows[0]
        pause = ""
        for event, _at, data1 in rows[1:]:
            if event == "AGENTLOGOFF":
                break
            pause = str(data1 or "") if event == "PAUSE" else ""
        else:
            found.append(OpenLogin(str(agent), str(device or ""), float(since), pause))
    return found


class AgentLoginsComponent(Component):
    """Logs the agents of the last run in again, once every technology has registered its
    phones (so it starts after the call center and the PRI and analog call components)."""

    name = "agent-logins"

    def __init__(self, center: CallCenterComponent) -> None:
        self._center = center
        self.restored: list[str] = []

    async def start(self, service: Service) -> None:
        center = self._center.center
        if service.db is None or center is None:
            return
        for login in await asyncio.to_thread(open_logins, service.db.conn):
            try:
                center.acd.restore_login(login.agent, login.device, login.since,
                                         login.pause_reason)
            except AcdError as exc:  # the agent or the phone is gone from the configuration
                log.warning("agent %s not logged in again: %s", login.agent, exc,
                            extra={"agent": login.agent})
                center.events.queue_event("AGENTLOGOFF", agent=login.agent, data=(
                    login.device, f"{max(0.0, service.clock.time() - login.since):.0f}",
                    "not restored"))
            else:
                self.restored.append(login.agent)
        if self.restored:
            log.info("%d agent login(s) restored: %s", len(self.restored),
                     ", ".join(self.restored))
            service.record_service_event("agents_restored", {"agents": self.restored})

    def status(self) -> dict[str, Any]:
        return {"restored": self.restored}
