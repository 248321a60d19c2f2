"""appliance-sip-edge: Kamailio, the SIP edge, on the configuration generated from ``[sip]``.

It writes the extensions' credentials into Kamailio's database
(:mod:`appliance.signalling.sip.edgedb`, in the state directory, where usrloc keeps
the registrations too) and ``kamailio.cfg`` into the run directory from the
appliance's TOML, has ``kamailio -c`` check it
(:mod:`appliance.signalling.sip.kamailio`; a file that fails is never put in place),
and then runs Kamailio as its child and watches it: ready (``READY=1``, sd_notify(3))
once Kamailio answers on its RPC socket, then a ``core.uptime`` request every half
watchdog period; each answer pets systemd's watchdog (``WATCHDOG=1``). A Kamailio
that stops answering :data:`MISSED_PINGS` times in a row is hung: it is killed and
the edge exits 1, so systemd (or the demo) starts it again, and the phones stay
registered (usrloc in the database). SIGTERM stops Kamailio and exits 0. With
``[sip] enabled = false`` it says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from appliance.config.errors import ConfigErrors
from appliance.config.load import config_path_from, load_config
from appliance.runtime.notify import notify, watchdog_interval
from appliance.signalling.sip.edgedb import EdgeDatabaseError, db_path, write_credentials
from appliance.signalling.sip.kamailio import KamailioConfigError, write_checked
from appliance.signalling.sip.registrations import RegistrationsError, call, rpc_socket

CONFIG_NAME = "kamailio.cfg"
MISSED_PINGS = 3  # unanswered core.uptime requests in a row that make Kamailio hung
PING_S = 10.0  # between requests when systemd sets no watchdog
START_S = 20.0  # how long Kamailio may take to answer its first request


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appliance-sip-edge",
                                     description="Kamailio on the appliance's [sip] settings")
    parser.add_argument("--config", help="configuration file (default $APPLIANCE_CONFIG or "
                                         "/etc/appliance/appliance.toml)")
    args = parser.parse_args(argv)
    path = config_path_from(args.config)
    try:
        config = load_config(path)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print("appliance-sip-edge: configuration refused; not starting", file=sys.stderr)
        return 2
    if not config.sip.enabled:
        print("appliance-sip-edge: [sip] enabled = false; nothing to run", file=sys.stderr)
        notify(READY=1, STATUS="SIP disabled ([sip] enabled = false)")
        return 0
    kamailio = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin:/sbin")
    if kamailio is None:
        print("appliance-sip-edge: kamailio is not installed (deps/apt/sip.txt)", file=sys.stderr)
        return 1
    run_dir = Path(config.paths.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = run_dir / CONFIG_NAME
    database = db_path(config.paths.state_dir)
    try:
        count = write_credentials(database, config.sip)
        write_checked(config.sip, cfg, rpc_socket(str(run_dir)), database)
    except (KamailioConfigError, EdgeDatabaseError) as exc:
        print(f"appliance-sip-edge: {exc}", file=sys.stderr)
        return 2
    print(f"appliance-sip-edge: {count} SIP extension(s), {len(config.sip.trunks)} trunk(s)",
          file=sys.stderr)
    # -DD: stay in the foreground (its children still fork), -E: log to stderr (journal)
    # its own process group: a hung Kamailio is killed with all its children
    kamailio_process = subprocess.Popen(
        [kamailio, "-DD", "-E", "-f", str(cfg), "-P", str(run_dir / "kamailio.pid")],
        start_new_session=True)
    return supervise(kamailio_process, rpc_socket(str(run_dir)))


def _alive(rpc: str) -> bool:
    try:
        return "result" in call(rpc, "core.uptime", timeout=2.0)
    except RegistrationsError:
        return False


def supervise(kamailio: subprocess.Popen[bytes], rpc: str) -> int:
    """Watch ``kamailio`` (see the module docstring); the edge's exit status."""
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)
        kamailio.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    period = watchdog_interval()
    ping = period / 2 if period else PING_S
    deadline = time.monotonic() + START_S
    while not _alive(rpc):
        if kamailio.poll() is not None:
            return 0 if stopping else _ended(kamailio)
        if time.monotonic() > deadline:
            print(f"appliance-sip-edge: Kamailio did not answer on {rpc} within "
                  f"{START_S:g} s; stopping it", file=sys.stderr)
            return _kill(kamailio)
        time.sleep(0.1)
    notify(READY=1, STATUS="Kamailio answering")
    missed = 0
    while True:
        try:
            kamailio.wait(ping)
        except subprocess.TimeoutExpired:
            pass
        else:
            return 0 if stopping else _ended(kamailio)
        if _alive(rpc):
            missed = 0
            notify(WATCHDOG=1)
            continue
        missed += 1
        print(f"appliance-sip-edge: Kamailio did not answer core.uptime ({missed} of "
              f"{MISSED_PINGS})", file=sys.stderr)
        if missed >= MISSED_PINGS:
            notify(STATUS="Kamailio hung: restarting")
            return _kill(kamailio)


def _ended(kamailio: subprocess.Popen[bytes]) -> int:
    print(f"appliance-sip-edge: Kamailio exited with status {kamailio.returncode}",
          file=sys.stderr)
    return 1


def _kill(kamailio: subprocess.Popen[bytes]) -> int:
    """A hung Kamailio: SIGKILL its whole process group and report a failure."""
    with contextlib.suppress(ProcessLookupError):  # it died meanwhile
        os.killpg(kamailio.pid, signal.SIGKILL)
    kamailio.wait()
    print("appliance-sip-edge: Kamailio killed; exiting for a restart", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
