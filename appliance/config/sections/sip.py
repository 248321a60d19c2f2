"""``[sip]``: the SIP edge (Kamailio) and the pjsua2 back-end behind it (issue 16; docs/sip.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from appliance.config.validate import setting

#: Digest passwords are written into the generated kamailio.cfg as string literals:
#: this character set cannot break out of one (no quote, backslash, ``$`` or ``#``).
PASSWORD_PATTERN = r"[A-Za-z0-9!%&()*+,\-./:;<=>?@\[\]^_{|}~]{8,64}"


def _password(value: Any) -> str | None:
    # Never echo the value: a configuration error must not print a secret.
    if isinstance(value, str) and not re.fullmatch(PASSWORD_PATTERN, value):
        return ("must be 8 to 64 characters of letters, digits and punctuation"
                " other than ' \" \\ $ #")
    return None


def _extension_numbers(extensions: Any) -> str | None:
    bad = [name for name in extensions if not (name.isascii() and name.isdigit())]
    if bad:
        return f"extension numbers must be digits, not {', '.join(sorted(bad))}"
    return None


@dataclass(frozen=True)
class SipExtension:
    password: str = setting(
        doc="Digest password of this extension (RFC 3261 §22), 8 to 64 characters",
        check=_password,
    )


def _trunk_names(trunks: Any) -> str | None:
    bad = [name for name in trunks if not re.fullmatch(r"[a-z][a-z0-9-]{0,31}", name)]
    if bad:
        return ("trunk names are a lower-case letter, then letters, digits or '-', "
                f"at most 32: not {', '.join(sorted(bad))}")
    return None


@dataclass(frozen=True)
class SipTrunk:
    """A carrier's SIP trunk authenticated by its address (an IP peer)."""

    host: str = setting(
        doc="IPv4 address the carrier's SIP server sends from and takes calls on; requests "
        "from it are the carrier's (no digest login), so it must be the carrier's own",
        pattern=r"(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}",
    )
    port: int = setting(5060, doc="The carrier's UDP port", ge=1, le=65535)
    max_calls: int = setting(
        30, doc="Concurrent calls on this trunk, both ways (the carrier's channel count "
        "and a toll-fraud ceiling on outbound calls)", ge=1, le=512,
    )


@dataclass(frozen=True)
class SipSection:
    enabled: bool = setting(
        False, doc="Run the SIP back-end in telephonyd and seat agents on SIP extensions"
    )
    listen_host: str = setting(
        "127.0.0.1", doc="Address Kamailio listens on for phones (loopback unless opened)",
        pattern=r"[0-9.]{7,15}",
    )
    listen_port: int = setting(5060, doc="UDP port Kamailio listens on", ge=1, le=65535)
    backend_port: int = setting(
        5070, doc="Loopback UDP port of the pjsua2 back-end inside telephonyd", ge=1, le=65535
    )
    domain: str = setting(
        "appliance.local", doc="SIP domain and digest realm of the extensions",
        pattern=r"[A-Za-z0-9.-]{1,253}",
    )
    max_calls: int = setting(
        32, doc="Concurrent calls of the pjsua2 back-end, up to the pjproject build's "
        "PJSUA_MAX_CALLS (4 for the pjsua2-python wheel; docs/sip.md)", ge=1, le=512
    )
    expires_max: int = setting(
        3600, doc="Longest registration Kamailio grants, seconds", ge=60, le=86400
    )
    ban_seconds: int = setting(
        600, doc="How long a source that floods or keeps failing digest login is banned, s",
        ge=10, le=86400,
    )
    auth_failures: int = setting(
        5, doc="Failed digest logins from one source before it is banned", ge=2, le=100
    )
    flood_requests: int = setting(
        40, doc="Requests from one source in 2 s above which it is banned (pike)", ge=5, le=10000
    )
    extensions: dict[str, SipExtension] = setting(
        doc="SIP extensions by number, with their credentials", default_factory=dict,
        check=_extension_numbers,
    )
    trunks: dict[str, SipTrunk] = setting(
        doc="SIP trunks by name (IP-authenticated carriers): inbound calls by DID into the "
        "[ivr] routes (route 'trunk' = the name), outbound through [calls] outbound_trunks",
        default_factory=dict, check=_trunk_names,
    )
