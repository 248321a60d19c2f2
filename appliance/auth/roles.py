"""Roles as layers of permissions (ADM-2; SEC-2 least privilege, separation of duties).

Every role starts from the *viewer* layer (read the state of the box, no
customer data). An *engineer* adds the maintenance layer (busy-out, loopback,
lifeline test, daemon restart, network set-up) but still sees no customer
data. A *supervisor* adds the call-centre layer (agents, queues, hang-up,
caller numbers). An *admin* holds every layer plus configuration, users and
the database. A single permission can be granted to one user on top of the
role (``appliancectl users grant NAME customer.read``).
"""

from __future__ import annotations

from collections.abc import Iterable

VIEWER_LAYER = frozenset({
    "status.read", "spans.read", "ports.read", "calls.read", "queues.read", "agents.read",
    "power.read", "logs.read",
})
MAINTENANCE_LAYER = frozenset({
    "spans.maintain", "ports.maintain", "power.test", "daemon.restart", "network.configure",
    "config.read",
})
CALL_CENTRE_LAYER = frozenset({
    "calls.control", "agents.control", "queues.control", "customer.read",
})
ADMIN_LAYER = frozenset({
    "config.apply", "users.manage", "db.manage", "audit.read", "ivr.manage",
    "power.control",  # drain telephonyd for a shutdown (powerd's own call) and resume it
})

LAYERS: dict[str, tuple[frozenset[str], ...]] = {
    "viewer": (VIEWER_LAYER,),
    "engineer": (VIEWER_LAYER, MAINTENANCE_LAYER),
    "supervisor": (VIEWER_LAYER, CALL_CENTRE_LAYER),
    "admin": (VIEWER_LAYER, MAINTENANCE_LAYER, CALL_CENTRE_LAYER, ADMIN_LAYER),
}
ROLES: tuple[str, ...] = ("admin", "supervisor", "engineer", "viewer")
PERMISSIONS: frozenset[str] = frozenset().union(*LAYERS["admin"])


def permissions_of(role: str, grants: Iterable[str] = ()) -> frozenset[str]:
    """Every permission of ``role`` plus the user's own ``grants``."""
    if role not in LAYERS:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    extra = set(grants)
    unknown = extra - PERMISSIONS
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(sorted(unknown))}")
    return frozenset().union(*LAYERS[role], extra)
