"""Fixture daemons for the console and appliancectl tests: real control sockets, fixture data.

Two real :class:`appliance.runtime.control.ControlServer` instances stand in for
appliance-telephonyd and appliance-powerd at the socket boundary. They answer
the methods of docs/control-protocol.md in exactly the documented shapes, keep
their state so that a busy-out, a hang-up or a pause is visible on the next
poll, and append every request they receive to ``requests.jsonl`` in the run
directory. Swap this module for the demo rig (``make run``) once the daemons
are complete.

Run as a process::

    python tests/console_fixtures.py --run-dir /tmp/x [--busy] [--hung telephonyd]

``--busy`` changes counters, calls, waits and agent states on every poll (the
state in which bench/console.py measures bytes per second); ``--hung NAME``
makes that daemon accept connections but never answer.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from appliance.auth.guard import AccountGuard
from appliance.runtime.control import ControlError, ControlServer
from appliance.runtime.events import EventBus

NOW = 1_795_000_000.0  # a fixed epoch for deterministic unit tests


def channels(busy: set[int], blocked: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    return [
        {
            "channel": n,
            "state": "blocked-remote" if n in blocked else ("busy" if n in busy else "idle"),
            "call_id": f"c-{n:04d}" if n in busy else None,
        }
        for n in range(1, 32)
        if n != 16  # timeslot 16 carries the D-channel (G.704 §5.1.3)
    ]


def initial_state(now: float = NOW) -> dict[str, Any]:
    span1_channels = channels({1, 2, 3})
    span2_channels = channels(set(), blocked=frozenset(range(1, 32)))
    return {
        "spans": {
            "span1": {
                "name": "span1", "address": "sim:/run/appliance/sim/e1-1.sock", "state": "up",
                "alarms": [], "framing": "ccs", "linecode": "hdb3", "crc4": True,
                "dchannel": "up",
                "counters": {"bpv": 0, "crc4": 2, "ebit": 0, "fas": 0, "slips": 0},
                "channels": span1_channels,
            },
            "span2": {
                "name": "span2", "address": "sim:/run/appliance/sim/e1-2.sock", "state": "alarm",
                "alarms": ["red"], "framing": "ccs", "linecode": "hdb3", "crc4": True,
                "dchannel": "down",
                "counters": {"bpv": 1204, "crc4": 88, "ebit": 5, "fas": 41, "slips": 3},
                "channels": span2_channels,
            },
        },
        "ports": {
            "fxo1": {"name": "fxo1", "kind": "fxo", "address": "sim:/run/appliance/sim/fxo1.sock",
                     "state": "idle", "hook": "on", "battery": True, "call_id": None},
            "fxo2": {"name": "fxo2", "kind": "fxo", "address": "sim:/run/appliance/sim/fxo2.sock",
                     "state": "no-battery", "hook": "on", "battery": False, "call_id": None},
            "fxs1": {"name": "fxs1", "kind": "fxs", "address": "sim:/run/appliance/sim/fxs1.sock",
                     "state": "talking", "hook": "off", "battery": True, "call_id": "c-0003"},
        },
        "calls": {
            f"c-{n:04d}": {
                "call_id": f"c-{n:04d}", "direction": "inbound", "channel": f"span1/{n}",
                "caller": f"0612345{n:03d}", "callee": "0800100200", "state": "answered",
                "started": now - 60 * n, "queue": "sales" if n < 3 else None,
                "agent": ("alice", "bob", None)[n - 1],
            }
            for n in (1, 2, 3)
        },
        "queues": {
            "sales": {"name": "sales", "strategy": "longest-idle", "waiting": 2,
                      "longest_wait": 95, "answered": 41, "abandoned": 3,
                      "agents_idle": 1, "agents_busy": 2, "agents_paused": 1},
            "support": {"name": "support", "strategy": "ring-all", "waiting": 0,
                        "longest_wait": 0, "answered": 17, "abandoned": 0,
                        "agents_idle": 1, "agents_busy": 0, "agents_paused": 0},
        },
        "agents": {
            "alice": {"name": "alice", "state": "talking", "reason": None, "since": now - 60,
                      "device": "fxs1", "queues": ["sales"]},
            "bob": {"name": "bob", "state": "talking", "reason": None, "since": now - 120,
                    "device": "sip/bob", "queues": ["sales"]},
            "carol": {"name": "carol", "state": "idle", "reason": None, "since": now - 300,
                      "device": "sip/carol", "queues": ["sales", "support"]},
            "dave": {"name": "dave", "state": "paused", "reason": "lunch", "since": now - 900,
                     "device": "sip/dave", "queues": ["sales"]},
            "erin": {"name": "erin", "state": "logged_out", "reason": None, "since": now - 7200,
                     "device": None, "queues": ["support"]},
        },
        "power": {
            "state": "on-mains", "mains": True,
            "ups": {"status": ["OL", "CHRG"], "charge": 97, "runtime": 1840, "stale": False},
            "input": {"volts": 231.4, "amps": 0.8}, "temperature": 38.5,
            "lifeline": {"engaged": False, "reason": None, "relays": [
                {"pair": 1, "energised": True, "readback": True},
                {"pair": 2, "energised": True, "readback": True},
            ]},
        },
        "history": [
            {"at": now - 86400, "state": "on-battery", "previous": "on-mains",
             "reason": "mains lost", "detail": {}},
            {"at": now - 86000, "state": "on-mains", "previous": "on-battery",
             "reason": "mains back", "detail": {}},
        ],
    }


def span_summary(span: dict[str, Any]) -> dict[str, Any]:
    summary = {k: v for k, v in span.items() if k != "channels"}
    states = [c["state"] for c in span["channels"]]
    summary["busy"] = states.count("busy") + states.count("ringing")
    summary["idle"] = states.count("idle")
    summary["blocked"] = states.count("blocked-remote") + states.count("blocked-local")
    return summary


class FixtureDaemons:
    """telephonyd and powerd fixtures on two real control sockets."""

    def __init__(self, run_dir: str, *, busy: bool = False, hung: str = "",
                 now: float | None = None) -> None:
        self.run_dir = run_dir
        self.busy = busy
        self.hung = hung
        self.state = initial_state(time.time() if now is None else now)
        self.requests: list[dict[str, Any]] = []
        self.tick = 0
        self.telephonyd = ControlServer(os.path.join(run_dir, "telephonyd.sock"), EventBus(time.time))
        self.powerd = ControlServer(os.path.join(run_dir, "powerd.sock"), EventBus(time.time))
        for method in ("status", "config.show", "config.apply", "spans.list", "spans.show", "spans.busy_out",
                       "spans.loopback", "ports.list", "ports.show", "calls.list", "calls.hangup",
                       "calls.originate", "queues.list", "agents.list", "agents.login",
                       "agents.logout", "agents.pause", "agents.unpause"):
            self.telephonyd.register(method, self._handler("telephonyd", method),
                                    needs="status.read")  # the tests run as the owner: admin
        self.telephonyd.register("ports.busy_out", self._handler("telephonyd", "ports.busy_out"),
                                needs="ports.maintain")
        for method in ("status", "config.apply", "power.status", "power.history",
                       "power.test_lifeline"):
            self.powerd.register(method, self._handler("powerd", method), needs="status.read")

    def _handler(self, daemon: str, method: str) -> Any:
        async def handle(params: dict[str, Any]) -> Any:
            self.requests.append({"daemon": daemon, "method": method, "params": params})
            with open(os.path.join(self.run_dir, "requests.jsonl"), "a", encoding="utf-8") as log:
                log.write(json.dumps({"daemon": daemon, "method": method, "params": params}) + "\n")
            if self.hung == daemon:
                await asyncio.sleep(3600)
            return getattr(self, "_" + method.replace(".", "_"))(params)
        return handle

    async def start(self) -> None:
        await self.telephonyd.start()
        await self.powerd.start()

    async def stop(self) -> None:
        await self.telephonyd.stop()
        await self.powerd.stop()

    # --- helpers -----------------------------------------------------------
    def _find(self, table: str, params: dict[str, Any], key: str) -> dict[str, Any]:
        name = params.get(key)
        if not isinstance(name, str):
            raise ControlError("bad-params", f"'{key}' must be a string")
        item: dict[str, Any] | None = self.state[table].get(name)
        if item is None:
            raise ControlError("not-found", f"no {key} {name!r}; known: {', '.join(self.state[table])}")
        return item

    def _advance(self) -> None:
        """Busy mode: the figures a field engineer watches move on every poll."""
        if not self.busy:
            return
        self.tick += 1
        t = self.tick
        span1 = self.state["spans"]["span1"]
        span1["counters"]["crc4"] += t % 3
        span1["counters"]["bpv"] += t % 2
        for ch in span1["channels"]:
            if ch["state"] in ("idle", "busy") and (ch["channel"] * 7 + t) % 5 == 0:
                busy = ch["state"] == "idle"
                ch["state"] = "busy" if busy else "idle"
                ch["call_id"] = f"c-{t:04d}{ch['channel']:02d}" if busy else None
        for queue in self.state["queues"].values():
            queue["waiting"] = (t + len(queue["name"])) % 6
            queue["longest_wait"] = (t * 7) % 240
            queue["answered"] += 1
        states = ("idle", "ringing", "talking", "wrapup")
        for i, agent in enumerate(self.state["agents"].values()):
            if agent["state"] in states and (t + i) % 4 == 0:
                agent["state"] = states[(states.index(agent["state"]) + 1) % len(states)]
                agent["since"] = time.time()
        self.state["power"]["ups"]["runtime"] -= 1
        self.state["power"]["input"]["volts"] = 229.0 + (t % 5) * 0.7

    # --- telephonyd ----------------------------------------------------------
    def _status(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"daemon": "?", "state": "running", "healthy": True, "version": "fixture",
                "pid": os.getpid(), "uptime": 5.0}

    def _config_show(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ivr": {"flows": [{"name": "main", "start": "welcome"}]}}

    def _config_apply(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"applied": [], "restart_required": ["acd.agents"], "source": params.get("path")}

    def _spans_list(self, params: dict[str, Any]) -> dict[str, Any]:
        self._advance()
        return {"spans": [span_summary(s) for s in self.state["spans"].values()]}

    def _spans_show(self, params: dict[str, Any]) -> dict[str, Any]:
        span = self._find("spans", params, "span")
        return {**span_summary(span), "channels": copy.deepcopy(span["channels"])}

    def _spans_busy_out(self, params: dict[str, Any]) -> dict[str, Any]:
        span = self._find("spans", params, "span")
        number = params.get("channel")
        if not isinstance(number, int) or not 1 <= number <= 31:
            raise ControlError("bad-params", "'channel' must be 1-31")
        channel = next((c for c in span["channels"] if c["channel"] == number), None)
        if channel is None:
            raise ControlError("refused", f"{span['name']} channel {number} is the D-channel")
        if channel["state"] == "busy" and params.get("on"):
            raise ControlError("refused", f"{span['name']} channel {number} is busy with a call")
        channel["state"] = "blocked-local" if params.get("on") else "idle"  # as telephonyd says
        return dict(channel)

    def _spans_loopback(self, params: dict[str, Any]) -> dict[str, Any]:
        span = self._find("spans", params, "span")
        mode = params.get("mode")
        if mode not in ("off", "local", "remote", "payload"):
            raise ControlError("bad-params", "'mode' must be off, local, remote or payload")
        alarms = [a for a in span["alarms"] if a != "loopback"]
        span["alarms"] = alarms if mode == "off" else [*alarms, "loopback"]
        return span_summary(span)

    def _ports_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ports": list(self.state["ports"].values())}

    def _ports_show(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._find("ports", params, "port"))

    def _ports_busy_out(self, params: dict[str, Any]) -> dict[str, Any]:
        port = self._find("ports", params, "port")
        on = params.get("on", True)
        if not isinstance(on, bool):
            raise ControlError("bad-params", "'on' must be true or false")
        port["busied_out"] = on
        if on and port["call_id"] is None and port["state"] == "idle":
            port["state"] = "blocked"
        elif not on and port["state"] == "blocked":
            port["state"] = "idle"
        return dict(port)

    def _calls_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"calls": list(self.state["calls"].values())}

    def _calls_hangup(self, params: dict[str, Any]) -> dict[str, Any]:
        call = self._find("calls", params, "call_id")
        del self.state["calls"][call["call_id"]]
        return {"hungup": call["call_id"]}

    def _calls_originate(self, params: dict[str, Any]) -> dict[str, Any]:
        source = params.get("from")
        if source not in self.state["ports"] and source not in self.state["spans"]:
            raise ControlError("not-found", f"no port or span {source!r}")
        call_id = f"c-{9000 + len(self.state['calls']):04d}"
        call = {"call_id": call_id, "direction": "outbound", "channel": source, "caller": "",
                "callee": params.get("to"), "state": "dialing", "started": time.time(),
                "queue": None, "agent": None}
        self.state["calls"][call_id] = call
        return call

    def _queues_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"queues": list(self.state["queues"].values())}

    def _agents_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"agents": list(self.state["agents"].values())}

    def _agent_to(self, params: dict[str, Any], state: str, **fields: Any) -> dict[str, Any]:
        agent = self._find("agents", params, "agent")
        agent.update(state=state, since=time.time(), **fields)
        return dict(agent)

    def _agents_login(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._agent_to(params, "idle", device=params.get("device"), reason=None)

    def _agents_logout(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._agent_to(params, "logged_out", device=None, reason=None)

    def _agents_pause(self, params: dict[str, Any]) -> dict[str, Any]:
        agent = self._find("agents", params, "agent")
        if agent["state"] == "logged_out":
            raise ControlError("refused", f"agent {agent['name']} is logged out")
        return self._agent_to(params, "paused", reason=params.get("reason") or "break")

    def _agents_unpause(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._agent_to(params, "idle", reason=None)

    # --- powerd ------------------------------------------------------------
    def _power_status(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.hung == "telephonyd":
            self._advance()  # keep the screen busy while telephonyd hangs
        return copy.deepcopy(self.state["power"])

    def _power_history(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("limit", 50))
        return {"events": self.state["history"][-limit:]}

    def _power_test_lifeline(self, params: dict[str, Any]) -> dict[str, Any]:
        seconds = int(params.get("seconds", 10))
        self.state["power"]["lifeline"].update(engaged=True, reason="test")
        return {"engaged": True, "until": time.time() + seconds}


@contextmanager
def running_fixtures(run_dir: str, **options: Any) -> Iterator[FixtureDaemons]:
    """Both fixture daemons served from a thread of this process, for the length of a test."""
    os.makedirs(run_dir, exist_ok=True)
    daemons = FixtureDaemons(run_dir, **options)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(daemons.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="fixture-daemons", daemon=True)
    thread.start()
    if not started.wait(5):
        raise RuntimeError("fixture daemons did not start")
    try:
        yield daemons
    finally:
        asyncio.run_coroutine_threadsafe(daemons.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def appliancectl() -> Any:
    """appliancectl's group with every command of issue 9 attached (as main.py will)."""
    from appliance.cli.agents import agents_group
    from appliance.cli.audit import audit
    from appliance.cli.calls import calls_group
    from appliance.cli.ivr import ivr_group
    from appliance.cli.logs import logs
    from appliance.cli.main import cli
    from appliance.cli.ports import ports_group
    from appliance.cli.power import power_group
    from appliance.cli.queues import queues_group
    from appliance.cli.spans import spans_group
    from appliance.cli.users import users_group

    for command in (spans_group, ports_group, calls_group, queues_group, agents_group, ivr_group,
                    power_group, users_group, audit, logs):
        if command.name not in cli.commands:
            cli.add_command(command)
    return cli


async def _serve(run_dir: str, busy: bool, hung: str, database: str) -> None:
    daemons = FixtureDaemons(run_dir, busy=busy, hung=hung)
    if database:  # the console logs in: its requests act as that account (ControlServer "as")
        daemons.telephonyd.accounts = daemons.powerd.accounts = AccountGuard(database).account
    await daemons.start()
    Path(run_dir, "fixtures.ready").write_text(str(os.getpid()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await daemons.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--busy", action="store_true")
    parser.add_argument("--hung", choices=["", "telephonyd", "powerd"], default="")
    parser.add_argument("--database", default="", help="accounts the console may act as")
    args = parser.parse_args()
    asyncio.run(_serve(args.run_dir, args.busy, args.hung, args.database))


if __name__ == "__main__":
    main()
