"""``[host]``: the host operating-system commands and folders the appliance changes.

On the box these are systemd's own (systemd.network(5) files applied by
``networkctl reload``, daemons restarted by ``systemctl restart``); the demo
and tests point them at stand-ins that only log what they would do
(``appliance.demo.standin``), so nothing runs on the developer's machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config.validate import setting


def argv_check(value: object) -> str | None:
    """A command given as argv: a non-empty list of non-empty strings (no shell)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        return "the command must be a non-empty list of non-empty strings (argv)"
    return None


# list-valued fields (declared apart: their defaults are factories)
_NETWORK_APPLY = setting(
    doc="Command run after the console writes a network file (argv); it makes networkd "
    "take the new file",
    default_factory=lambda: ["networkctl", "reload"],
    check=argv_check,
)
_RESTART_COMMAND = setting(
    doc="Command the console runs to restart a daemon (argv; {daemon} becomes "
    "'telephonyd' or 'powerd')",
    default_factory=lambda: ["systemctl", "restart", "appliance-{daemon}.service"],
    check=argv_check,
)


@dataclass(frozen=True)
class HostSection:
    network_dir: str = setting(
        "/etc/systemd/network",
        doc="Folder the first-boot network screen writes its systemd.network(5) file to",
    )
    network_apply: list[str] = _NETWORK_APPLY
    restart_command: list[str] = _RESTART_COMMAND
    interface: str = setting(
        "eth0", doc="Interface the first-boot network screen sets up",
        pattern=r"[A-Za-z0-9_.:-]{1,15}",
    )
