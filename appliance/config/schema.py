"""The whole configuration file: ``/etc/appliance/appliance.toml``.

Every table of the file is a frozen dataclass; ``appliancectl config show``
prints the effective values with defaults filled in, and docs/configuration.md
documents each key from the ``doc`` given here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from appliance.config.sections.acd import AcdSection
from appliance.config.sections.addresses import address_check
from appliance.config.sections.calls import CallsSection
from appliance.config.sections.host import HostSection
from appliance.config.sections.ivr import IvrSection
from appliance.config.sections.media import MediaSection
from appliance.config.sections.ports import PortEntry
from appliance.config.sections.power import PowerSection
from appliance.config.sections.recording import RecordingSection
from appliance.config.sections.sip import SipSection
from appliance.config.sections.spans import SpanEntry
from appliance.config.sections.stats import StatsSection
from appliance.config.validate import setting


@dataclass(frozen=True)
class PathsSection:
    state_dir: str = setting("/var/lib/appliance", doc="Database, recordings and other state")
    run_dir: str = setting("/run/appliance", doc="Control sockets and other runtime files")
    database: str = setting("", doc="SQLite database file; empty means STATE_DIR/appliance.db")
    recordings_dir: str = setting("", doc="Recordings root; empty means STATE_DIR/recordings")
    socket_group: str = setting(
        "", doc="Group given the control sockets (mode 0660); empty means the daemon's own group. "
                "Connecting is not acting: each request is checked against the caller's account",
        pattern=r"^([a-z_][a-z0-9_-]*)?$", max_length=32)

    @property
    def database_path(self) -> str:
        return self.database or os.path.join(self.state_dir, "appliance.db")

    @property
    def recordings_path(self) -> str:
        return self.recordings_dir or os.path.join(self.state_dir, "recordings")


@dataclass(frozen=True)
class LoggingSection:
    level: Literal["debug", "info", "notice", "warning", "error"] = setting(
        "info", doc="Lowest level written to the log"
    )
    target: Literal["auto", "journal", "stderr"] = setting(
        "auto", doc="'auto' writes to the journal under systemd, to stderr otherwise"
    )


@dataclass(frozen=True)
class DaemonSection:
    control_socket: str = setting("", doc="UNIX control socket; empty means RUN_DIR/<daemon>.sock")
    watchdog_fraction: float = setting(
        0.5, doc="Pet the systemd watchdog at this fraction of WatchdogSec", gt=0.0, le=0.9
    )
    stop_timeout: float = setting(
        2.0, doc="Seconds allowed for a graceful stop after SIGTERM", gt=0.0, le=30.0
    )


@dataclass(frozen=True)
class RigSection:
    spans: list[SpanEntry] = setting(doc="E1 spans", default_factory=list)
    ports: list[PortEntry] = setting(doc="Analog FXO/FXS ports", default_factory=list)
    board: str = setting(
        "i2c:/dev/i2c-1",
        doc="Board I2C bus (relays, sensors, EEPROM): 'i2c:/dev/i2c-N' or 'sim:/path/board.sock'",
        check=address_check("i2c", "sim"),
    )
    ups: str = setting(
        "nut://ups@127.0.0.1:3493",
        doc="UPS: 'nut://NAME@HOST:PORT' or 'serial:/dev/ttyS1?protocol=megatec'",
        check=address_check("nut", "serial", "sim"),
    )
    watchdog: str = setting(
        "dev:/dev/watchdog",
        doc="Hardware watchdog: 'dev:/dev/watchdog' or 'sim:/path/to/watchdog.sock'",
        check=address_check("dev", "sim"),
    )
    simulator_rig: str = setting(
        "", doc="hil rig file whose simulators stand behind the 'sim:' addresses (demo and tests)"
    )


@dataclass(frozen=True)
class ApplianceConfig:
    paths: PathsSection = setting(doc="Where state lives", default_factory=PathsSection)
    logging: LoggingSection = setting(doc="Logging", default_factory=LoggingSection)
    telephonyd: DaemonSection = setting(doc="appliance-telephonyd", default_factory=DaemonSection)
    powerd: DaemonSection = setting(doc="appliance-powerd", default_factory=DaemonSection)
    rig: RigSection = setting(
        doc="Hardware and where each piece is reached", default_factory=RigSection
    )
    media: MediaSection = setting(doc="Media engine and tone plans", default_factory=MediaSection)
    calls: CallsSection = setting(
        doc="Call core: outbound route for outside numbers", default_factory=CallsSection
    )
    acd: AcdSection = setting(doc="Queues, agents and skills", default_factory=AcdSection)
    ivr: IvrSection = setting(
        doc="IVR flows, schedules and caller lists", default_factory=IvrSection
    )
    recording: RecordingSection = setting(
        doc="Call recording, retention and QA", default_factory=RecordingSection
    )
    stats: StatsSection = setting(doc="Statistics thresholds", default_factory=StatsSection)
    sip: SipSection = setting(
        doc="SIP edge (Kamailio) and pjsua2 back-end", default_factory=SipSection
    )
    power: PowerSection = setting(doc="Power policy and lifeline", default_factory=PowerSection)
    host: HostSection = setting(
        doc="Host commands and folders the appliance changes", default_factory=HostSection
    )

    def daemon(self, name: Literal["telephonyd", "powerd"]) -> DaemonSection:
        section: DaemonSection = getattr(self, name)
        return section

    def control_socket(self, daemon: Literal["telephonyd", "powerd"]) -> str:
        return self.daemon(daemon).control_socket or os.path.join(
            self.paths.run_dir, f"{daemon}.sock"
        )
