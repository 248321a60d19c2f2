"""SIP benchmark (issue 16): call set-ups per second from a SIP trunk and registrations per
second, against the real appliance-telephonyd and Kamailio, driven by SIPp.

Starts the rig of bench/system.py with SIP on (no agents): Kamailio
(``appliance-sip-edge``), powerd and telephonyd, a SIP trunk ``carrier`` whose peer is
SIPp on loopback, and extension 2001. Then, for each rate:

- **call set-ups**: SIPp places calls on the trunk at the rate for ``--seconds``; each is
  answered by the IVR (menu prompt), held ``--hold`` s and hung up by the carrier. At most
  3 are up at once (the pjsua2-python wheel's ``PJSUA_MAX_CALLS`` is 4). Printed:
  calls attempted, answered, failed, the set-ups per second achieved, and telephonyd's
  and Kamailio's CPU (% of one core, /proc) over the run, and the calls the trunk still
  has up 2 s after the last one ended (0, or calls leaked);
- **registrations**: SIPp registers 2001 with digest authentication (a 401, then the
  REGISTER with credentials) at the rate; printed as for calls. ``[sip] flood_requests``
  is raised for the run, or pike would ban SIPp's address as a flood.

The highest rate with no failed call is the sustained figure. Run:
``.venv/bin/python bench/sip.py [--rates 10,20,40,80] [--seconds 10] [--hold 0.1]``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from system import SystemRig, cpu_seconds, sip_password

from hil.sip.baresip import free_port
from hil.sip.sipp import call_scenario

EXTENSION = "2001"

def _register(cseq: int, credentials: str) -> str:
    return f"""  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:{EXTENSION}@appliance.local>;tag=[call_number]
To: <sip:{EXTENSION}@appliance.local>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:{EXTENSION}@[local_ip]:[local_port]>
{credentials}Expires: 300
Max-Forwards: 70
Content-Length: 0

]]></send>"""


def register_scenario(password: str) -> str:
    """A phone's digest registration: REGISTER, 401, REGISTER with credentials, 200."""
    credentials = f"[authentication username={EXTENSION} password={password}]\n"
    return f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<scenario name="register">
{_register(1, "")}
  <recv response="401" auth="true"/>
{_register(2, credentials)}
  <recv response="200"/>
</scenario>
"""


def stats(stat_file: Path) -> tuple[int, int]:
    """SIPp's final cumulative (successful, failed) calls from its -trace_stat CSV."""
    lines = [line for line in stat_file.read_text().splitlines() if line.strip()]
    header, last = lines[0].split(";"), lines[-1].split(";")
    row = dict(zip(header, last, strict=False))
    return int(row["SuccessfulCall(C)"]), int(row["FailedCall(C)"])


def run_sipp(folder: Path, scenario: str, rate: float, seconds: float, limit: int,
             local_port: int, edge: str, extra: list[str]) -> tuple[int, int, float]:
    """SIPp at ``rate`` calls/s for ``seconds`` (at most ``limit`` up at once); its
    (successful, failed, elapsed seconds)."""
    xml = folder / "scenario.xml"
    xml.write_text(scenario, encoding="ascii")
    stat_file = folder / "stats.csv"
    stat_file.unlink(missing_ok=True)
    calls = max(1, int(rate * seconds))
    started = time.monotonic()
    subprocess.run(
        ["sipp", "-sf", str(xml), "-i", "127.0.0.1", "-p", str(local_port), "-r", str(rate),
         "-l", str(limit), "-m", str(calls), "-nostdin", "-trace_stat", "-stf", str(stat_file),
         "-fd", "1", "-timeout", f"{int(seconds * 3 + 60)}s", "-timeout_error", *extra, edge],
        stdout=subprocess.DEVNULL, stderr=(folder / "sipp.err").open("wb"), check=False)
    return (*stats(stat_file), time.monotonic() - started)


def cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,20,40,80",
                        help="attempts per second, comma-separated (default 10,20,40,80)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per rate")
    parser.add_argument("--hold", type=float, default=0.1, help="seconds each call is held")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    carrier_port = free_port()
    trunk = (f"flood_requests = 10000\n[sip.trunks.carrier]\nhost = \"127.0.0.1\"\n"
             f"port = {carrier_port}\nmax_calls = 4\n")
    with tempfile.TemporaryDirectory(prefix="sipbench-", dir="/tmp") as tmp:
        root = Path(tmp)
        rig = SystemRig(root, spans=1, phones=0, sip=True, sip_extra=trunk)
        # extension 2001 for the registrations (the rig seats no agent on it)
        with rig.config.open("a", encoding="utf-8") as config:
            config.write(f'\n[sip.extensions.{EXTENSION}]\npassword = "{sip_password(2001)}"\n')
        try:
            rig.start()
            assert rig.sip is not None
            edge = f"127.0.0.1:{rig.sip.edge}"
            calls = call_scenario("13900000000", speech=False, digits="", hold=args.hold)
            print(f"appliance-telephonyd + Kamailio, SIPp on loopback; {args.seconds:g} s a rate, "
                  f"calls held {args.hold:g} s, at most 3 up (PJSUA_MAX_CALLS = 4)")
            print(f"{'test':<14} {'rate/s':>6} {'tried':>6} {'ok':>6} {'failed':>6} "
                  f"{'done/s':>7} {'telephonyd %core':>16} {'edge %core':>10} "
                  f"{'left up':>7}")
            for kind, scenario, port, extra in (
                    ("call set-ups", calls, carrier_port, ["-s", "4008001000"]),
                    ("registrations", register_scenario(sip_password(2001)), free_port(), [])):
                for rate in rates:
                    folder = root / f"{kind.split()[0]}-{rate:g}"
                    folder.mkdir()
                    tel, kam = [rig.telephonyd], rig.edge_pids()
                    before = cpu(tel), cpu(kam)
                    ok, failed, elapsed = run_sipp(folder, scenario, rate, args.seconds, 3,
                                                   port, edge, extra)
                    after = cpu(tel), cpu(kam)
                    time.sleep(2.0)  # the last calls' releases settle
                    left = rig.daemon("sip.trunks")["trunks"][0]["calls"]  # must be 0
                    print(f"{kind:<14} {rate:>6g} {ok + failed:>6} {ok:>6} {failed:>6} "
                          f"{ok / elapsed:>7.1f} "
                          f"{100 * (after[0] - before[0]) / elapsed:>16.1f} "
                          f"{100 * (after[1] - before[1]) / elapsed:>10.1f} {left:>7}",
                          flush=True)
        finally:
            rig.stop()


if __name__ == "__main__":
    main()
