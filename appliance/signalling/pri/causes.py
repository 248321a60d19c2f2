"""Q.850 cause values and their mapping to what the application means.

ITU-T Q.850 Table 1 lists the cause values; the application speaks of
reasons ("busy", "no-answer", "congestion"...). Both directions are mapped
here so DISCONNECTs we send carry the right cause and those we receive become
a reason a statistic or an IVR can use.
"""

from __future__ import annotations

from typing import Final

# Q.850 Table 1 (subset used on EuroISDN/QSIG PRI)
UNALLOCATED: Final = 1
NO_ROUTE_DESTINATION: Final = 3
CHANNEL_UNACCEPTABLE: Final = 6
NORMAL_CLEARING: Final = 16
USER_BUSY: Final = 17
NO_USER_RESPONSE: Final = 18
NO_ANSWER: Final = 19
CALL_REJECTED: Final = 21
NUMBER_CHANGED: Final = 22
DESTINATION_OUT_OF_ORDER: Final = 27
INVALID_NUMBER_FORMAT: Final = 28
NORMAL_UNSPECIFIED: Final = 31
NO_CIRCUIT_AVAILABLE: Final = 34
NETWORK_OUT_OF_ORDER: Final = 38
TEMPORARY_FAILURE: Final = 41
SWITCH_CONGESTION: Final = 42
REQUESTED_CHANNEL_UNAVAILABLE: Final = 44
RESOURCE_UNAVAILABLE: Final = 47
BEARER_CAPABILITY_NOT_AVAILABLE: Final = 58
INVALID_CALL_REFERENCE: Final = 81
MANDATORY_IE_MISSING: Final = 96
MESSAGE_TYPE_NONEXISTENT: Final = 97
INVALID_IE_CONTENTS: Final = 100
RECOVERY_ON_TIMER_EXPIRY: Final = 102
PROTOCOL_ERROR: Final = 111
INTERWORKING: Final = 127

REASON_TO_CAUSE: Final[dict[str, int]] = {
    "normal": NORMAL_CLEARING,
    "busy": USER_BUSY,
    "no-answer": NO_ANSWER,
    "no-response": NO_USER_RESPONSE,
    "rejected": CALL_REJECTED,
    "unallocated": UNALLOCATED,
    "invalid-number": INVALID_NUMBER_FORMAT,
    "congestion": NO_CIRCUIT_AVAILABLE,
    "out-of-order": DESTINATION_OUT_OF_ORDER,
    "network-failure": NETWORK_OUT_OF_ORDER,
    "temporary-failure": TEMPORARY_FAILURE,
    "channel-unavailable": REQUESTED_CHANNEL_UNAVAILABLE,
    "protocol-error": PROTOCOL_ERROR,
}

_CAUSE_TO_REASON: Final[dict[int, str]] = {
    UNALLOCATED: "unallocated",
    NO_ROUTE_DESTINATION: "unallocated",
    NUMBER_CHANGED: "unallocated",
    NORMAL_CLEARING: "normal",
    NORMAL_UNSPECIFIED: "normal",
    USER_BUSY: "busy",
    NO_USER_RESPONSE: "no-response",
    NO_ANSWER: "no-answer",
    CALL_REJECTED: "rejected",
    DESTINATION_OUT_OF_ORDER: "out-of-order",
    INVALID_NUMBER_FORMAT: "invalid-number",
    NO_CIRCUIT_AVAILABLE: "congestion",
    SWITCH_CONGESTION: "congestion",
    RESOURCE_UNAVAILABLE: "congestion",
    NETWORK_OUT_OF_ORDER: "network-failure",
    TEMPORARY_FAILURE: "temporary-failure",
    REQUESTED_CHANNEL_UNAVAILABLE: "channel-unavailable",
    CHANNEL_UNACCEPTABLE: "channel-unavailable",
    RECOVERY_ON_TIMER_EXPIRY: "no-response",
}


def cause_for(reason: str) -> int:
    """The Q.850 cause to send for an application reason."""
    try:
        return REASON_TO_CAUSE[reason]
    except KeyError:
        raise ValueError(
            f"unknown clearing reason {reason!r}; known: {', '.join(sorted(REASON_TO_CAUSE))}"
        ) from None


def reason_for(cause: int) -> str:
    """The application reason for a received Q.850 cause (Q.850 §2.2.5 classes)."""
    if cause in _CAUSE_TO_REASON:
        return _CAUSE_TO_REASON[cause]
    cause_class = (cause >> 4) & 0x7  # Q.850 §2.2.5: class in bits 7-5 of the value
    return {0: "normal", 1: "normal", 2: "congestion", 3: "unavailable", 4: "unavailable",
            5: "invalid-message", 6: "protocol-error", 7: "interworking"}[cause_class]
