"""First-boot network set-up written as systemd-networkd files (OPS-1)."""

from appliance.network.networkd import (
    NetworkError,
    NetworkSettings,
    parse_settings,
    read_network_file,
    render_network_file,
    write_network_file,
)

__all__ = [
    "NetworkError",
    "NetworkSettings",
    "parse_settings",
    "read_network_file",
    "render_network_file",
    "write_network_file",
]
