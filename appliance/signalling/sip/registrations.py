"""The registered SIP contacts, from Kamailio's usrloc (``ul.dump`` over jsonrpcs, issue 16)."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from dataclasses import dataclass
from typing import Any

#: Kamailio's jsonrpcs unix datagram socket, in the appliance's run directory.
RPC_SOCKET_NAME = "kamailio-rpc.sock"


class RegistrationsError(Exception):
    """Kamailio did not answer ``ul.dump``, or answered something else."""


@dataclass(frozen=True)
class Registration:
    extension: str
    contact: str
    expires: int | None  # seconds left; None for a permanent contact
    user_agent: str


def rpc_socket(run_dir: str) -> str:
    return os.path.join(run_dir, RPC_SOCKET_NAME)


def parse_dump(reply: dict[str, Any]) -> list[Registration]:
    """The contacts of a ``ul.dump`` reply, by extension then contact."""
    if "error" in reply:
        raise RegistrationsError(f"Kamailio refused ul.dump: {reply['error'].get('message')}")
    out: list[Registration] = []
    try:
        for domain in reply["result"]["Domains"]:
            for aor in domain["Domain"]["AoRs"]:
                info = aor["Info"]
                for entry in info["Contacts"]:
                    contact = entry["Contact"]
                    expires = contact["Expires"]
                    out.append(Registration(
                        extension=str(info["AoR"]), contact=str(contact["Address"]),
                        expires=expires if isinstance(expires, int) else None,
                        user_agent=str(contact.get("User-Agent", "")),
                    ))
    except (KeyError, TypeError) as exc:
        raise RegistrationsError(f"unexpected ul.dump reply from Kamailio: missing {exc}") from exc
    return sorted(out, key=lambda r: (r.extension, r.contact))


def dump(rpc_path: str, timeout: float = 3.0) -> list[Registration]:
    """Ask Kamailio at ``rpc_path`` for its registrations (blocking: not on the event loop)."""
    with tempfile.TemporaryDirectory(prefix="sip-rpc-") as folder, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
        client.bind(os.path.join(folder, "reply.sock"))
        client.settimeout(timeout)
        request = {"jsonrpc": "2.0", "method": "ul.dump", "id": 1}
        try:
            client.sendto(json.dumps(request).encode(), rpc_path)
            data = client.recv(1 << 20)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise RegistrationsError(
                f"Kamailio is not running (no RPC socket at {rpc_path})") from exc
        except TimeoutError as exc:
            raise RegistrationsError(
                f"Kamailio did not answer on {rpc_path} in {timeout:g} s") from exc
    try:
        reply = json.loads(data)
    except ValueError as exc:
        raise RegistrationsError(f"Kamailio's answer on {rpc_path} is not JSON: {exc}") from exc
    return parse_dump(reply)
