"""Validate a static (or DHCP) address and write it as a systemd-networkd ``.network`` file.

The file follows systemd.network(5): ``[Match] Name=``, ``[Network] DHCP=``,
``Address=`` (address/prefix), ``Gateway=``, ``DNS=``. It is written to a
temporary file and renamed so that a power cut never leaves half a file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from dataclasses import dataclass, field

DEFAULT_DIRECTORY = "/etc/systemd/network"
INTERFACE_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")  # IFNAMSIZ - 1


class NetworkError(ValueError):
    """Invalid network settings; ``problems`` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class NetworkSettings:
    interface: str
    dhcp: bool = False
    address: ipaddress.IPv4Interface | None = None
    gateway: ipaddress.IPv4Address | None = None
    dns: tuple[ipaddress.IPv4Address, ...] = field(default_factory=tuple)

    @property
    def file_name(self) -> str:
        return f"10-appliance-{self.interface}.network"


def _prefix(mask: str) -> int:
    text = mask.strip().lstrip("/")
    if text.isdigit():
        prefix = int(text)
        if not 0 < prefix <= 32:
            raise ValueError("prefix length must be 1..32")
        return prefix
    try:
        return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen
    except ValueError as exc:
        raise ValueError(f"{mask!r} is not a netmask (e.g. 255.255.255.0 or 24)") from exc


def parse_settings(
    interface: str,
    address: str = "",
    mask: str = "",
    gateway: str = "",
    dns: str = "",
    *,
    dhcp: bool = False,
) -> NetworkSettings:
    """Check every field and return the settings, or raise NetworkError naming each bad field."""
    problems: dict[str, str] = {}
    if not INTERFACE_PATTERN.match(interface.strip()):
        problems["interface"] = f"{interface!r} is not an interface name (e.g. eth0, enp1s0)"
    servers: list[ipaddress.IPv4Address] = []
    for item in [d for d in re.split(r"[,\s]+", dns.strip()) if d]:
        try:
            servers.append(ipaddress.IPv4Address(item))
        except ValueError:
            problems["dns"] = f"{item!r} is not an IPv4 address"
    if dhcp:
        if problems:
            raise NetworkError(problems)
        return NetworkSettings(interface.strip(), dhcp=True, dns=tuple(servers))
    iface: ipaddress.IPv4Interface | None = None
    host_text = address.strip()
    prefix_text = mask
    if "/" in host_text:
        host_text, prefix_text = host_text.split("/", 1)
    try:
        host = ipaddress.IPv4Address(host_text)
    except ValueError:
        problems["address"] = f"{address!r} is not an IPv4 address (e.g. 192.0.2.10)"
        host = None
    try:
        prefix = _prefix(prefix_text) if prefix_text.strip() else None
        if prefix is None:
            problems["mask"] = "missing (e.g. 255.255.255.0 or 24)"
    except ValueError as exc:
        problems["mask"] = str(exc)
        prefix = None
    if host is not None and prefix is not None:
        iface = ipaddress.IPv4Interface(f"{host}/{prefix}")
        if host.is_multicast or host.is_unspecified or host.is_loopback:
            problems["address"] = f"{host} cannot be a host address"
        elif prefix < 31 and host in (
            iface.network.network_address, iface.network.broadcast_address
        ):
            problems["address"] = f"{host} is the network or broadcast address of {iface.network}"
    gw: ipaddress.IPv4Address | None = None
    if gateway.strip():
        try:
            gw = ipaddress.IPv4Address(gateway.strip())
        except ValueError:
            problems["gateway"] = f"{gateway!r} is not an IPv4 address"
        else:
            if iface is not None and gw not in iface.network:
                problems["gateway"] = f"{gw} is not in the local network {iface.network}"
            elif iface is not None and gw == iface.ip:
                problems["gateway"] = "the gateway cannot be the appliance's own address"
    if problems:
        raise NetworkError(problems)
    return NetworkSettings(interface.strip(), address=iface, gateway=gw, dns=tuple(servers))


def render_network_file(settings: NetworkSettings) -> str:
    """The text of the systemd.network(5) file."""
    lines = [
        "# Written by appliance-console / appliancectl network set-up; edit with care.",
        "[Match]",
        f"Name={settings.interface}",
        "",
        "[Network]",
    ]
    if settings.dhcp:
        lines.append("DHCP=ipv4")
    else:
        assert settings.address is not None
        lines.append(f"Address={settings.address.with_prefixlen}")
        if settings.gateway is not None:
            lines.append(f"Gateway={settings.gateway}")
    lines.extend(f"DNS={server}" for server in settings.dns)
    return "\n".join(lines) + "\n"


def write_network_file(settings: NetworkSettings, directory: str = DEFAULT_DIRECTORY) -> str:
    """Write the file atomically (temp file, fsync, rename); returns its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, settings.file_name)
    fd, tmp = tempfile.mkstemp(prefix=".appliance-", suffix=".network", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_network_file(settings))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_network_file(path: str) -> dict[str, str]:
    """The settings a previously written file holds (for pre-filling the form)."""
    values: dict[str, str] = {"address": "", "mask": "", "gateway": "", "dns": "", "dhcp": ""}
    dns: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            key, _, value = raw.strip().partition("=")
            if key == "Address":
                iface = ipaddress.IPv4Interface(value)
                values["address"] = str(iface.ip)
                values["mask"] = str(iface.netmask)
            elif key == "Gateway":
                values["gateway"] = value
            elif key == "DNS":
                dns.append(value)
            elif key == "DHCP":
                values["dhcp"] = value
    values["dns"] = " ".join(dns)
    return values
