"""System benchmark: the real appliance-telephonyd, E1 callers bridged to FXS agents, recorded.

Starts ``hil run`` on a generated rig (``--spans`` E1 simulators, one FXS
agent phone per call of the largest level, the mains/UPS/board simulator),
then appliance-powerd and appliance-telephonyd on a generated configuration
(one queue holding every agent, an IVR menu whose key 1 goes there,
recording policy "all"). For each level N it places N inbound calls across
the spans, keys 1 in the menu on each, waits until N agents are talking
(bridged in the engine and recorded), holds them for ``--window`` seconds and
prints:

- telephonyd CPU as % of one core (utime + stime from /proc/PID/stat over the
  window) and RSS; the simulators' CPU (every process of the rig) apart;
- tick lateness p50/p99/max over the window (the media component keeps the
  last 10 s; the window is 10 s by default), stalls (ticks a whole 20 ms
  late), missing frames (concealed), slips in and out, late ticks, recording
  frames dropped (differences of the daemon's counters over the window) and
  the clock the engine followed (the timing span, or the system clock);
- the engine-only figure of bench/media.py for the same channel count (2N:
  caller and agent), as % of one core, and the ratio daemon / engine-only of
  the cost per call.

Each level is repeated ``--repeat`` times; the spread (min..max) is printed.
Run: ``.venv/bin/python bench/system.py [--levels 0,30,60,90] [--repeat 3]``.

``--agents sip`` seats the agents on SIP extensions instead (issue 16): Kamailio
(``appliance-sip-edge``) as the registrar, one headless baresip per agent
(hil/sip/baresip.py), every call an E1 caller bridged through the media engine to a
pjsua2 leg. Kamailio's CPU is the appliance's too and is printed apart ("edge"); the
baresip phones count with the simulators. The pjsua2-python wheel is built with
``PJSUA_MAX_CALLS`` = 4 (measured: a fifth concurrent call fails with PJ_ETOOMANY
whatever ``maxCalls`` says), so SIP levels stop at 4 calls until pjproject is built
with a higher limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from appliance.demo.prompts import make_prompts
from appliance.runtime.control import ControlError, call_once
from appliance.signalling.sip.registrations import dump, rpc_socket
from drivers.span import BCHANNELS
from hil.sip.baresip import BaresipPhone, free_port

BIN = Path(sys.executable).parent
SIP_MAX_CALLS = 4  # measured: the pjsua2-python wheel is built with PJSUA_MAX_CALLS = 4
HZ = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


def rig_text(spans: int, phones: int) -> str:
    """The simulators: E1 spans e1a.., analog agent phones phone1.., the power rig."""
    parts = ['name = "system-bench"\n',
             '[[simulators]]\nname = "power"\ndevice = "mains"\n'
             "options = { watchdog_timeout = 5.0 }\n"]
    parts += [f'[[simulators]]\nname = "{span_name(i)}"\ndevice = "e1"\n' for i in range(spans)]
    parts += [f'[[simulators]]\nname = "phone{i + 1}"\ndevice = "phone"\n'
              'options = { country = "CN", answer_after_s = 1 }\n' for i in range(phones)]
    return "\n".join(parts)


def span_name(index: int) -> str:
    return f"e1{chr(ord('a') + index)}"


def sip_password(agent: int) -> str:
    return f"bench-secret-{agent}"


def config_text(root: Path, rig: Path, spans: int, phones: int, sip: SipPorts | None,
                sip_extra: str = "") -> str:
    """One queue with every agent (agent 1001+i on fxs i+1, ext 201+i; or, with ``sip``, on
    SIP extension 2001+i), menu key 1 -> queue."""
    sim = root / "sim"
    fxs = 0 if sip else phones
    out = [
        f'[paths]\nstate_dir = "{root}/state"\nrun_dir = "{root}/run"\n',
        '[logging]\nlevel = "warning"\ntarget = "stderr"\n',
        f'[rig]\nboard = "sim:{sim}/power.board.sock"\nups = "sim:{sim}/power.ups.tty"\n'
        f'watchdog = "sim:{sim}/power.watchdog.sock"\nsimulator_rig = "{rig}"\n',
    ]
    out += [f'[[rig.spans]]\nname = "{span_name(i)}"\naddress = "sim:{sim}/{span_name(i)}.sock"\n'
            for i in range(spans)]
    out += [f'[[rig.ports]]\nname = "fxs{i + 1}"\nkind = "fxs"\n'
            f'address = "sim:{sim}/phone{i + 1}.sock"\nextension = "{201 + i}"\n'
            for i in range(fxs)]
    if sip:
        out.append(f"[sip]\nenabled = true\nlisten_port = {sip.edge}\n"
                   f"backend_port = {sip.backend}\nmax_calls = {SIP_MAX_CALLS}\n{sip_extra}")
        out += [f'[sip.extensions.{2001 + i}]\npassword = "{sip_password(2001 + i)}"\n'
                for i in range(phones)]
    out.append(f'[media]\nprompts_dir = "{root}/prompts"\n')
    out.append('[recording]\npolicy = "all"\n')
    out.append("[acd]\n")
    out += [f'[[acd.agents]]\nid = "{1001 + i}"\nname = "Agent {i + 1}"\n'
            f'device = "{agent_device(i, sip is not None)}"\n' for i in range(phones)]
    members = ", ".join(f'"{1001 + i}"' for i in range(phones))
    out.append(f'[[acd.queues]]\nname = "sales"\nstrategy = "leastrecent"\n'
               f"members = [{members}]\nring_timeout = 30\nwrapup = 0\n")
    out.append('[[ivr.routes]]\ndnis = ""\nflow = "main"\n')
    out.append('[[ivr.flows]]\nname = "main"\nstart = "menu"\n')
    out.append('[[ivr.flows.nodes]]\nname = "menu"\ntype = "menu"\nprompt = "welcome-menu"\n'
               'choices = { "1" = "sales" }\ntimeout = 10\nretries = 2\n'
               'invalid_prompt = "invalid"\ntimeout_prompt = "no-input"\nfailure = "bye"\n')
    out.append('[[ivr.flows.nodes]]\nname = "sales"\ntype = "queue"\nqueue = "sales"\n'
               'on_empty = "bye"\n')
    out.append('[[ivr.flows.nodes]]\nname = "bye"\ntype = "play"\nprompt = "goodbye"\nnext = ""\n')
    return "\n".join(out)


def agent_device(index: int, sip: bool) -> str:
    return f"sip:{2001 + index}" if sip else f"fxs{index + 1}"


@dataclass(frozen=True)
class SipPorts:
    edge: int  # Kamailio
    backend: int  # pjsua2 inside telephonyd


# -- /proc ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (/proc/PID/stat fields 14 and 15), in seconds."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the rig: ``hil run`` and its simulators)."""
    found = [pid]
    for child in found:
        try:
            with open(f"/proc/{child}/task/{child}/children", encoding="ascii") as handle:
                found.extend(int(p) for p in handle.read().split())
        except FileNotFoundError:
            continue
    return found


