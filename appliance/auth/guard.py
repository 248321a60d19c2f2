"""Who may call what on a control socket (SEC-2, ADM-2; issue 13 "authorisation and audit").

The control server learns each connection's peer from the kernel (SO_PEERCRED,
appliance/runtime/peer.py) and asks a guard for the :class:`Principal` behind
it. The mapping, from the Unix user to an appliance account and its role:

* root and the daemon's own user are ``admin`` (the daemons, the installer,
  systemd; on the box both daemons run as ``appliance`` or root);
* a Unix user whose name is an active appliance account (``appliancectl users
  add NAME --role ROLE``) gets that account's permissions, grants included;
* anyone else gets nothing: membership of the socket's group lets a process
  connect, never act. Only ``ping`` is public.

Every method declares the permission it needs when it is registered
(``ControlServer.register(..., needs=...)``); customer data in answers and
events (numbers, names) is masked for a principal without ``customer.read``
(:func:`mask_customer_data`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from appliance.auth.roles import permissions_of
from appliance.auth.users import AuthError, User, UserStore
from appliance.runtime.peer import Peer
from appliance.store.db import connect

PUBLIC = "public"  # the permission of a method anyone connected may call (``ping``)
CUSTOMER_READ = "customer.read"
# answer and event fields that carry a customer's identity (SEC-3); masked without customer.read
CUSTOMER_FIELDS = frozenset({
    "caller", "callee", "caller_name", "calling", "called", "number", "caller_number",
    "calling_number", "called_number", "calling_name", "connected_number", "redirecting",
})
MASK = "***"


@dataclass(frozen=True)
class Principal:
    """The identity a request acts as: an account (or a Unix user) and what it may do."""

    name: str  # the appliance account, or the Unix user when it has none
    role: str  # admin, supervisor, engineer, viewer; "" for nobody
    permissions: frozenset[str]
    peer: Peer

    def can(self, needs: str) -> bool:
        return needs == PUBLIC or needs in self.permissions

    @property
    def origin(self) -> str:
        """Where the request came from, for the audit log: uid and pid as the kernel said."""
        return f"socket:uid={self.peer.uid}:pid={self.peer.pid}"


def admin(peer: Peer) -> Principal:
    return Principal(peer.user, "admin", permissions_of("admin"), peer)


def nobody(peer: Peer) -> Principal:
    return Principal(peer.user, "", frozenset(), peer)


Guard = Callable[[Peer], Principal]


def owner_guard(peer: Peer) -> Principal:
    """Root and this process's own user are admin; everyone else gets nothing.

    The default of every control server (the simulators, tests): fail closed.
    """
    return admin(peer) if peer.is_owner else nobody(peer)


class AccountGuard:
    """The daemons' guard: owner and root are admin, other Unix users map to their account.

    Called in a worker thread (it reads the database); a missing or unreadable
    database gives other users nothing, never more.
    """

    def __init__(self, database_path: str) -> None:
        self.database_path = database_path

    def __call__(self, peer: Peer) -> Principal:
        if peer.is_owner:
            return admin(peer)
        return self.account(peer.user, peer)

    def account(self, name: str, peer: Peer) -> Principal:
        """Account ``name``'s principal on this connection (nobody if it has none, or it is
        locked or disabled): for a Unix user of that name, or a console acting as it."""
        try:
            account = self._account(name)
        except (sqlite3.Error, ValueError):  # unreadable, or a role this code does not know
            return nobody(peer)
        if account is None or not account.active:
            return nobody(peer)
        return Principal(account.name, account.role, account.permissions, peer)

    def _account(self, name: str) -> User | None:
        conn = connect(self.database_path, readonly=True)
        try:
            return UserStore(sqlite_utils.Database(conn)).get(name)
        except AuthError:  # no such account
            return None
        finally:
            conn.close()


def mask_customer_data(value: Any) -> Any:
    """``value`` with every customer-identity field (:data:`CUSTOMER_FIELDS`) masked."""
    if isinstance(value, dict):
        return {k: (MASK if k in CUSTOMER_FIELDS and v not in (None, "") else
                    mask_customer_data(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_customer_data(v) for v in value]
    return value
