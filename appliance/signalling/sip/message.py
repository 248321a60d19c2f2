"""What the back-end reads from a received SIP request's text (RFC 3261 §7, §25.1).

pjsua2 hands an incoming INVITE over as its whole message (``SipRxData.wholeMsg``);
the Request-URI's user is the dialled number (a trunk's DID, IVR-3) and two header
fields say where the call came from: Kamailio's ``X-Appliance-Trunk`` and the
carrier's ``P-Asserted-Identity`` (RFC 3325 §9.1).
"""

from __future__ import annotations

import re

#: The dialled numbers and caller ids the core takes: E.164 at most 15 digits (E.164 §6),
#: plus the prefixes and '+' a carrier may write; anything longer is not a number.
NUMBER = re.compile(r"\+?[0-9*#]{1,20}")


def request_user(message: str) -> str:
    """The user part of the Request-URI on the request line, or '' if it has none."""
    line = message.split("\n", 1)[0].strip()
    parts = line.split(" ")
    return user_of(parts[1]) if len(parts) == 3 else ""


def header(message: str, name: str) -> str | None:
    """The value of the first header field called ``name`` (case-insensitive, §7.3.1),
    folded lines unfolded; None when the message has none."""
    head = message.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    wanted = name.lower()
    lines = head.replace("\r\n", "\n").split("\n")[1:]
    for index, line in enumerate(lines):
        field, colon, value = line.partition(":")
        if colon and field.strip().lower() == wanted:
            for more in lines[index + 1:]:
                if not more[:1].isspace():
                    break
                value += " " + more.strip()
            return value.strip()
    return None


def user_of(uri: str) -> str:
    """The user part of a SIP URI or name-addr (``"A" <sip:2001@host>`` -> ``2001``)."""
    inner = uri.split("<", 1)[1].split(">", 1)[0] if "<" in uri else uri
    inner = inner.split(":", 1)[1] if inner.startswith(("sip:", "sips:", "tel:")) else inner
    user = inner.split("@", 1)[0] if "@" in inner or inner.startswith("+") else ""
    return user.split(";", 1)[0]


def number_of(uri: str | None) -> str:
    """The number a URI names (its user part, if that is a number), else ''."""
    user = user_of(uri) if uri else ""
    return user if NUMBER.fullmatch(user) else ""
