"""Kamailio's state over its jsonrpcs socket (issue 16): the registered SIP contacts (usrloc,
``ul.dump``) and the banned sources (the ``ipban`` htable: ``htable.dump``, ``htable.delete``)."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from typing import Any

#: Kamailio's jsonrpcs unix datagram socket, in the appliance's run directory.
RPC_SOCKET_NAME = "kamailio-rpc.sock"
BAN_TABLE = "ipban"  # the htable the generated kamailio.cfg bans sources in
LOGIN_FAILURES_TABLE = "loginfail"  # failed digest logins per extension of ours
LOGIN_FAILURES_S = 3600  # counted over the last hour


class RegistrationsError(Exception):
    """Kamailio did not answer ``ul.dump``, or answered something else."""


@dataclass(frozen=True)
class Registration:
    extension: str
    contact: str
    expires: int | None  # seconds left; None for a permanent contact
    user_agent: str
    received: str = ""  # behind a NAT: where its REGISTER came from (the NAT binding)


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
                        received=_received(contact.get("Received")),
                    ))
    except (KeyError, TypeError) as exc:
        raise RegistrationsError(f"unexpected ul.dump reply from Kamailio: missing {exc}") from exc
    return sorted(out, key=lambda r: (r.extension, r.contact))


def _received(value: object) -> str:
    """usrloc's Received (``sip:203.0.113.5:40123``), '' when it is not set."""
    text = str(value or "")
    return "" if text.startswith("[") else text  # "[not set]"


def call(rpc_path: str, method: str, params: list[Any] | None = None,
         timeout: float = 3.0) -> dict[str, Any]:
    """One JSON-RPC request to Kamailio at ``rpc_path`` (blocking: not on the event loop)."""
    with tempfile.TemporaryDirectory(prefix="sip-rpc-") as folder, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
        client.bind(os.path.join(folder, "reply.sock"))
        client.settimeout(timeout)
        request = {"jsonrpc": "2.0", "method": method, "params": params or [], "id": 1}
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
    if not isinstance(reply, dict):
        raise RegistrationsError(f"Kamailio's answer on {rpc_path} is not a JSON-RPC reply")
    return reply


def dump(rpc_path: str, timeout: float = 3.0) -> list[Registration]:
    """Ask Kamailio at ``rpc_path`` for its registrations."""
    return parse_dump(call(rpc_path, "ul.dump", timeout=timeout))


@dataclass(frozen=True)
class Ban:
    source: str  # the banned IP address
    reason: str  # "flood" (pike) or "auth" (failed digest logins)
    expires: int  # seconds left


def _table(rpc_path: str, table: str) -> dict[str, Any]:
    """An htable's entries (name -> value); an empty table is Kamailio's error: none."""
    reply = call(rpc_path, "htable.dump", [table])
    if "error" in reply:
        return {}
    try:
        return {str(e["name"]): e["value"] for slot in reply["result"]
                for e in slot.get("slot", [])}
    except (KeyError, TypeError, AttributeError) as exc:
        raise RegistrationsError(f"unexpected htable.dump reply from Kamailio: {exc}") from exc


def bans(rpc_path: str, ban_seconds: int, table: str = BAN_TABLE) -> list[Ban]:
    """The sources Kamailio bans now: ``ipban`` holds when (unix time, set by the generated
    kamailio.cfg), ``banwhy`` why; the time left is ``ban_seconds`` after that."""
    why = _table(rpc_path, "banwhy")
    out = []
    for source, since in _table(rpc_path, table).items():
        try:
            left = ban_seconds - (time.time() - float(since))
        except (TypeError, ValueError) as exc:
            raise RegistrationsError(f"ban of {source}: bad time {since!r}") from exc
        out.append(Ban(source=source, reason=str(why.get(source, "")),
                       expires=max(0, round(left))))
    return sorted(out, key=lambda b: b.source)


def login_failures(rpc_path: str) -> dict[str, int]:
    """Failed digest logins per extension of ours over the last hour (SEC-4)."""
    out: dict[str, int] = {}
    for extension, count in _table(rpc_path, LOGIN_FAILURES_TABLE).items():
        try:
            out[extension] = int(count)
        except (TypeError, ValueError) as exc:
            raise RegistrationsError(f"failed logins of {extension}: {count!r}") from exc
    return dict(sorted(out.items()))


def lift(rpc_path: str, source: str, table: str = BAN_TABLE) -> bool:
    """Lift the ban on ``source``; False when it was not banned."""
    if all(b.source != source for b in bans(rpc_path, 0, table)):
        return False
    call(rpc_path, "htable.delete", ["banwhy", source])
    reply = call(rpc_path, "htable.delete", [table, source])
    if "error" in reply:
        raise RegistrationsError(f"Kamailio refused to lift {source}: "
                                 f"{reply['error'].get('message')}")
    return True
