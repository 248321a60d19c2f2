"""``python -m appliance.demo`` (what ``make run`` runs).

Creates a temporary state folder, writes the demo configuration there,
starts the simulated rig (``hil run``) and both daemons under a supervisor
that restarts a crashed daemon as systemd's ``Restart=on-failure`` does
(appliance/demo/supervisor.py), prints how to talk to them, and stays in the
foreground. The state folder survives daemon crashes, so the daemons'
crash recovery runs on the next start. Host commands (power-off, network
apply, daemon restart) are stand-ins that only log (appliance/demo/standin.py).
Ctrl-C (or SIGTERM) stops the daemons, then the rig, waits for every process
and removes the folder: no orphans, no stale sockets.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from appliance.config import ApplianceConfig, load_config
from appliance.demo.prompts import PromptToolMissing, make_prompts
from appliance.demo.supervisor import Supervisor, Unit
from appliance.runtime.control import ControlError, call_once
from appliance.signalling.sip.registrations import rpc_socket
from hil.sip.baresip import BaresipPhone
from hil.supervisor import die_with_parent

REPO_RIG = Path(__file__).resolve().parents[2] / "hil" / "rigs" / "demo.toml"
START_TIMEOUT = 30.0
POLL_SECONDS = 0.2


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(root: str, rig: str) -> str:
    template = (resources.files("appliance.demo") / "appliance.toml.in").read_text("utf-8")
    path = os.path.join(root, "appliance.toml")
    text = template.replace("@ROOT@", root).replace("@RIG@", rig)
    text = text.replace("@SIP_PORT@", str(free_udp_port())).replace(
        "@SIP_BACKEND_PORT@", str(free_udp_port())).replace(
        "@SIP_PASSWORD@", secrets.token_hex(12)).replace(
        "@SIP_CARRIER_PORT@", str(free_udp_port()))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace("@PYTHON@", sys.executable))
    return path


def spawn(command: list[str]) -> subprocess.Popen[bytes]:
    """A child in its own session, so Ctrl-C reaches only the demo, which then stops the
    children in order (daemons before the simulators they talk to); it still dies with
    the demo if the demo is killed."""
    return subprocess.Popen(command, preexec_fn=die_with_parent, start_new_session=True)


def say(text: str) -> None:
    print(f"demo: {text}", flush=True)


def daemon_running(socket_path: str) -> bool:
    try:
        status = asyncio.run(call_once(socket_path, "status", timeout=1.0))
    except (ControlError, OSError):
        return False
    return bool(status.get("state") == "running")


def running_at(socket_path: str) -> Callable[[Unit], bool]:
    """A unit's readiness: its daemon answers ``status`` with state running."""

    def ready(unit: Unit) -> bool:
        return daemon_running(socket_path)

    return ready


def log_agents_in(config: ApplianceConfig) -> None:
    """The agents come to work at their phones; after a telephonyd restart those whose
    login it restored (appliance/acd/logins.py) are already there."""
    telephonyd = config.control_socket("telephonyd")
    try:
        listed = asyncio.run(call_once(telephonyd, "agents.list"))["agents"]
    except (ControlError, OSError) as exc:
        say(f"agents cannot log in: {exc}")
        return
    present = {a["agent"] for a in listed if a["state"] != "logged_out"}
    for agent in config.acd.agents:
        if agent.id in present:
            continue
        try:
            asyncio.run(call_once(telephonyd, "agents.login", agent=agent.id, device=agent.device))
        except (ControlError, OSError) as exc:
            say(f"agent {agent.id} cannot log in: {exc}")


