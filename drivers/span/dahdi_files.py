"""What DAHDI shows and reads as text: sysfs span attributes, /proc/dahdi/N, system.conf.

Formats follow dahdi-linux: ``drivers/dahdi/dahdi-sysfs.c`` (span attributes,
``alarms`` as ``0x%x``), ``dahdi-base.c`` ``dahdi_seq_show`` (the /proc file,
alarm words BLUE/YELLOW/RED/LOOP/RECOVERING/NOTOPEN, counters printed only
when non-zero) and dahdi-tools' ``system.conf`` syntax (``span=``, ``bchan=``,
``hardhdlc=``/``dchan=``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from drivers import dahdi_abi as abi
from drivers.span.base import SpanAlarms, SpanConfig, SpanCounters
from drivers.span.errors import SpanOperationError

_PROC_HEAD = re.compile(r'^Span (\d+): (?:(\S+) )?"([^"]*)"( \(MASTER\))?(?: (\S+))? ?(.*)$')
_PROC_COUNTERS = {
    "BPV count": "bpv",
    "CRC4 error count": "crc4",
    "E-bit error count": "ebit",
    "FAS error count": "fas",
    "Timing slips": "slips",
}
_PROC_CHANNEL = re.compile(r"^\s+(\d+) (\S+) ?(.*)$")
_ALARM_WORDS = {"BLUE": abi.ALARM_BLUE, "YELLOW": abi.ALARM_YELLOW, "RED": abi.ALARM_RED,
                "LOOP": abi.ALARM_LOOPBACK, "RECOVERING": abi.ALARM_RECOVER,
                "NOTOPEN": abi.ALARM_NOTOPEN}


def alarms_from_bits(bits: int) -> SpanAlarms:
    """DAHDI_ALARM_* bits to alarms; RED without LOS/LFA detail counts as loss of frame."""
    red = bool(bits & abi.ALARM_RED)
    los = bool(bits & abi.ALARM_LOS) or (red and not bits & (abi.ALARM_LFA | abi.ALARM_LMFA))
    lof = bool(bits & (abi.ALARM_LFA | abi.ALARM_LMFA))
    return SpanAlarms(los=los, lof=lof, yellow=bool(bits & abi.ALARM_YELLOW),
                      blue=bool(bits & abi.ALARM_BLUE), loopback=bool(bits & abi.ALARM_LOOPBACK))


@dataclass(frozen=True)
class SysfsSpan:
    """``/sys/bus/dahdi_spans/devices/span-N``."""

    number: int
    name: str
    desc: str
    alarms: int
    basechan: int
    channels: int
    spantype: str
    lineconfig: str
    syncsrc: int
    is_sync_master: bool


def sysfs_span_dir(root: Path, number: int) -> Path:
    return root / "sys/bus/dahdi_spans/devices" / f"span-{number}"


def read_sysfs_span(root: Path, number: int) -> SysfsSpan:
    directory = sysfs_span_dir(root, number)

    def attr(name: str, default: str | None = None) -> str:
        path = directory / name
        try:
            return path.read_text(encoding="ascii").strip()
        except OSError as exc:
            if default is not None:
                return default
            raise SpanOperationError(f"DAHDI span {number}: cannot read {path}: "
                                     f"{exc.strerror}", exc.errno) from exc

    try:
        return SysfsSpan(
            number=number, name=attr("name"), desc=attr("desc", ""),
            alarms=int(attr("alarms"), 16), basechan=int(attr("basechan")),
            channels=int(attr("channels")), spantype=attr("spantype", "?"),
            lineconfig=attr("lineconfig", ""), syncsrc=int(attr("syncsrc", "0")),
            is_sync_master=attr("is_sync_master", "0") == "1",
        )
    except ValueError as exc:
        raise SpanOperationError(f"DAHDI span {number}: unexpected sysfs value in "
                                 f"{directory}: {exc}") from exc


@dataclass(frozen=True)
class ProcChannel:
    number: int
    name: str
    signalling: str
    in_use: bool


@dataclass(frozen=True)
class ProcSpan:
    """``/proc/dahdi/N`` as dahdi_seq_show writes it."""

    number: int
    name: str
    desc: str
    master: bool
    lineconfig: str
    alarms: int
    clock_source: bool
    counters: SpanCounters
    channels: list[ProcChannel] = field(default_factory=list)


def parse_proc_span(text: str) -> ProcSpan:
    lines = text.splitlines()
    if not lines:
        raise SpanOperationError("/proc/dahdi span file is empty")
    head = _PROC_HEAD.match(lines[0])
    if head is None:
        raise SpanOperationError(f"/proc/dahdi: unexpected first line {lines[0]!r}")
    number, name, desc, master, lineconfig, rest = head.groups()
    if lineconfig in _ALARM_WORDS or lineconfig == "ClockSource":
        rest = f"{lineconfig} {rest}"
        lineconfig = ""
    words = rest.split()
    alarms = 0
    for word in words:
        alarms |= _ALARM_WORDS.get(word, 0)
    counts: dict[str, int] = {}
    channels: list[ProcChannel] = []
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped:
            continue
        label, sep, value = stripped.partition(":")
        if sep and label in _PROC_COUNTERS:
            counts[_PROC_COUNTERS[label]] = int(value)
            continue
        channel = _PROC_CHANNEL.match(line)
        if channel is not None:
            signalling = channel.group(3).replace("(In use)", "").strip()
            channels.append(ProcChannel(int(channel.group(1)), channel.group(2), signalling,
                                        "(In use)" in channel.group(3)))
    return ProcSpan(int(number), name or "", desc, bool(master), lineconfig or "", alarms,
                    "ClockSource" in words, SpanCounters(**counts), channels)


def read_proc_span(root: Path, number: int) -> ProcSpan:
    path = root / "proc/dahdi" / str(number)
    try:
        return parse_proc_span(path.read_text(encoding="ascii", errors="replace"))
    except OSError as exc:
        raise SpanOperationError(f"DAHDI span {number}: cannot read {path}: {exc.strerror}",
                                 exc.errno) from exc


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], -1]:
        if n == prev + 1:
            prev = n
            continue
        out.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = n
    return ",".join(out)


def system_conf_lines(span: int, basechan: int, config: SpanConfig) -> list[str]:
    """dahdi-tools system.conf lines for one E1 span (``span=<n>,<timing>,<lbo>,<framing>,
    <coding>[,crc4]``; B-channels ``bchan=``; D-channel ``hardhdlc=`` or ``dchan=``)."""
    framing = config.framing
    options = f"{config.linecode}" + (",crc4" if config.crc4 else "")
    lines = [f"span={span},{config.clock_priority},{config.lbo},{framing},{options}"]
    bchans = [basechan + ts - 1 for ts in sorted(config.bchannels)]
    lines.append(f"bchan={_ranges(bchans)}")
    dchan = basechan + config.dchannel - 1
    lines.append(f"{'hardhdlc' if config.hardhdlc else 'dchan'}={dchan}")
    lines.append(f"alaw={_ranges(sorted([*bchans, dchan]))}")
    return lines


BEGIN = "# BEGIN appliance span {span} (generated; edits here are overwritten)"
END = "# END appliance span {span}"


def merge_system_conf(existing: str, span: int, lines: list[str]) -> str:
    """Replace (or append) this span's generated block in system.conf, leaving the rest."""
    begin, end = BEGIN.format(span=span), END.format(span=span)
    out: list[str] = []
    skipping = False
    for line in existing.splitlines():
        if line == begin:
            skipping = True
            continue
        if skipping:
            if line == end:
                skipping = False
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    block = [begin, *lines, end]
    return "\n".join([*out, "", *block] if out else block) + "\n"


def lineconfig_bits(config: SpanConfig) -> int:
    bits = abi.CONFIG_CCS if config.framing == "ccs" else 0
    bits |= abi.CONFIG_HDB3 if config.linecode == "hdb3" else abi.CONFIG_AMI
    if config.crc4:
        bits |= abi.CONFIG_CRC4
    return bits
