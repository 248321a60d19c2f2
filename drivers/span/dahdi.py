"""Span backend on DAHDI (a Digium/Sangoma-style E1 card under the dahdi kernel modules).

Address: ``dahdi:N`` for DAHDI span N. Options (mainly for tests and odd
installs): ``root=`` prefixes /sys, /proc, /dev and /etc; ``conf=`` names the
system.conf to manage (default ``/etc/dahdi/system.conf``).

- configure: writes this span's block of system.conf (``span=``, ``bchan=``,
  ``hardhdlc=``, ``alaw=``) and runs ``dahdi_cfg``;
- alarms/counters: ``DAHDI_SPANSTAT`` on /dev/dahdi/ctl, sysfs and /proc as
  fallbacks (:mod:`drivers.span.dahdi_files`);
- D-channel: /dev/dahdi/channel + ``DAHDI_SPECIFY`` on the hardhdlc channel;
  frames arrive with 2 FCS octets, which are stripped (and room for them is
  added on write); pending channel events (``ELAST``) are read with
  ``DAHDI_GETEVENT``;
- B-channels: one /dev/dahdi/channel each, ``DAHDI_SET_BLOCKSIZE`` 160 and
  ``DAHDI_SETLINEAR`` so reads are 160 linear samples (the card does A-law);
- loopback: ``DAHDI_MAINT`` local, remote (network line) or payload loop.

When DAHDI is not loaded this backend says so (:class:`DahdiAbsentError`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from drivers import dahdi_abi as abi
from drivers.registry import DeviceAddress
from drivers.span.base import (
    FRAME_SAMPLES,
    AudioFrames,
    Loopback,
    Span,
    SpanConfig,
    SpanCounters,
    SpanEvent,
)
from drivers.span.dahdi_files import (
    alarms_from_bits,
    merge_system_conf,
    read_proc_span,
    read_sysfs_span,
    sysfs_span_dir,
    system_conf_lines,
)
from drivers.span.errors import (
    DahdiAbsentError,
    SpanInitError,
    SpanLinkLost,
    SpanOperationError,
)

IoctlFn = Callable[[int, int, Any], Any]
OpenFn = Callable[[str, int], int]
RunFn = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]

_MAINT = {Loopback.OFF: abi.MAINT_NONE, Loopback.LOCAL: abi.MAINT_LOCALLOOP,
          Loopback.REMOTE: abi.MAINT_NETWORKLINELOOP,
          Loopback.PAYLOAD: abi.MAINT_NETWORKPAYLOADLOOP}


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


def _fcntl_ioctl(fd: int, request: int, arg: Any) -> Any:
    return fcntl.ioctl(fd, request, arg)


class DahdiSpan(Span):
    """One E1 span of a DAHDI card."""

    def __init__(self, address: str, *, ioctl: IoctlFn = _fcntl_ioctl,
                 opener: OpenFn = os.open, run: RunFn = _run) -> None:
        super().__init__(address)
        parsed = DeviceAddress.parse(address)
        try:
            self.number = int(parsed.target)
        except ValueError:
            raise SpanInitError(f"span address {address!r}: 'dahdi:' needs a span number, "
                                "e.g. 'dahdi:1'") from None
        self.root = Path(parsed.option("root", "/") or "/")
        self.conf = Path(parsed.option("conf", str(self.root / "etc/dahdi/system.conf")) or "")
        self._ioctl = ioctl
        self._open = opener
        self._run = run
        ctl = self.root / "dev/dahdi/ctl"
        if not ctl.exists():
            raise DahdiAbsentError(
                f"span {address}: DAHDI is not loaded on this machine ({ctl} is missing); "
                "load the dahdi modules and the card driver (e.g. 'modprobe wcte13xp'), "
                "or use a 'sim:' span address", errno.ENODEV)
        if not sysfs_span_dir(self.root, self.number).exists():
            raise SpanInitError(f"span {address}: DAHDI has no span {self.number} "
                                f"({sysfs_span_dir(self.root, self.number)} is missing)",
                                errno.ENODEV)
        self.sysfs = read_sysfs_span(self.root, self.number)
        self._ctl = self._open(str(ctl), os.O_RDWR)
        self._dchan_fd: int | None = None
        self._bchan_fds: dict[int, int] = {}
        self._pending: list[SpanEvent] = []
        self._last_bits = -1

    # -- helpers -------------------------------------------------------------------

    def channel_number(self, timeslot: int) -> int:
        """The DAHDI channel number of an E1 timeslot of this span."""
        return self.sysfs.basechan + timeslot - 1

    def _open_channel(self, timeslot: int) -> int:
        fd = self._open(str(self.root / "dev/dahdi/channel"), os.O_RDWR | os.O_NONBLOCK)
        try:
            self._ioctl(fd, abi.DAHDI_SPECIFY, abi.pack_int(self.channel_number(timeslot)))
        except OSError as exc:
            os.close(fd)
            raise SpanInitError(f"span {self.address}: DAHDI_SPECIFY channel "
                                f"{self.channel_number(timeslot)} failed: {exc.strerror}",
                                exc.errno) from exc
        return fd

    def spanstat(self) -> abi.SpanInfo:
        buf = abi.pack_spaninfo_request(self.number)
        try:
            result = self._ioctl(self._ctl, abi.DAHDI_SPANSTAT, buf)
        except OSError as exc:
            raise SpanOperationError(f"span {self.address}: DAHDI_SPANSTAT failed: "
                                     f"{exc.strerror}", exc.errno) from exc
        return abi.unpack_spaninfo(bytes(result) if result is not None else bytes(buf))

    def status(self) -> dict[str, Any]:
        """The common status plus what DAHDI says of the span (sysfs, /proc)."""
        out = super().status()
        out["dahdi"] = {"span": self.number, "name": self.sysfs.name, "desc": self.sysfs.desc,
                        "spantype": self.sysfs.spantype, "basechan": self.sysfs.basechan,
                        "channels": self.sysfs.channels}
        try:
            proc = read_proc_span(self.root, self.number)
        except SpanOperationError as exc:
            out["dahdi"]["proc_error"] = str(exc)
        else:
            out["dahdi"].update(master=proc.master, clock_source=proc.clock_source,
                                lineconfig=proc.lineconfig,
                                channels_in_use=sum(ch.in_use for ch in proc.channels))
        return out

    # -- line side -----------------------------------------------------------------

    def _configure(self, config: SpanConfig) -> None:
        lines = system_conf_lines(self.number, self.sysfs.basechan, config)
        try:
            existing = self.conf.read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = ""
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(merge_system_conf(existing, self.number, lines), encoding="utf-8")
        os.replace(tmp, self.conf)
        try:
            result = self._run(["dahdi_cfg", "-c", str(self.conf)])
        except FileNotFoundError as exc:
            raise DahdiAbsentError(f"span {self.address}: dahdi_cfg not found; install "
                                   "dahdi-tools") from exc
        if result.returncode != 0:
            raise SpanInitError(f"span {self.address}: dahdi_cfg failed "
                                f"({result.returncode}): {result.stderr.strip()}")

    def _loopback_hook(self, mode: Loopback) -> None:
        try:
            self._ioctl(self._ctl, abi.DAHDI_MAINT, abi.pack_maint(self.number, _MAINT[mode]))
        except OSError as exc:
            raise SpanOperationError(f"span {self.address}: DAHDI_MAINT {mode.value} failed: "
                                     f"{exc.strerror}", exc.errno) from exc

    def _control_fileno(self) -> int | None:
        return None  # DAHDI has no span event fd: poll_events() is called periodically

    def _poll_events(self) -> list[SpanEvent]:
        events, self._pending = self._pending, []
        info = self.spanstat()
        counters = SpanCounters(bpv=info.bpvcount, crc4=info.crc4count, ebit=info.ebitcount,
                                fas=info.fascount, slips=self._counters.slips)
        if info.alarms != self._last_bits:
            self._last_bits = info.alarms
            events.append(SpanEvent("alarms", alarms_from_bits(info.alarms), counters))
        elif counters != self._counters:
            events.append(SpanEvent("counters", self._alarms, counters))
        return events

    # -- D-channel -------------------------------------------------------------------

    def _dchannel_fileno(self) -> int:
        if self._dchan_fd is None:
            dchan = self.config.dchannel if self.config else 16
            self._dchan_fd = self._open_channel(dchan)
            self._ioctl(self._dchan_fd, abi.DAHDI_SET_BUFINFO, abi.pack_bufinfo(16, 1024))
        return self._dchan_fd

    def _channel_event(self, fd: int) -> None:
        result = self._ioctl(fd, abi.DAHDI_GETEVENT, abi.pack_int(0))
        event = abi.INT.unpack(bytes(result))[0]
        if event in (abi.DAHDI_EVENT_ALARM, abi.DAHDI_EVENT_NOALARM):
            self._last_bits = -1  # force a fresh SPANSTAT report on the next poll
        elif event == abi.DAHDI_EVENT_REMOVED:
            raise SpanLinkLost(f"span {self.address}: the DAHDI device was removed")
        elif event in (abi.DAHDI_EVENT_BADFCS, abi.DAHDI_EVENT_ABORT, abi.DAHDI_EVENT_OVERRUN):
            self.dframes_rejected += 1

    def _read_dframe(self) -> bytes | None:
        fd = self._dchannel_fileno()
        for _ in range(8):
            try:
                data = os.read(fd, 1024)
            except BlockingIOError:
                return None
            except OSError as exc:
                if exc.errno == abi.ELAST:
                    self._channel_event(fd)
                    continue
                raise SpanOperationError(f"span {self.address}: D-channel read failed: "
                                         f"{exc.strerror}", exc.errno) from exc
            if not data:
                raise SpanLinkLost(f"span {self.address}: D-channel closed")
            return data[:-2]  # strip the FCS the controller delivers
        return None

    def _write_dframe(self, frame: bytes) -> None:
        try:
            os.write(self._dchannel_fileno(), frame + b"\x00\x00")  # room for the FCS
        except BlockingIOError as exc:
            raise SpanOperationError(f"span {self.address}: D-channel transmit buffers full"
                                     ) from exc
        except OSError as exc:
            if exc.errno == abi.ELAST:
                self._channel_event(self._dchannel_fileno())
                raise SpanOperationError(f"span {self.address}: D-channel event pending; "
                                         "frame not sent") from exc
            raise SpanOperationError(f"span {self.address}: D-channel write failed: "
                                     f"{exc.strerror}", exc.errno) from exc

    # -- B-channels ------------------------------------------------------------------

    def _bchannel_fd(self, timeslot: int) -> int:
        fd = self._bchan_fds.get(timeslot)
        if fd is None:
            fd = self._open_channel(timeslot)
            self._ioctl(fd, abi.DAHDI_SET_BLOCKSIZE, abi.pack_int(FRAME_SAMPLES))
            self._ioctl(fd, abi.DAHDI_SETLINEAR, abi.pack_int(1))
            self._bchan_fds[timeslot] = fd
        return fd

    def _timeslots(self) -> tuple[int, ...]:
        return self.config.bchannels if self.config else ()

    def _audio_fileno(self) -> int | None:
        slots = self._timeslots()
        return self._bchannel_fd(slots[0]) if slots else None

    def _read_audio(self) -> dict[int, npt.NDArray[np.int16]] | None:
        out: dict[int, npt.NDArray[np.int16]] = {}
        for ts in self._timeslots():
            try:
                data = os.read(self._bchannel_fd(ts), FRAME_SAMPLES * 2)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == abi.ELAST:
                    self._channel_event(self._bchannel_fd(ts))
                    continue
                raise
            if len(data) == FRAME_SAMPLES * 2:
                out[ts] = np.frombuffer(data, dtype="<i2").copy()
        return out or None

    def _write_audio(self, frames: AudioFrames) -> None:
        silence = np.zeros(FRAME_SAMPLES, np.int16)
        for ts in self._timeslots():
            frame = frames.get(ts, silence)
            with contextlib.suppress(BlockingIOError):  # a full buffer: one frame slips
                os.write(self._bchannel_fd(ts), np.asarray(frame, "<i2").tobytes())

    def _close(self) -> None:
        for fd in [self._ctl, *self._bchan_fds.values()] + (
                [self._dchan_fd] if self._dchan_fd is not None else []):
            with contextlib.suppress(OSError):
                os.close(fd)