def wait_running(supervisor: Supervisor, unit: Unit, stop: list[bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while unit.state != "running":
        if stop or unit.state in ("failed", "exited") or time.monotonic() > deadline:
            raise RuntimeError(f"{unit.name} did not become ready within {START_TIMEOUT:g} s")
        supervisor.poll()
        time.sleep(POLL_SECONDS / 2)


def start_rig(root: str, rig: str, bin_dir: str) -> subprocess.Popen[bytes]:
    ready_file = os.path.join(root, "rig-ready.json")
    rig_process = spawn([os.path.join(bin_dir, "hil"), "run", rig,
                         "--run-dir", os.path.join(root, "sim"), "--ready-file", ready_file])
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(ready_file):
        if rig_process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the simulated rig did not start (see its messages above)")
        time.sleep(0.05)
    return rig_process


def start_sip(supervisor: Supervisor, config: ApplianceConfig, config_path: str, root: str,
              bin_dir: str, stop: list[bool]) -> None:
    """Kamailio (``appliance-sip-edge``), then a headless baresip phone per SIP extension
    (the simulated SIP agents, hil/sip/baresip.py), each supervised like the daemons."""
    rpc = rpc_socket(config.paths.run_dir)
    edge = Unit("appliance-sip-edge",
                [os.path.join(bin_dir, "appliance-sip-edge"), "--config", config_path],
                ready=lambda unit: os.path.exists(rpc))
    supervisor.start(edge)
    wait_running(supervisor, edge, stop)
    for number, extension in sorted(config.sip.extensions.items()):
        phone = BaresipPhone(Path(root) / "sip-phones" / number, number, extension.password,
                             config.sip.listen_port)
        quiet = ["/bin/sh", "-c", f'exec "$0" "$@" >>"{phone.log}" 2>&1', *phone.argv]
        unit = Unit(f"baresip-{number}", quiet, ready=lambda unit: True)
        supervisor.start(unit)
        wait_running(supervisor, unit, stop)


DEMO_DID = "4008001000"


def start_carrier(supervisor: Supervisor, config: ApplianceConfig, root: str,
                  stop: list[bool]) -> None:
    """A carrier on the SIP trunk ``carrier``: SIPp customers calling the demo's DID one
    after another (hil/sip/carrier.py), supervised like the phones; once the daemons run."""
    trunk = config.sip.trunks["carrier"]
    folder = Path(root) / "sip-carrier"
    folder.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "hil.sip.carrier",
               "--edge", f"{config.sip.listen_host}:{config.sip.listen_port}",
               "--host", trunk.host, "--port", str(trunk.port), "--did", DEMO_DID,
               "--folder", str(folder)]
    quiet = ["/bin/sh", "-c", f'exec "$0" "$@" >>"{folder / "carrier.log"}" 2>&1', *command]
    unit = Unit("sip-carrier", quiet, ready=lambda unit: True)
    supervisor.start(unit)
    wait_running(supervisor, unit, stop)


def print_banner(root: str, config_path: str) -> None:
    sim = os.path.join(root, "sim")
    print(
        f"\nappliance demo running (state in {root}).\n"
        "In another terminal:\n"
        f"  export APPLIANCE_CONFIG={config_path}\n"
        "  .venv/bin/appliancectl status\n"
        "Drive the simulated rig (technician's view):\n"
        f"  .venv/bin/hil ctl {sim}/power.ctl mains on=false   # cut mains: lifeline engages\n"
        f"  .venv/bin/hil ctl {sim}/power.ctl mains on=true\n"
        f"  .venv/bin/hil ctl {sim}/callers.ctl pause on=true   # no new customers\n"
        "  .venv/bin/appliancectl calls list; .venv/bin/appliancectl agents list\n"
        "  .venv/bin/appliancectl sip registrations   # agent 1003's SIP phone (baresip)\n"
        "  .venv/bin/appliancectl sip trunks   # SIPp customers call DID 4008001000 on it\n"
        "  .venv/bin/appliance-console          # the field engineer's screen\n"
        "A crashed daemon is restarted (try kill -9); host commands only go to\n"
        f"  {root}/host-commands.log\n"
        "Press Ctrl-C to stop everything.\n",
        flush=True,
    )


def main() -> int:
    root = tempfile.mkdtemp(prefix="appliance-demo-")
    rig = os.environ.get("APPLIANCE_DEMO_RIG", str(REPO_RIG))
    config_path = write_config(root, rig)
    try:
        make_prompts(os.path.join(root, "prompts"))
    except (PromptToolMissing, subprocess.CalledProcessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        print(f"demo: cannot make the voice prompts: {exc}", file=sys.stderr)
        return 1
    config = load_config(config_path)
    bin_dir = os.path.dirname(sys.executable)
    stop: list[bool] = []

    def request_stop(signum: int, frame: object) -> None:
        stop.append(True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    def agents_in(unit: Unit) -> None:
        log_agents_in(config)

    supervisor = Supervisor(spawn, time.monotonic, say)
    rig_process: subprocess.Popen[bytes] | None = None
    code = 0
    try:
        rig_process = start_rig(root, rig, bin_dir)
        if config.sip.enabled:
            start_sip(supervisor, config, config_path, root, bin_dir, stop)
        for daemon in ("powerd", "telephonyd"):
            unit = Unit(
                f"appliance-{daemon}",
                [os.path.join(bin_dir, f"appliance-{daemon}"), "--config", config_path],
                ready=running_at(config.control_socket(daemon)),
                on_ready=agents_in if daemon == "telephonyd" else None,
            )
            supervisor.start(unit)
            wait_running(supervisor, unit, stop)
        if config.sip.enabled and "carrier" in config.sip.trunks:
            start_carrier(supervisor, config, root, stop)
        print_banner(root, config_path)
        say("ready")
        while not stop:
            if rig_process.poll() is not None:
                print("demo: the simulated rig exited unexpectedly; stopping", file=sys.stderr)
                code = 1
                break
            supervisor.poll()
            time.sleep(POLL_SECONDS)
    except RuntimeError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
        if rig_process is not None:
            rig_process.send_signal(signal.SIGTERM)
            try:
                rig_process.wait(5.0)
            except subprocess.TimeoutExpired:
                rig_process.kill()
                rig_process.wait()
        shutil.rmtree(root, ignore_errors=True)
        say("stopped")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
