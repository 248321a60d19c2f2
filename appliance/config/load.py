"""Read, validate and cross-check a configuration file."""

from __future__ import annotations

import os
import stat
import tomllib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from appliance.config.errors import ConfigError, ConfigErrors
from appliance.config.locate import LineLocator
from appliance.config.schema import ApplianceConfig
from appliance.config.sections.acd import check_acd
from appliance.config.sections.calls import check_calls
from appliance.config.validate import KeyPath, Problem, build, dotted

DEFAULT_PATH = "/etc/appliance/appliance.toml"
ENV_VAR = "APPLIANCE_CONFIG"
MAX_FILE_BYTES = 1024 * 1024  # a 120-seat site's file is ~50 KB; anything this big is a mistake

_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def config_path_from(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``--config`` wins, then ``$APPLIANCE_CONFIG``, then the default path."""
    env = os.environ if environ is None else environ
    return option or env.get(ENV_VAR) or DEFAULT_PATH


def _cross_check(config: ApplianceConfig) -> list[Problem]:
    problems: list[Problem] = []
    tables: list[tuple[str, list[tuple[str, str]]]] = [
        ("spans", [(s.name, s.address) for s in config.rig.spans]),
        ("ports", [(p.name, p.address) for p in config.rig.ports]),
    ]
    for table, entries in tables:
        seen = Counter(name for name, _ in entries)
        for index, (name, _) in enumerate(entries):
            if seen[name] > 1:
                problems.append(Problem(("rig", table, index, "name"), f"duplicate name {name!r}"))
    addresses = Counter(address for _, entries in tables for _, address in entries)
    for table, entries in tables:
        for index, (_, address) in enumerate(entries):
            if addresses[address] > 1:
                problems.append(
                    Problem(("rig", table, index, "address"), f"address {address!r} is used twice")
                )
    problems.extend(check_acd(config.acd))
    problems.extend(check_calls(config.calls, [s.name for s in config.rig.spans],
                                [p.name for p in config.rig.ports if p.kind == "fxo"],
                                list(config.sip.trunks), _phones(config)))
    problems.extend(_sip_problems(config))
    problems.extend(_ivr_problems(config))
    return problems


def _phones(config: ApplianceConfig) -> list[str]:
    """Every name a phone of ours goes by: FXS port names and extensions, SIP extensions
    bare and as ``sip:NUMBER``."""
    fxs = [p for p in config.rig.ports if p.kind == "fxs"]
    return [*(p.name for p in fxs), *(p.extension for p in fxs if p.extension),
            *config.sip.extensions, *(f"sip:{n}" for n in config.sip.extensions)]


def _sip_problems(config: ApplianceConfig) -> list[Problem]:
    """A trunk and a span or FXO port cannot share a name (outbound routes name them); a
    trunk at the edge's own address would make every phone a carrier."""
    problems: list[Problem] = []
    taken = {*(s.name for s in config.rig.spans), *(p.name for p in config.rig.ports)}
    peers = Counter((t.host, t.port) for t in config.sip.trunks.values())
    for name, trunk in config.sip.trunks.items():
        where: KeyPath = ("sip", "trunks", name)
        if name in taken:
            problems.append(Problem(where, f"trunk {name!r} has the name of a span or port"))
        if (trunk.host, trunk.port) == (config.sip.listen_host, config.sip.listen_port):
            problems.append(Problem(where, f"{trunk.host}:{trunk.port} is the SIP edge itself"))
        if peers[(trunk.host, trunk.port)] > 1:
            problems.append(Problem(where, f"{trunk.host}:{trunk.port} is another trunk's too"))
    return problems


def _ivr_problems(config: ApplianceConfig) -> list[Problem]:
    """Flow validation (appliance.ivr.validate) pointed at the flow it names."""
    from appliance.ivr.validate import validate_ivr  # the IVR package needs this module

    flows = {flow.name: index for index, flow in enumerate(config.ivr.flows)}
    problems: list[Problem] = []
    for message in validate_ivr(config.ivr, [q.name for q in config.acd.queues]):
        name = message.split(",")[0].split(":")[0].removeprefix("flow ").strip()
        path: KeyPath = (
            ("ivr", "flows", flows[name])
            if message.startswith("flow ") and name in flows
            else ("ivr",)
        )
        problems.append(Problem(path, message))
    return problems


def parse_toml(text: str, filename: str = "<config>") -> dict[str, Any]:
    """Parse TOML ``text``; syntax errors and runaway nesting become :class:`ConfigErrors`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)"
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigErrors([ConfigError(filename, line, "", f"TOML syntax: {exc}")]) from exc
    except RecursionError as exc:
        # tomllib parses nested arrays and inline tables recursively: 100k '[' exhaust
        # the interpreter's stack long before memory; no real file nests like that
        raise ConfigErrors(
            [ConfigError(filename, 1, "", "arrays or inline tables nested too deeply")]
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than int() accepts
        raise ConfigErrors([ConfigError(filename, 1, "", f"TOML value: {exc}")]) from exc


def load_config_text(text: str, filename: str = "<config>") -> ApplianceConfig:
    """Validate TOML ``text``; raise :class:`ConfigErrors` with every problem found."""
    data = parse_toml(text, filename)
    problems: list[Problem] = []
    config = build(ApplianceConfig, data, (), problems)
    if not problems:
        problems.extend(_cross_check(config))
    if problems:
        locator = LineLocator(text)
        raise ConfigErrors([_to_error(filename, locator, p.path, p.message) for p in problems])
    return config


def _to_error(filename: str, locator: LineLocator, path: KeyPath, message: str) -> ConfigError:
    return ConfigError(filename, locator.line_of(path), dotted(path), message)


def _line_from_message(message: str) -> int:
    marker = "at line "
    if marker in message:
        tail = message.split(marker, 1)[1]
        digits = "".join(ch for ch in tail.split(",", 1)[0] if ch.isdigit())
        if digits:
            return int(digits)
    return 1


def read_config_file(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Opened non-blocking so that a FIFO with no writer cannot hang the reader,
    then checked with fstat(2) on the open descriptor (no race with a rename):
    FIFOs, devices (``/dev/zero`` never ends), directories and sockets are
    refused, and so is a file over ``limit`` bytes or one that grows past it
    while being read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise _unreadable(path, f"cannot read: {exc.strerror or exc}") from exc
    mode = os.fstat(fd).st_mode
    for test, kind in _FILE_KINDS:
        if test(mode):
            os.close(fd)
            raise _unreadable(path, f"not a regular file ({kind}); refused")
    with os.fdopen(fd, "rb") as handle:
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise _unreadable(path, f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) > limit:
        raise _unreadable(path, f"larger than {limit} bytes; refused")
    return raw


def _unreadable(path: str, message: str) -> ConfigErrors:
    return ConfigErrors([ConfigError(path, 0, "", message)])


def load_config(path: str) -> ApplianceConfig:
    """Read and validate the file at ``path``; unreadable files are reported like errors.

    Blocking (file I/O and parsing): daemons call it in a worker thread.
    """
    raw = read_config_file(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigErrors(
            [ConfigError(path, line, "", "not UTF-8 text (TOML files must be UTF-8)")]
        ) from exc
    return load_config_text(text, path)
