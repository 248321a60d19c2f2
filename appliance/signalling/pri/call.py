"""One PRI call as a visible state machine (Q.931 §2.1.1 user-side call states).

The transition table :data:`TRANSITIONS` is the whole behaviour: a call moves
only along it, anything else is a protocol anomaly, logged and refused.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class CallState(StrEnum):
    """Q.931 §2.1.1 call states (user side); numbers as in the standard."""

    NULL = "U0-null"
    CALL_INITIATED = "U1-call-initiated"
    OUTGOING_PROCEEDING = "U3-outgoing-call-proceeding"
    CALL_DELIVERED = "U4-call-delivered"
    CALL_PRESENT = "U6-call-present"
    CALL_RECEIVED = "U7-call-received"
    INCOMING_PROCEEDING = "U9-incoming-call-proceeding"
    ACTIVE = "U10-active"
    DISCONNECT_REQUEST = "U11-disconnect-request"
    DISCONNECT_INDICATION = "U12-disconnect-indication"
    RELEASE_REQUEST = "U19-release-request"
    OVERLAP_RECEIVING = "U25-overlap-receiving"


S = CallState

# (state, stimulus) -> next state. Stimuli: what we send ("send-*") or receive ("recv-*").
TRANSITIONS: dict[tuple[CallState, str], CallState] = {
    # inbound: Q.931 §5.2
    (S.NULL, "recv-setup"): S.CALL_PRESENT,
    (S.CALL_PRESENT, "send-setup-ack"): S.OVERLAP_RECEIVING,
    (S.OVERLAP_RECEIVING, "recv-info"): S.OVERLAP_RECEIVING,
    (S.OVERLAP_RECEIVING, "send-proceeding"): S.INCOMING_PROCEEDING,
    (S.CALL_PRESENT, "send-proceeding"): S.INCOMING_PROCEEDING,
    (S.INCOMING_PROCEEDING, "send-alerting"): S.CALL_RECEIVED,
    (S.INCOMING_PROCEEDING, "send-connect"): S.ACTIVE,
    (S.CALL_RECEIVED, "send-connect"): S.ACTIVE,
    (S.ACTIVE, "recv-connect-ack"): S.ACTIVE,
    # outbound: Q.931 §5.1
    (S.NULL, "send-setup"): S.CALL_INITIATED,
    (S.CALL_INITIATED, "recv-proceeding"): S.OUTGOING_PROCEEDING,
    (S.CALL_INITIATED, "recv-setup-ack"): S.OUTGOING_PROCEEDING,
    (S.CALL_INITIATED, "recv-alerting"): S.CALL_DELIVERED,
    (S.CALL_INITIATED, "recv-connect"): S.ACTIVE,
    (S.OUTGOING_PROCEEDING, "recv-proceeding"): S.OUTGOING_PROCEEDING,
    (S.OUTGOING_PROCEEDING, "recv-progress"): S.OUTGOING_PROCEEDING,
    (S.OUTGOING_PROCEEDING, "recv-alerting"): S.CALL_DELIVERED,
    (S.OUTGOING_PROCEEDING, "recv-connect"): S.ACTIVE,
    (S.CALL_DELIVERED, "recv-progress"): S.CALL_DELIVERED,
    (S.CALL_DELIVERED, "recv-connect"): S.ACTIVE,
}
# clearing, Q.931 §5.3: from any non-null state
for _state in CallState:
    if _state is S.NULL:
        continue
    TRANSITIONS[(_state, "send-disconnect")] = S.DISCONNECT_REQUEST
    TRANSITIONS[(_state, "recv-disconnect")] = S.DISCONNECT_INDICATION
    TRANSITIONS[(_state, "recv-release")] = S.NULL
    TRANSITIONS[(_state, "local-clear")] = S.NULL  # D-channel lost, restart, alarm
TRANSITIONS[(S.DISCONNECT_INDICATION, "send-release")] = S.RELEASE_REQUEST
TRANSITIONS[(S.DISCONNECT_REQUEST, "recv-release-ack")] = S.NULL

Direction = Literal["inbound", "outbound"]
_ids = itertools.count(1)


class CallStateError(Exception):
    """A stimulus the call's current state does not allow (Q.931 §5.8.4)."""


@dataclass
class PriCall:
    """A call on one span and (once assigned) one B-channel."""

    span: str
    direction: Direction
    channel: int | None
    calling_number: str = ""
    calling_name: str = ""
    presentation: Literal["allowed", "restricted"] = "allowed"
    called_number: str = ""
    state: CallState = CallState.NULL
    cause: int | None = None
    started: float = 0.0
    answered: float | None = None
    ended: float | None = None
    id: int = field(default_factory=lambda: next(_ids))
    history: list[tuple[str, CallState]] = field(default_factory=list)
    processing: float = 0.0  # seconds of appliance-side D-channel processing (libpri + ours)
    handle: Any = field(default=None, repr=False)  # libpri q931_call pointer

    def fire(self, stimulus: str) -> CallState:
        """Move along :data:`TRANSITIONS` or raise :class:`CallStateError`."""
        nxt = TRANSITIONS.get((self.state, stimulus))
        if nxt is None:
            raise CallStateError(
                f"span {self.span} call {self.id} on B{self.channel}: {stimulus!r} "
                f"not allowed in state {self.state.value}"
            )
        self.state = nxt
        self.history.append((stimulus, nxt))
        return nxt

    def can(self, stimulus: str) -> bool:
        return (self.state, stimulus) in TRANSITIONS

    @property
    def cleared(self) -> bool:
        return self.state is CallState.NULL and bool(self.history)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "channel": self.channel,
            "state": self.state.value,
            "calling": self.calling_number,
            "presentation": self.presentation,
            "called": self.called_number,
            "cause": self.cause,
        }
