"""A structural check of received Q.931 messages, for logs a field engineer can act on.

libpri discards malformed messages as Q.931 §5.8 asks, often silently. This
check runs on every received I-frame before libpri sees it and names what is
wrong (protocol discriminator, call reference, message type, information
element lengths, mandatory IEs), so the event is logged with the fault. It
never changes or drops the frame: the protocol handling stays libpri's.
"""

from __future__ import annotations

Q931_PD = 0x08  # Q.931 §4.2
MAINTENANCE_PDS = (0x03, 0x43)  # national/AT&T maintenance (SERVICE)

# Q.931 Table 4-2 (plus Q.932 HOLD/RETRIEVE/FACILITY/REGISTER)
MESSAGE_TYPES: dict[int, str] = {
    0x01: "ALERTING", 0x02: "CALL PROCEEDING", 0x03: "PROGRESS", 0x05: "SETUP",
    0x07: "CONNECT", 0x0D: "SETUP ACKNOWLEDGE", 0x0F: "CONNECT ACKNOWLEDGE",
    0x20: "USER INFORMATION", 0x21: "SUSPEND REJECT", 0x22: "RESUME REJECT", 0x24: "HOLD",
    0x25: "SUSPEND", 0x26: "RESUME", 0x28: "HOLD ACKNOWLEDGE", 0x2D: "SUSPEND ACKNOWLEDGE",
    0x2E: "RESUME ACKNOWLEDGE", 0x30: "HOLD REJECT", 0x31: "RETRIEVE",
    0x33: "RETRIEVE ACKNOWLEDGE", 0x37: "RETRIEVE REJECT", 0x45: "DISCONNECT",
    0x46: "RESTART", 0x4D: "RELEASE", 0x4E: "RESTART ACKNOWLEDGE", 0x5A: "RELEASE COMPLETE",
    0x60: "SEGMENT", 0x62: "FACILITY", 0x64: "REGISTER", 0x6E: "NOTIFY",
    0x75: "STATUS ENQUIRY", 0x79: "CONGESTION CONTROL", 0x7B: "INFORMATION", 0x7D: "STATUS",
}
MAINTENANCE_TYPES = {0x0F: "SERVICE", 0x07: "SERVICE ACKNOWLEDGE"}

# Q.931 Table 4-3, codeset 0 variable-length IEs (plus Q.932/QSIG ones libpri knows)
INFORMATION_ELEMENTS: dict[int, str] = {
    0x00: "segmented message", 0x01: "change status", 0x04: "bearer capability",
    0x08: "cause", 0x10: "call identity", 0x14: "call state", 0x18: "channel identification",
    0x1C: "facility", 0x1E: "progress indicator", 0x20: "network-specific facilities",
    0x27: "notification indicator", 0x28: "display", 0x29: "date/time",
    0x2C: "keypad facility", 0x34: "signal", 0x40: "information rate",
    0x42: "end-to-end transit delay", 0x43: "transit delay selection",
    0x44: "packet layer binary parameters", 0x45: "packet layer window size",
    0x46: "packet size", 0x47: "closed user group", 0x4A: "reverse charging indication",
    0x4C: "connected number", 0x4D: "connected subaddress", 0x6C: "calling party number",
    0x6D: "calling party subaddress", 0x70: "called party number",
    0x71: "called party subaddress", 0x73: "original called number",
    0x74: "redirecting number", 0x76: "redirection number",
    0x78: "transit network selection", 0x79: "restart indicator",
    0x7C: "low layer compatibility", 0x7D: "high layer compatibility", 0x7E: "user-user",
    0x7F: "escape for extension",
}

# Q.931 §3.1.14: mandatory IEs of SETUP on a primary rate interface (network -> user)
MANDATORY: dict[int, tuple[int, ...]] = {0x05: (0x04, 0x18), 0x45: (0x08,), 0x46: (0x79,),
                                         0x4E: (0x79,)}


def check_q931(message: bytes) -> list[str]:
    """Problems found in one Q.931 message (empty when it is well formed)."""
    if len(message) < 3:
        return [f"message of {len(message)} octet(s) is too short for a protocol "
                "discriminator and call reference (Q.931 §5.8.2)"]
    pd = message[0]
    if pd != Q931_PD and pd not in MAINTENANCE_PDS:
        return [f"unknown protocol discriminator 0x{pd:02x}, message discarded (Q.931 §5.8.1)"]
    cr_len = message[1] & 0x0F
    if message[1] & 0xF0 or cr_len not in (0, 1, 2):
        return [f"call reference length octet 0x{message[1]:02x} invalid (Q.931 §5.8.3.1)"]
    if len(message) < 2 + cr_len + 1:
        return ["truncated after the call reference: no message type (Q.931 §5.8.2)"]
    mtype = message[2 + cr_len]
    table = MESSAGE_TYPES if pd == Q931_PD else MAINTENANCE_TYPES
    name = table.get(mtype)
    if name is None:
        return [f"unknown message type 0x{mtype:02x} (Q.931 §5.8.4)"]
    problems: list[str] = []
    seen: set[int] = set()
    codeset = 0
    i = 3 + cr_len
    while i < len(message):
        ie = message[i]
        if ie & 0x80:  # single-octet IE (Q.931 §4.5.1)
            if ie & 0xF0 == 0x90:  # shift (Q.931 §4.5.3)
                locked = not ie & 0x08
                if locked:
                    codeset = ie & 0x07
            i += 1
            continue
        if i + 1 >= len(message):
            problems.append(f"{name}: IE 0x{ie:02x} has no length octet (Q.931 §5.8.6.2)")
            break
        length = message[i + 1]
        if i + 2 + length > len(message):
            problems.append(f"{name}: IE 0x{ie:02x} length {length} runs past the end of the "
                            f"message ({len(message) - i - 2} octet(s) left) (Q.931 §5.8.6.2)")
            break
        if codeset == 0:
            if ie not in INFORMATION_ELEMENTS:
                problems.append(f"{name}: unrecognised IE 0x{ie:02x} in codeset 0 "
                                "(Q.931 §5.8.7.1)")
            seen.add(ie)
        i += 2 + length
    if pd == Q931_PD:
        for ie in MANDATORY.get(mtype, ()):
            if ie not in seen:
                problems.append(f"{name}: mandatory IE {INFORMATION_ELEMENTS[ie]} missing "
                                "(Q.931 §5.8.6.1)")
    return problems


def q931_of(frame: bytes) -> bytes | None:
    """The Q.931 message of a LAPD I-frame (Q.921 §3.6.2: control bit 1 = 0), else None."""
    if len(frame) > 4 and not frame[2] & 0x01 and frame[0] >> 2 == 0:  # SAPI 0: call control
        return frame[4:]
    return None
