"""Span contract checks, G.711 A-law, the simulator wire format and the LAPD pcap header."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from drivers.span import BCHANNELS, SpanConfig, SpanInitError, SpanOperationError, open_span
from drivers.span.base import SpanAlarms
from drivers.span.g711 import ALAW_SILENCE, alaw_decode, alaw_encode
from drivers.span.sim import TDM_BLOCK, SimSpan, pack_tdm, unpack_tdm
from hil.sim.e1_pcap import LINKTYPE_LINUX_LAPD, LapdPcapWriter, lapd_pseudo_header


def test_alaw_table_points_from_g711() -> None:
    # G.711 Table 1a: code 0xD5 decodes to +8, 0x55 to -8; full scale 0xAA -> +32256
    assert list(alaw_decode(bytes([0xD5, 0x55, 0xAA, 0x2A]))) == [8, -8, 32256, -32256]
    assert alaw_encode(np.array([0], np.int16))[0] == ALAW_SILENCE


def test_alaw_round_trip_error_is_within_half_a_step() -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int16)
    y = alaw_decode(alaw_encode(x)).astype(np.int32)
    step = np.maximum(16, np.abs(x.astype(np.int32)) >> 4)  # segment step size (G.711 §A)
    assert np.all(np.abs(y - x) <= step)


def test_tdm_block_layout_is_g704_frames() -> None:
    octets = {1: np.full(160, 0x11, np.uint8), 31: np.arange(160, dtype=np.uint8)}
    data = pack_tdm(octets, ts0=np.full(160, 0x1B, np.uint8))
    assert len(data) == TDM_BLOCK == 5120
    assert data[0] == 0x1B and data[1] == 0x11 and data[16] == 0x7E and data[31] == 0
    assert data[32 + 31] == 1  # second frame, timeslot 31
    block = unpack_tdm(data)
    assert block.shape == (160, 32)
    with pytest.raises(SpanOperationError, match="TDM block of 3 octets"):
        unpack_tdm(b"abc")


def test_span_config_limits() -> None:
    with pytest.raises(ValueError, match="timeslot 16"):
        SpanConfig(bchannels=(1, 16))
    with pytest.raises(ValueError, match="line build-out"):
        SpanConfig(lbo=9)
    assert len(BCHANNELS) == 30 and 16 not in BCHANNELS


def test_alarm_names() -> None:
    assert SpanAlarms(los=True, yellow=True).names() == ["red", "yellow"]
    assert SpanAlarms(blue=True).as_dict()["red"] is False
    assert not SpanAlarms().any


def _sim_pair(tmp_path: Path) -> tuple[SimSpan, dict[str, socket.socket]]:
    servers = {}
    path = tmp_path / "e1.sock"
    for role, suffix in (("control", ""), ("dchan", ".dchan"), ("tdm", ".tdm")):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.bind(str(path) + suffix)
        sock.listen(1)
        servers[role] = sock
    span = open_span(f"sim:{path}")
    assert isinstance(span, SimSpan)
    far = {role: s.accept()[0] for role, s in servers.items()}
    for server in servers.values():
        server.close()
    return span, far


def test_sim_backend_keeps_frame_boundaries_and_rejects_runts(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    span, far = _sim_pair(tmp_path)
    far["dchan"].send(b"\x02\x01\x7f")
    far["dchan"].send(b"\x02")  # a runt: shorter than a LAPD header
    far["dchan"].send(b"\x02\x01\x01\x02")
    assert span.read_dframe() == b"\x02\x01\x7f"
    assert span.read_dframe() == b"\x02\x01\x01\x02"
    assert span.dframes_rejected == 1 and "discarded" in caplog.text
    span.write_dframe(b"\x00\x01\x73")
    assert far["dchan"].recv(100) == b"\x00\x01\x73"
    with pytest.raises(SpanOperationError, match="not LAPD"):
        span.write_dframe(b"\x00")
    far["dchan"].close()
    with pytest.raises(Exception, match="closed the D-channel link"):
        span.read_dframe()
    span.close()
    span.close()  # safe twice
    for sock in far.values():
        sock.close()


def test_sim_backend_audio_and_line_events(tmp_path: Path) -> None:
    span, far = _sim_pair(tmp_path)
    tone = (np.sin(np.arange(160) * 0.3) * 8000).astype(np.int16)
    far["tdm"].send(pack_tdm({5: alaw_encode(tone)}))
    frames = span.read_audio()
    assert frames is not None and set(frames) == set(BCHANNELS)
    assert np.max(np.abs(frames[5].astype(int) - tone)) < 300
    assert not frames[6].any() or np.max(np.abs(frames[6])) <= 8
    span.write_audio({7: tone})
    back = unpack_tdm(far["tdm"].recv(TDM_BLOCK))
    assert np.max(np.abs(alaw_decode(np.ascontiguousarray(back[:, 7])).astype(int) - tone)) < 300
    with pytest.raises(SpanOperationError, match="timeslot 16 is not a B-channel"):
        span.write_audio({16: tone})
    far["control"].send(b'{"event": "line", "alarms": {"los": true}, "counters": {"crc4": 3}}')
    events = span.poll_events()
    assert events[0].kind == "alarms" and span.alarms().red and span.counters().crc4 == 3
    far["control"].send(b"garbage")
    with pytest.raises(SpanOperationError, match="bad control message"):
        span.poll_events()
    span.configure(SpanConfig(crc4=False))
    assert b'"crc4": false' in far["control"].recv(4096)
    span.close()
    for sock in far.values():
        sock.close()


def test_sim_backend_without_simulator_says_so(tmp_path: Path) -> None:
    with pytest.raises(SpanInitError, match="cannot reach the E1 simulator"):
        open_span(f"sim:{tmp_path}/absent.sock")


def test_lapd_pcap_header_and_record(tmp_path: Path) -> None:
    assert lapd_pseudo_header(True, True) == struct.pack(">HHH8sH", 4, 0x0339, 1,
                                                         b"\x01" + bytes(7), 0x0030)
    writer = LapdPcapWriter(tmp_path / "d.pcap", clock=lambda: 1.5)
    writer.write(b"\x00\x01\x7f", outgoing=False)
    writer.close()
    data = (tmp_path / "d.pcap").read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, linktype) == (0xA1B2C3D4, LINKTYPE_LINUX_LAPD)
    sec, usec, incl, orig = struct.unpack("<IIII", data[24:40])
    assert (sec, usec, incl, orig) == (1, 500000, 19, 19)
    assert data[40:42] == b"\x00\x00" and data[-3:] == b"\x00\x01\x7f"
