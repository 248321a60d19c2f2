"""The simulator's D-channel pcap dissects in tshark as LAPD/Q.931, nothing malformed."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hil.sim.e1_rig import E1Rig, short_tempdir

pytestmark = pytest.mark.integration

TSHARK = shutil.which("tshark")


async def _traffic(directory: Path) -> None:
    async with E1Rig(directory) as rig:
        line = rig.lines[0]
        inbound = line.sim.place_call(1, "1234", "5551234", restricted=True)
        await asyncio.wait_for(inbound.connected.wait(), 2)
        line.sim.hangup(inbound)
        await asyncio.wait_for(inbound.done.wait(), 2)
        outbound = line.pri.dial("999", "100")
        await rig.wait_for(lambda: outbound.answered is not None)
        line.sim.drop_dframes(to_appliance=1)  # a retransmission shows up in the capture too
        line.pri.hangup(outbound)
        await rig.wait_for(lambda: outbound.ended is not None)


def test_dchannel_pcap_dissects_cleanly_in_tshark() -> None:
    assert TSHARK is not None, "tshark is needed (deps/apt/pri.txt)"
    with short_tempdir() as tmp:
        asyncio.run(_traffic(Path(tmp)))
        pcap = Path(tmp) / "e1-1.pcap"
        fields = subprocess.run(
            [TSHARK, "-r", str(pcap), "-T", "fields", "-E", "separator=;", "-e",
             "frame.protocols", "-e", "q931.message_type", "-e", "_ws.malformed", "-e",
             "_ws.expert.severity"],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout.splitlines()
    rows = [line.split(";") for line in fields]
    assert rows, "empty capture"
    assert all(row[0].startswith("lapd") for row in rows)
    assert not any(row[2] for row in rows), "tshark found malformed frames"
    errors = [row for row in rows if row[3] and int(row[3]) >= 0x00800000]  # PI_ERROR
    assert not errors, errors
    types = Counter(row[1] for row in rows if row[1])
    # SETUP, CALL PROCEEDING, ALERTING, CONNECT, DISCONNECT, RELEASE, RELEASE COMPLETE, RESTART
    for message in ("0x05", "0x02", "0x01", "0x07", "0x45", "0x4d", "0x5a", "0x46", "0x4e"):
        assert types[message] >= 1, (message, types)
