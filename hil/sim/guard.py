"""Who may drive a simulator: the technician who started the rig, or root.

The simulators' control sockets (``hil ctl``) change the far end of a test (a
carrier's call, a mains failure), so like the daemons' they fail closed: a
process of another Unix user can connect (the socket is 0660) but not act.
"""

from __future__ import annotations

from appliance.auth.guard import CUSTOMER_READ, Principal, nobody
from appliance.runtime.peer import Peer

RIG_CONTROL = "rig.control"  # the one permission every simulator method needs


def rig_guard(peer: Peer) -> Principal:
    if peer.is_owner:
        # the rig's callers are synthetic: the technician sees their numbers unmasked
        return Principal(peer.user, "technician", frozenset({RIG_CONTROL, CUSTOMER_READ}), peer)
    return nobody(peer)
