"""A carrier's SIP trunk as a rig device: SIPp customers calling one DID, one after another.

``python -m hil.sip.carrier --edge 127.0.0.1:5060 --port 5090 --did 4008001000`` places a
customer's call on the trunk at ``--port`` (the address of ``[sip.trunks.NAME]``) every
``--every`` seconds: the customer keys 1 at the menu (RFC 4733), speaks (SIPp's recorded
A-law speech) and hangs up after ``--hold`` seconds, unless the appliance hangs up first.
Each call's outcome is printed. SIGTERM ends the call up and exits. ``make run`` runs
one for the demo's SIP trunk (appliance/demo).
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from hil.sip.sipp import SippCarrier, SippRun


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hil.sip.carrier", description=__doc__.split("\n")[0])
    parser.add_argument("--edge", required=True, help="the appliance's SIP edge, HOST:PORT")
    parser.add_argument("--host", default="127.0.0.1", help="the trunk's address")
    parser.add_argument("--port", type=int, required=True, help="the trunk's port")
    parser.add_argument("--did", required=True, help="the number the customers call")
    parser.add_argument("--every", type=float, default=45.0, help="seconds between calls")
    parser.add_argument("--hold", type=float, default=25.0, help="seconds a customer stays")
    parser.add_argument("--folder", default=".", help="where SIPp's scenarios and logs go")
    args = parser.parse_args(argv)
    carrier = SippCarrier(Path(args.folder), args.host, args.port, args.edge,
                          media_port=args.port + 2)
    stopping: list[int] = []
    current: list[SippRun] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)
        for run in current:
            run.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    calls = 0
    while not stopping:
        calls += 1
        caller = f"139{random.randrange(10**8):08d}"
        run = carrier.call(args.did, caller, digits="1", hold=args.hold)
        current[:] = [run]
        try:
            code = run.wait(args.hold + 120)
        except subprocess.TimeoutExpired:
            run.stop()
            code = -1
        if not stopping:
            outcome = "as scripted" if code == 0 else f"SIPp exit {code} (the box ended it)"
            print(f"carrier: call {calls} from {caller} to {args.did}: {outcome}", flush=True)
        deadline = time.monotonic() + args.every
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