def until(predicate: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (ControlError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    raise RuntimeError(f"{what} not reached within {timeout:g} s (last: {last!r})")


# -- the rig -------------------------------------------------------------------------


class SystemRig:
    """The simulators and both daemons on the generated rig and configuration."""

    def __init__(self, root: Path, spans: int, phones: int, sip: bool = False,
                 sip_extra: str = "") -> None:
        self.root = root
        self.spans = spans
        self.phones = phones
        self.sip = SipPorts(free_port(), free_port()) if sip else None
        self.rig = root / "rig.toml"
        self.rig.write_text(rig_text(spans, 0 if sip else phones), encoding="utf-8")
        self.config = root / "appliance.toml"
        self.config.write_text(config_text(root, self.rig, spans, phones, self.sip, sip_extra),
                               encoding="utf-8")
        self.sip_phones: list[BaresipPhone] = []
        self.env = {**os.environ, "APPLIANCE_CONFIG": str(self.config), "HOME": str(root)}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.sim_calls: list[tuple[str, int]] = []

    def call(self, socket: str, method: str, **params: Any) -> Any:
        return asyncio.run(call_once(socket, method, timeout=10.0, **params))

    def daemon(self, method: str, **params: Any) -> Any:
        return self.call(str(self.root / "run" / "telephonyd.sock"), method, **params)

    def sim(self, name: str, method: str, **params: Any) -> Any:
        return self.call(str(self.root / "sim" / f"{name}.ctl"), method, **params)

    def start(self) -> None:
        make_prompts(str(self.root / "prompts"))
        ready = self.root / "rig-ready.json"
        self.processes["rig"] = subprocess.Popen(
            [str(BIN / "hil"), "run", str(self.rig), "--run-dir", str(self.root / "sim"),
             "--ready-file", str(ready)], start_new_session=True, stdout=subprocess.DEVNULL)
        until(lambda: ready.exists() or self.processes["rig"].poll() is not None,
              120, "the simulated rig")
        if self.processes["rig"].poll() is not None:
            raise RuntimeError("the simulated rig did not start")
        if self.sip:
            self.start_sip_edge()
        for name in ("powerd", "telephonyd"):
            self.processes[name] = subprocess.Popen(
                [str(BIN / f"appliance-{name}"), "--config", str(self.config)],
                env=self.env, start_new_session=True)
            sock = str(self.root / "run" / f"{name}.sock")
            until(lambda s=sock: self.call(s, "status").get("state") == "running",  # type: ignore[misc]
                  120, f"appliance-{name} ready")
        until(lambda: all(s["state"] == "up" for s in self.daemon("spans.list")["spans"]),
              60, "every span up")
        for i in range(self.phones):
            self.daemon("agents.login", agent=str(1001 + i),
                        device=agent_device(i, self.sip is not None))

    def start_sip_edge(self) -> None:
        """Kamailio, then one baresip per agent, each registered before the bench goes on."""
        assert self.sip is not None
        self.processes["sip-edge"] = subprocess.Popen(
            [str(BIN / "appliance-sip-edge"), "--config", str(self.config)], env=self.env,
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rpc = rpc_socket(str(self.root / "run"))
        until(lambda: os.path.exists(rpc), 30, "Kamailio's RPC socket")
        for i in range(self.phones):
            phone = BaresipPhone(self.root / "sip-phones" / str(2001 + i), str(2001 + i),
                                 sip_password(2001 + i), self.sip.edge, tone_hz=1000)
            phone.start()
            self.sip_phones.append(phone)
        until(lambda: len(dump(rpc)) >= self.phones, 60, f"{self.phones} SIP phones registered")

    def simulator_pids(self) -> list[int]:
        """The rig's processes and the SIP phones: the far ends, not the appliance."""
        phones = [p.process.pid for p in self.sip_phones if p.process is not None]
        return descendants(self.processes["rig"].pid) + phones

    def edge_pids(self) -> list[int]:
        edge = self.processes.get("sip-edge")
        return descendants(edge.pid) if edge is not None else []

    def stop(self) -> None:
        for phone in self.sip_phones:
            phone.stop()
        for name in ("telephonyd", "powerd", "sip-edge", "rig"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @property
    def telephonyd(self) -> int:
        return self.processes["telephonyd"].pid

    def talking(self) -> int:
        return sum(a["state"] == "talking" for a in self.daemon("agents.list")["agents"])

    def place(self, calls: int) -> None:
        """``calls`` callers ring in, key 1 in the menu and are answered by agents."""
        slots = [(span_name(i // len(BCHANNELS)), BCHANNELS[i % len(BCHANNELS)])
                 for i in range(calls)]
        for n, (span, channel) in enumerate(slots):
            placed = self.sim(span, "call", channel=channel, called="4000",
                              calling=f"1380000{n:04d}")
            self.sim_calls.append((span, int(placed["call"])))
        until(lambda: sum(c["state"] == "ivr" for c in self.daemon("calls.list")["calls"])
              >= calls, 120, f"{calls} calls in the IVR")
        time.sleep(1.0)  # into the menu prompt; the key barges in
        for span, call_id in self.sim_calls:
            self.sim(span, "dtmf", call=call_id, digits="1")
        until(lambda: self.talking() >= calls, 180, f"{calls} agents talking")
        until(lambda: len(self.daemon("rec.active")) >= calls, 60, f"{calls} recordings")

    def clear(self) -> None:
        for span, call_id in self.sim_calls:
            self.sim(span, "hangup", call=call_id)
        self.sim_calls.clear()
        until(lambda: not self.daemon("calls.list")["calls"], 120, "every call cleared")
        until(lambda: all(a["state"] == "idle" for a in self.daemon("agents.list")["agents"]),
              120, "every agent idle")

    def media(self) -> dict[str, Any]:
        return dict(self.daemon("status")["components"]["media"])


@dataclass
class Sample:
    calls: int
    cpu: float  # telephonyd, fraction of one core
    sim_cpu: float  # every simulator process (and SIP phone), fraction of one core
    edge_cpu: float  # Kamailio (the SIP edge), fraction of one core
    rss: float
    lateness: dict[str, float]
    stalls: int
    missing: int
    slips: int  # frames slipped in and out (appliance/media/slip.py)
    late: int
    dropped: int
    timing: str  # the clock the engine followed at the end of the window


def measure(rig: SystemRig, calls: int, window: float) -> Sample:
    if calls:
        rig.place(calls)
    time.sleep(2.0)  # let the answer transients settle
    sims, edge = rig.simulator_pids(), rig.edge_pids()
    before = rig.media()
    cpu0, sim0, wall0 = cpu_seconds(rig.telephonyd), sum(map(cpu_seconds, sims)), time.monotonic()
    edge0 = sum(map(cpu_seconds, edge))
    time.sleep(window)
    cpu1, sim1, wall1 = cpu_seconds(rig.telephonyd), sum(map(cpu_seconds, sims)), time.monotonic()
    edge1 = sum(map(cpu_seconds, edge))
    after = rig.media()
    wall = wall1 - wall0
    sample = Sample(
        calls, (cpu1 - cpu0) / wall, (sim1 - sim0) / wall, (edge1 - edge0) / wall,
        rss_mib(rig.telephonyd),
        after["tick_lateness_ms"], after["stalls"] - before["stalls"],
        after["missing_frames"] - before["missing_frames"],
        after["slips"] + after["output_slips"] - before["slips"] - before["output_slips"],
        after["late_ticks"] - before["late_ticks"],
        after["recording_dropped"] - before["recording_dropped"],
        after["timing_source"],
    )
    if calls:
        rig.clear()
    return sample


def engine_only(channels: int) -> float:
    """bench/media.py's tick CPU for ``channels`` (pairs bridged, DTMF, recorded), % of a core."""
    if channels == 0:
        return 0.0
    sys.path.insert(0, str(Path(__file__).parent))
    import media  # bench/media.py

    result = media.bench_engine(channels, 250, media.input_pool())
    return float(result["process_per_tick"]) / media.BUDGET


def spread(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    mid = statistics.median(values) * scale
    return f"{mid:.{digits}f} ({min(values) * scale:.{digits}f}..{max(values) * scale:.{digits}f})"


def report(level: int, samples: list[Sample], engine: float) -> None:
    cpu = [s.cpu for s in samples]
    per_call = statistics.median(cpu) / level if level else 0.0
    ratio = f"{per_call / (engine / level):.1f}x" if level and engine else "-"
    print(
        f"{level:5d}  {spread(cpu, 100):>17}  {spread([s.sim_cpu for s in samples], 100):>19}  "
        f"{statistics.median(s.rss for s in samples):6.0f}  "
        f"{spread([s.lateness['p50'] for s in samples], digits=2):>18}  "
        f"{spread([s.lateness['p99'] for s in samples], digits=2):>18}  "
        f"{max(s.lateness['max'] for s in samples):7.1f}  "
        f"{sum(s.stalls for s in samples):6d}  {sum(s.missing for s in samples):7d}  "
        f"{sum(s.slips for s in samples):5d}  "
        f"{sum(s.late for s in samples):5d}  {sum(s.dropped for s in samples):6d}  "
        f"{engine * 100:10.2f}  {ratio:>6}  {spread([s.edge_cpu for s in samples], 100):>14}  "
        f"{samples[-1].timing}",
        flush=True,
    )


def levels_arg(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=levels_arg, default=[0, 30, 60, 90],
                        help="calls per level, comma-separated (default 0,30,60,90)")
    parser.add_argument("--repeat", type=int, default=3, help="windows per level (default 3)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured per window")
    parser.add_argument("--agents", choices=("fxs", "sip"), default="fxs",
                        help="agents on FXS phones (default) or on SIP extensions (baresip)")
    parser.add_argument("--spans", type=int, default=0,
                        help="E1 spans (default: enough for the largest level, at least 3)")
    args = parser.parse_args()
    # SIGTERM (a kill, a CI timeout) unwinds like Ctrl-C so the rig's finally stops the
    # daemons and simulators instead of leaving them running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spans = args.spans or max(3, -(-max(args.levels) // len(BCHANNELS)))
    phones = max(max(args.levels), 1)
    if max(args.levels) > spans * len(BCHANNELS):
        parser.error(f"{spans} spans carry at most {spans * len(BCHANNELS)} calls")
    if args.agents == "sip" and max(args.levels) > SIP_MAX_CALLS:
        parser.error(f"pjsua2 takes at most {SIP_MAX_CALLS} calls (PJSUA_MAX_CALLS)")
    kind = "SIP agent phones (baresip)" if args.agents == "sip" else "FXS agent phones"
    print(f"appliance-telephonyd, {spans} E1 spans, {phones} {kind}; "
          f"{args.repeat} x {args.window:g} s per level; median (min..max)")
    print(f"{'calls':>5}  {'telephonyd %core':>17}  {'simulators %core':>19}  {'RSS MiB':>6}  "
          f"{'lateness p50 ms':>18}  {'lateness p99 ms':>18}  {'max ms':>7}  {'stalls':>6}  "
          f"{'missing':>7}  {'slips':>5}  {'late':>5}  {'dropped':>6}  {'engine %core':>10}  "
          f"{'ratio':>6}  {'edge %core':>14}  clock")
    with tempfile.TemporaryDirectory(prefix="sysbench-", dir="/tmp") as tmp:
        rig = SystemRig(Path(tmp), spans, phones, sip=args.agents == "sip")
        try:
            rig.start()
            for level in args.levels:
                samples = [measure(rig, level, args.window) for _ in range(args.repeat)]
                report(level, samples, engine_only(2 * level))
        finally:
            rig.stop()


if __name__ == "__main__":
    main()
