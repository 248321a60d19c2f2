"""``python -m appliance.demo`` (what ``make run`` runs).

Creates a temporary state folder, writes the demo configuration there,
starts the simulated rig (``hil run``) and both daemons, prints how to talk
to them, and stays in the foreground. Ctrl-C (or SIGTERM) stops the daemons,
then the rig, waits for every process and removes the folder: no orphans, no
stale sockets.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from appliance.config import load_config
from appliance.demo.prompts import PromptToolMissing, make_prompts
from appliance.runtime.control import ControlError, call_once
from hil.supervisor import die_with_parent

REPO_RIG = Path(__file__).resolve().parents[2] / "hil" / "rigs" / "demo.toml"
START_TIMEOUT = 30.0


def write_config(root: str, rig: str) -> str:
    template = (resources.files("appliance.demo") / "appliance.toml.in").read_text("utf-8")
    path = os.path.join(root, "appliance.toml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(template.replace("@ROOT@", root).replace("@RIG@", rig))
    return path


def spawn(*command: str) -> subprocess.Popen[bytes]:
    """A child in its own session, so Ctrl-C reaches only the demo, which then stops the
    children in order (daemons before the simulators they talk to); it still dies with
    the demo if the demo is killed."""
    return subprocess.Popen(list(command), preexec_fn=die_with_parent, start_new_session=True)


async def wait_ready(socket_path: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} while starting")
        try:
            status = await call_once(socket_path, "status", timeout=1.0)
            if status.get("state") == "running":
                return
        except (ControlError, OSError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready within {START_TIMEOUT:g} s")


def stop_all(processes: list[subprocess.Popen[bytes]], timeout: float = 5.0) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    processes: list[subprocess.Popen[bytes]] = []
    stop = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    code = 0
    try:
        ready_file = os.path.join(root, "rig-ready.json")
        rig_process = spawn(
            os.path.join(bin_dir, "hil"),
            "run",
            rig,
            "--run-dir",
            os.path.join(root, "sim"),
            "--ready-file",
            ready_file,
        )
        processes.append(rig_process)
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(ready_file):
            if rig_process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the simulated rig did not start (see its messages above)")
            time.sleep(0.05)
        for daemon in ("powerd", "telephonyd"):
            process = spawn(os.path.join(bin_dir, f"appliance-{daemon}"), "--config", config_path)
            processes.append(process)
            asyncio.run(wait_ready(config.control_socket(daemon), process, f"appliance-{daemon}"))
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
            "  .venv/bin/appliance-console          # the field engineer's screen\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        telephonyd = config.control_socket("telephonyd")
        for agent in config.acd.agents:  # the agents come to work at their phones
            asyncio.run(call_once(telephonyd, "agents.login", agent=agent.id, device=agent.device))
        print("demo: ready", flush=True)
        while not stop:
            gone = [str(p.args) for p in processes if p.poll() is not None]
            if gone:
                print(
                    f"demo: process exited unexpectedly: {', '.join(gone)}",
                    file=sys.stderr,
                )
                code = 1
                break
            time.sleep(0.2)
    except RuntimeError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(processes)
        shutil.rmtree(root, ignore_errors=True)
        print("demo: stopped", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
