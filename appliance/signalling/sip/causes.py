"""SIP response codes and ITU-T Q.850 causes, both ways (RFC 3398 §7.2.4.1 and §8.2.6.1).

A SIP leg reports its release to the call core as a Q.850 cause, like every other
technology; the core's causes go out as the SIP final response of a call we refuse
and as the RFC 3326 ``Reason: Q.850;cause=N`` header of the BYE or CANCEL we send.
"""

from __future__ import annotations

from appliance.calls.channel import (
    CAUSE_CALL_REJECTED,
    CAUSE_NO_ANSWER,
    CAUSE_NO_CIRCUIT_AVAILABLE,
    CAUSE_NORMAL_CLEARING,
    CAUSE_NORMAL_UNSPECIFIED,
    CAUSE_OUTGOING_CALLS_BARRED,
    CAUSE_TEMPORARY_FAILURE,
    CAUSE_UNALLOCATED_NUMBER,
    CAUSE_USER_BUSY,
)

# RFC 3398 §8.2.6.1 (SIP final response -> ISUP cause), the codes a phone or carrier sends
_FROM_SIP = {
    400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102,
    410: 22, 413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127,
    480: 18, 481: 41, 482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 487: 127, 488: 127,
    500: 41, 501: 79, 502: 38, 503: 41, 504: 102, 505: 127, 513: 127,
    600: 17, 603: 21, 604: 1, 606: 58,
}

# RFC 3398 §7.2.4.1 (ISUP cause -> SIP response), for the causes the core uses
_TO_SIP = {
    CAUSE_UNALLOCATED_NUMBER: 404, CAUSE_USER_BUSY: 486, CAUSE_NO_ANSWER: 480,
    CAUSE_CALL_REJECTED: 603, CAUSE_NORMAL_UNSPECIFIED: 480,
    CAUSE_NO_CIRCUIT_AVAILABLE: 503, CAUSE_TEMPORARY_FAILURE: 503,
    CAUSE_OUTGOING_CALLS_BARRED: 403,  # as the barred causes 54, 55 and 57 are
}


def cause_from_status(status: int) -> int:
    """The Q.850 cause of a call that ended with SIP ``status`` (2xx: a BYE, normal clearing)."""
    if 200 <= status < 300 or status == 0:
        return CAUSE_NORMAL_CLEARING
    return _FROM_SIP.get(status, CAUSE_NORMAL_UNSPECIFIED if status < 500 else
                         CAUSE_TEMPORARY_FAILURE)


def status_for_cause(cause: int) -> int:
    """The SIP final response that refuses an inbound call for Q.850 ``cause``."""
    return _TO_SIP.get(cause, 480 if cause < 32 else 503)


def reason_header(cause: int) -> tuple[str, str]:
    """The RFC 3326 ``Reason`` header carrying ``cause`` (name, value)."""
    return "Reason", f"Q.850;cause={cause}"
