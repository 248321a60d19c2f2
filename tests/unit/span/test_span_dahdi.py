"""DAHDI backend against recorded sysfs/proc trees, with the ioctl boundary faked."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from drivers import dahdi_abi as abi
from drivers.span import Loopback, SpanConfig, open_span
from drivers.span.dahdi import DahdiSpan
from drivers.span.dahdi_files import (
    merge_system_conf,
    parse_proc_span,
    read_proc_span,
    read_sysfs_span,
    system_conf_lines,
)
from drivers.span.errors import DahdiAbsentError, SpanInitError

FIXTURES = Path(__file__).parent / "fixtures"


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (0xDA << 8) | nr


def test_ioctl_numbers_match_user_h_encoding() -> None:
    # user.h: _IOW(DAHDI_CODE, 38, int), _IOWR(DAHDI_CODE, 10, struct dahdi_spaninfo) ...
    assert abi.DAHDI_SPECIFY == 0x4004DA26
    assert _ioc(1, 1, 4) == abi.DAHDI_SET_BLOCKSIZE
    assert _ioc(2, 8, 4) == abi.DAHDI_GETEVENT
    assert _ioc(1, 11, 8) == abi.DAHDI_MAINT
    assert _ioc(1, 40, 4) == abi.DAHDI_SETLINEAR
    # struct dahdi_spaninfo is packed: 4+20+40+3*4+4*4+5*4+7*4+4*40+2*4+6 octets
    assert abi.SPANINFO.size == 314
    assert abi.DAHDI_SPANSTAT == 0xC13ADA0A
    assert abi.LINECONFIG.size == 36 and abi.BUFFERINFO.size == 24


def test_spaninfo_round_trip_offsets() -> None:
    raw = abi.SPANINFO.pack(2, b"WCTE13x/0", b"Card", abi.ALARM_RED | abi.ALARM_LOS, 0, 0,
                            11, 22, 33, 44, 0, 0, 0, 0, 0, 0, 2, 31, 31, 1, 0,
                            abi.CONFIG_CCS | abi.CONFIG_HDB3 | abi.CONFIG_CRC4,
                            b"0 db", b"", b"Digium", b"TE133", 17, 0, b"E1")
    info = abi.unpack_spaninfo(raw)
    assert (info.spanno, info.name, info.spantype) == (2, "WCTE13x/0", "E1")
    assert (info.bpvcount, info.crc4count, info.ebitcount, info.fascount) == (11, 22, 33, 44)
    assert info.alarms == abi.ALARM_RED | abi.ALARM_LOS
    assert abi.pack_maint(1, abi.MAINT_LOCALLOOP) == b"\x01\0\0\0\x01\0\0\0"


def test_sysfs_and_proc_of_a_span_in_service() -> None:
    sysfs = read_sysfs_span(FIXTURES / "te133-ok", 1)
    assert (sysfs.name, sysfs.basechan, sysfs.channels, sysfs.alarms) == ("WCTE13x/0", 1, 31, 0)
    assert sysfs.is_sync_master and sysfs.lineconfig == "CCS/HDB3/CRC4"
    proc = read_proc_span(FIXTURES / "te133-ok", 1)
    assert proc.master and proc.clock_source and proc.alarms == 0
    assert proc.lineconfig == "CCS/HDB3/CRC4"
    assert len(proc.channels) == 31 and proc.channels[15].signalling == "Hardware-assisted HDLC"
    assert all(ch.in_use for ch in proc.channels)


def test_sysfs_and_proc_of_a_span_in_red_alarm() -> None:
    sysfs = read_sysfs_span(FIXTURES / "te133-red", 1)
    assert sysfs.alarms == abi.ALARM_RED | abi.ALARM_LOS | abi.ALARM_LFA
    proc = read_proc_span(FIXTURES / "te133-red", 1)
    assert proc.alarms == abi.ALARM_RED and not proc.master
    assert proc.counters.as_dict() == {"bpv": 1212, "crc4": 37, "ebit": 5, "fas": 19, "slips": 2}


def test_proc_alarm_words_and_garbage() -> None:
    text = 'Span 3: TE4/0/3 "T4XXP Card 0 Span 3" CCS/HDB3 YELLOW LOOP \n'
    proc = parse_proc_span(text)
    assert proc.alarms == abi.ALARM_YELLOW | abi.ALARM_LOOPBACK and proc.lineconfig == "CCS/HDB3"
    with pytest.raises(Exception, match="unexpected first line"):
        parse_proc_span("nonsense\n")


def test_system_conf_lines_for_an_e1_pri() -> None:
    lines = system_conf_lines(2, 32, SpanConfig(clock_priority=2))
    assert lines == ["span=2,2,0,ccs,hdb3,crc4", "bchan=32-46,48-62", "hardhdlc=47",
                     "alaw=32-62"]
    lines = system_conf_lines(1, 1, SpanConfig(crc4=False, linecode="ami", clock_priority=0,
                                               hardhdlc=False, lbo=3))
    assert lines[0] == "span=1,0,3,ccs,ami" and lines[2] == "dchan=16"


def test_merge_keeps_foreign_lines_and_replaces_our_block() -> None:
    base = "loadzone=nl\n"
    once = merge_system_conf(base, 1, ["span=1,1,0,ccs,hdb3,crc4"])
    twice = merge_system_conf(once, 1, ["span=1,0,0,ccs,hdb3"])
    assert twice.startswith("loadzone=nl\n")
    assert "span=1,1,0" not in twice and twice.count("span=1,0,0,ccs,hdb3") == 1


class FakeDahdi:
    """The ioctl/open boundary: records requests, answers SPANSTAT, gives socketpair fds."""

    def __init__(self, alarms: int = 0) -> None:
        self.calls: list[tuple[int, int, bytes]] = []
        self.alarms = alarms
        self.crc4 = 0
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.runs: list[list[str]] = []
        self.spans: list[DahdiSpan] = []

    def ioctl(self, fd: int, request: int, arg: Any) -> Any:
        self.calls.append((fd, request, bytes(arg)))
        if request == abi.DAHDI_SPANSTAT:
            spanno = abi.INT.unpack_from(bytes(arg))[0]
            return abi.SPANINFO.pack(spanno, b"WCTE13x/0", b"", self.alarms, 0, 0, 0,
                                     self.crc4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 31, 31, 1, 0, 0,
                                     b"", b"", b"", b"", 0, 0, b"E1")
        if request == abi.DAHDI_GETEVENT:
            return abi.pack_int(abi.DAHDI_EVENT_BADFCS)
        return arg

    def open(self, path: str, flags: int) -> int:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        self.pairs.append((ours, theirs))
        return ours.detach()

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.runs.append(list(argv))
        return subprocess.CompletedProcess(list(argv), 0, "", "")

    def close(self) -> None:
        for _, theirs in self.pairs:
            theirs.close()


@pytest.fixture
def fake() -> Iterator[FakeDahdi]:
    card = FakeDahdi()
    yield card
    for span in card.spans:
        span.close()
    card.close()


def _span(tmp_path: Path, fake: FakeDahdi, tree: str = "te133-ok") -> DahdiSpan:
    root = tmp_path / tree
    shutil.copytree(FIXTURES / tree, root)
    span = DahdiSpan(f"dahdi:1?root={root}", ioctl=fake.ioctl, opener=fake.open, run=fake.run)
    fake.spans.append(span)
    return span


def test_status_reports_what_dahdi_says(tmp_path: Path, fake: FakeDahdi) -> None:
    status = _span(tmp_path, fake).status()
    assert status["dahdi"]["name"] == "WCTE13x/0" and status["dahdi"]["spantype"] == "E1"
    assert status["dahdi"]["master"] is True and status["dahdi"]["channels_in_use"] == 31


def test_configure_writes_system_conf_and_runs_dahdi_cfg(tmp_path: Path,
                                                         fake: FakeDahdi) -> None:
    span = _span(tmp_path, fake)
    span.configure(SpanConfig())
    conf = (tmp_path / "te133-ok/etc/dahdi/system.conf").read_text()
    assert "loadzone=nl" in conf and "span=1,1,0,ccs,hdb3,crc4" in conf
    assert "hardhdlc=16" in conf and "bchan=1-15,17-31" in conf
    assert fake.runs == [["dahdi_cfg", "-c", str(tmp_path / "te133-ok/etc/dahdi/system.conf")]]


def test_dahdi_cfg_failure_is_reported(tmp_path: Path, fake: FakeDahdi) -> None:
    span = _span(tmp_path, fake)
    span._run = lambda argv: subprocess.CompletedProcess(list(argv), 1, "", "bad span line")
    with pytest.raises(SpanInitError, match=r"dahdi_cfg failed .*bad span line"):
        span.configure(SpanConfig())


def test_dchannel_frames_strip_and_add_fcs_and_specify_channel_16(
        tmp_path: Path, fake: FakeDahdi) -> None:
    span = _span(tmp_path, fake)
    span.configure(SpanConfig())
    span.dchannel_fileno()
    specify = [c for c in fake.calls if c[1] == abi.DAHDI_SPECIFY]
    assert specify[0][2] == abi.pack_int(16)
    _, card = fake.pairs[-1]
    card.send(b"\x02\x01\x01\x00\xaa\xbb")  # RR frame + 2 FCS octets from the controller
    assert span.read_dframe() == b"\x02\x01\x01\x00"
    span.write_dframe(b"\x00\x01\x7f")  # SABME
    assert card.recv(64) == b"\x00\x01\x7f\x00\x00"
    assert span.read_dframe() is None


def test_alarms_and_counters_from_spanstat_and_loopback_maint(
        tmp_path: Path, fake: FakeDahdi) -> None:
    fake.alarms = abi.ALARM_RED | abi.ALARM_LOS
    span = _span(tmp_path, fake, "te133-red")
    fake.crc4 = 37
    events = span.poll_events()
    assert events[0].kind == "alarms" and span.alarms().red and span.alarms().los
    assert span.counters().crc4 == 37
    fake.alarms = 0
    span.poll_events()
    assert not span.alarms().any
    span.loopback(Loopback.REMOTE)
    maint = [c for c in fake.calls if c[1] == abi.DAHDI_MAINT]
    assert maint[-1][2] == abi.pack_maint(1, abi.MAINT_NETWORKLINELOOP)
    span.loopback("payload")
    assert fake.calls[-1][2] == abi.pack_maint(1, 13)  # user.h DAHDI_MAINT_NETWORKPAYLOADLOOP


def test_dahdi_absent_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(DahdiAbsentError, match="DAHDI is not loaded on this machine"):
        open_span(f"dahdi:1?root={tmp_path}")
    if not os.path.exists("/dev/dahdi/ctl"):
        with pytest.raises(DahdiAbsentError, match="modprobe"):
            open_span("dahdi:1")


def test_unknown_span_number_and_bad_address(tmp_path: Path) -> None:
    root = tmp_path / "t"
    shutil.copytree(FIXTURES / "te133-ok", root)
    with pytest.raises(SpanInitError, match="no span 4"):
        open_span(f"dahdi:4?root={root}")
    with pytest.raises(SpanInitError, match="needs a span number"):
        open_span("dahdi:one")


def test_pending_channel_event_is_read_with_getevent(tmp_path: Path, fake: FakeDahdi,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    span = _span(tmp_path, fake)
    span.configure(SpanConfig())
    span.dchannel_fileno()
    results: list[bytes | OSError] = [OSError(abi.ELAST, "event pending"),
                                      b"\x02\x01\x01\x00\x12\x34"]

    def read(fd: int, size: int) -> bytes:
        item = results.pop(0)
        if isinstance(item, OSError):
            raise item
        return item

    monkeypatch.setattr("drivers.span.dahdi.os.read", read)
    assert span.read_dframe() == b"\x02\x01\x01\x00"
    assert any(call[1] == abi.DAHDI_GETEVENT for call in fake.calls)
    assert span.dframes_rejected == 1  # the fake reports DAHDI_EVENT_BADFCS
