"""Thin Python face of the compiled libpri binding (see ``_build.py``).

One :class:`PriController` per D-channel. Facts of libpri 1.6 respected here:

- the event it returns is one reused buffer: :meth:`PriController._copy`
  copies every field out (in C) before anything else calls into libpri;
- its timers are wall-clock (``gettimeofday``): :meth:`schedule_next` returns
  an epoch time, not a monotonic one, so a wall-clock step moves them;
- a closed peer is not reported: the read callback raises
  :class:`~drivers.span.errors.SpanLinkLost` from the driver and
  :meth:`check_event` re-raises it to the caller;
- frames carry two FCS octets inside libpri; the callbacks add/strip them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    from appliance.signalling.pri._libpri import ffi, lib
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "the libpri binding is not built: install libpri-dev, then run "
        "'.venv/bin/pip install -e .' (setup.py compiles appliance/signalling/pri/_build.py)"
    ) from exc

log = logging.getLogger("appliance.signalling.pri")

NETWORK: int = lib.PRI_NETWORK
CPE: int = lib.PRI_CPE

SWITCH_TYPES: dict[str, int] = {
    "euroisdn_e1": lib.PRI_SWITCH_EUROISDN_E1,
    "euroisdn_t1": lib.PRI_SWITCH_EUROISDN_T1,
    "qsig": lib.PRI_SWITCH_QSIG,
    "ni2": lib.PRI_SWITCH_NI2,
    "ni1": lib.PRI_SWITCH_NI1,
    "dms100": lib.PRI_SWITCH_DMS100,
    "lucent5e": lib.PRI_SWITCH_LUCENT5E,
    "att4ess": lib.PRI_SWITCH_ATT4ESS,
}

EV_DCHAN_UP: int = lib.PRI_EVENT_DCHAN_UP
EV_DCHAN_DOWN: int = lib.PRI_EVENT_DCHAN_DOWN
EV_RESTART: int = lib.PRI_EVENT_RESTART
EV_CONFIG_ERR: int = lib.PRI_EVENT_CONFIG_ERR
EV_RING: int = lib.PRI_EVENT_RING
EV_HANGUP: int = lib.PRI_EVENT_HANGUP
EV_RINGING: int = lib.PRI_EVENT_RINGING
EV_ANSWER: int = lib.PRI_EVENT_ANSWER
EV_HANGUP_ACK: int = lib.PRI_EVENT_HANGUP_ACK
EV_RESTART_ACK: int = lib.PRI_EVENT_RESTART_ACK
EV_INFO_RECEIVED: int = lib.PRI_EVENT_INFO_RECEIVED
EV_PROCEEDING: int = lib.PRI_EVENT_PROCEEDING
EV_SETUP_ACK: int = lib.PRI_EVENT_SETUP_ACK
EV_HANGUP_REQ: int = lib.PRI_EVENT_HANGUP_REQ
EV_PROGRESS: int = lib.PRI_EVENT_PROGRESS
EV_KEYPAD_DIGIT: int = lib.PRI_EVENT_KEYPAD_DIGIT
EV_SERVICE: int = lib.PRI_EVENT_SERVICE
EV_SERVICE_ACK: int = lib.PRI_EVENT_SERVICE_ACK
EV_CONNECT_ACK: int = lib.PRI_EVENT_CONNECT_ACK

PRES_ALLOWED: int = lib.PRES_ALLOWED_USER_NUMBER_NOT_SCREENED
PRES_RESTRICTED: int = lib.PRES_PROHIB_USER_NUMBER_NOT_SCREENED
PRES_RESTRICTION_MASK: int = lib.PRI_PRES_RESTRICTION
PLAN_UNKNOWN: int = lib.PRI_UNKNOWN
TRANS_CAP_SPEECH: int = lib.PRI_TRANS_CAP_SPEECH
LAYER_1_ALAW: int = lib.PRI_LAYER_1_ALAW
PROG_INBAND_AVAILABLE: int = lib.PRI_PROG_INBAND_AVAILABLE

# SERVICE change status (Q.931 national maintenance, as libpri encodes it)
SERVICE_IN = 0
SERVICE_MAINTENANCE = 1
SERVICE_OUT = 2


def channel_of(encoded: int) -> int | None:
    """The B-channel number in a libpri channel value, or None for 'any'/'none'."""
    if encoded < 0:
        return None
    number = encoded & 0xFF
    return None if number in (0, 0xFF) else number


def encode_channel(channel: int) -> int:
    """A B-channel as libpri takes it: PRI_CHANNEL(n), span 0 and no PRI_EXPLICIT, since
    without NFAS no interface identifier (octet 3.1, Q.931 §4.5.13) may be sent."""
    return channel & 0xFF


def version() -> str:
    return str(ffi.string(lib.pri_get_version()).decode())


def event_name(kind: int) -> str:
    return str(ffi.string(lib.pri_event2str(kind)).decode(errors="replace"))


def cause_text(cause: int) -> str:
    return str(ffi.string(lib.pri_cause2str(cause)).decode(errors="replace"))


@dataclass(frozen=True)
class PriEvent:
    """A copy of one libpri event (the library's buffer is reused)."""

    kind: int
    name: str
    channel: int | None
    cause: int
    cref: int
    calling_number: str
    calling_name: str
    calling_pres: int
    called_number: str
    complete: bool
    flexible: bool
    changestatus: int
    digits: str
    error: str
    call: Any  # the libpri q931_call pointer (opaque), or ffi.NULL
    raw_channel: int


def _text(buf: Any) -> str:
    return str(ffi.string(buf).decode("utf-8", errors="replace"))


class PriController:
    """One libpri controller on one D-channel, frames moved by callbacks."""

    def __init__(
        self,
        name: str,
        fd: int,
        nodetype: int,
        switchtype: int,
        read_frame: Callable[[], bytes | None],
        write_frame: Callable[[bytes], None],
    ) -> None:
        self.name = name
        self._read_frame = read_frame
        self._write_frame = write_frame
        self._pending_error: BaseException | None = None
        self._handle = ffi.new_handle(self)
        self._event = ffi.new("struct app_event *")
        self.pri = lib.pri_new_cb(fd, nodetype, switchtype, lib._app_io_read, lib._app_io_write,
                                  self._handle)
        if self.pri == ffi.NULL:
            raise RuntimeError(f"span {name}: libpri refused to create a D-channel controller")
        lib.pri_hangup_fix_enable(self.pri, 1)  # Q.931 §5.3: answer a DISCONNECT with RELEASE
        self.write_errors = 0

    # -- events --------------------------------------------------------------------

    def _copy(self, raw: Any) -> PriEvent | None:
        if raw == ffi.NULL:
            return None
        ev = self._event
        lib.app_copy_event(raw, ev)
        return PriEvent(
            kind=ev.e, name=event_name(ev.e), channel=channel_of(ev.channel), cause=ev.cause,
            cref=ev.cref, calling_number=_text(ev.callingnum), calling_name=_text(ev.callingname),
            calling_pres=ev.callingpres, called_number=_text(ev.callednum),
            complete=bool(ev.complete), flexible=bool(ev.flexible),
            changestatus=ev.changestatus, digits=_text(ev.digits), error=_text(ev.err),
            call=ev.call, raw_channel=ev.channel,
        )

    def _reraise(self) -> None:
        if self._pending_error is not None:
            error, self._pending_error = self._pending_error, None
            raise error

    def check_event(self) -> PriEvent | None:
        """Read one D-channel frame through the driver and let libpri process it."""
        event = self._copy(lib.pri_check_event(self.pri))
        self._reraise()
        return event

    def schedule_next(self) -> float | None:
        """Wall-clock (epoch) time libpri's next timer is due, or None."""
        tv = lib.pri_schedule_next(self.pri)
        if tv == ffi.NULL:
            return None
        return float(tv.tv_sec) + float(tv.tv_usec) / 1e6

    def schedule_run(self) -> PriEvent | None:
        event = self._copy(lib.pri_schedule_run(self.pri))
        self._reraise()
        return event

    def set_timer(self, name: str, milliseconds: int) -> None:
        index = lib.pri_timer2idx(name.encode())
        if index < 0 or lib.pri_set_timer(self.pri, index, milliseconds) < 0:
            raise ValueError(f"span {self.name}: libpri has no timer {name!r}")

    def new_call(self) -> Any:
        call = lib.pri_new_call(self.pri)
        if call == ffi.NULL:
            raise RuntimeError(f"span {self.name}: libpri has no free call reference")
        return call

    def setup(self, call: Any, channel: int, exclusive: bool, called: str, calling: str,
              calling_pres: int, complete: bool = True) -> int:
        sr = lib.pri_sr_new()
        try:
            lib.pri_sr_set_channel(sr, encode_channel(channel), int(exclusive), 0)
            lib.pri_sr_set_bearer(sr, TRANS_CAP_SPEECH, LAYER_1_ALAW)
            called_buf = ffi.new("char[]", called.encode())
            calling_buf = ffi.new("char[]", calling.encode())
            lib.pri_sr_set_called(sr, called_buf, PLAN_UNKNOWN, int(complete))
            lib.pri_sr_set_caller(sr, calling_buf, ffi.NULL, PLAN_UNKNOWN, calling_pres)
            return int(lib.pri_setup(self.pri, call, sr))
        finally:
            lib.pri_sr_free(sr)

    def close(self) -> None:
        # libpri 1.6 has no pri_destroy for callback controllers; drop our references
        self._read_frame = _no_frame
        self._write_frame = _drop_frame


def _no_frame() -> bytes | None:
    return None


def _drop_frame(frame: bytes) -> None:
    del frame


def _controller(pri: Any) -> PriController | None:
    if pri == ffi.NULL:
        return None
    userdata = lib.pri_get_userdata(pri)
    if userdata == ffi.NULL:
        return None
    ctrl: PriController = ffi.from_handle(userdata)
    return ctrl


def _app_io_read(pri: Any, buf: Any, buflen: int) -> int:
    ctrl = _controller(pri)
    if ctrl is None:
        return 0
    try:
        frame = ctrl._read_frame()
    except BaseException as exc:  # handed back to check_event's caller
        ctrl._pending_error = exc
        return 0
    if frame is None:
        return 0
    data = frame[: buflen - 2] + b"\x00\x00"  # FCS placeholder: libpri strips 2 octets
    ffi.memmove(buf, data, len(data))
    return len(data)


def _app_io_write(pri: Any, buf: Any, buflen: int) -> int:
    ctrl = _controller(pri)
    if ctrl is None:
        return 0
    frame = bytes(ffi.buffer(buf, buflen))[:-2]  # the HDLC controller appends the FCS
    try:
        ctrl._write_frame(frame)
    except BaseException as exc:
        ctrl.write_errors += 1
        ctrl._pending_error = exc
        return 0
    return int(buflen)


def _log_text(pri: Any, text: Any) -> tuple[str, str]:
    ctrl = _controller(pri)
    name = ctrl.name if ctrl is not None else "?"
    return name, ffi.string(text).decode("utf-8", errors="replace").rstrip()


def _app_pri_error(pri: Any, text: Any) -> None:
    name, message = _log_text(pri, text)
    log.warning("span %s: libpri: %s", name, message, extra={"span": name})


def _app_pri_message(pri: Any, text: Any) -> None:
    name, message = _log_text(pri, text)
    log.debug("span %s: libpri: %s", name, message, extra={"span": name})


for _callback in (_app_io_read, _app_io_write, _app_pri_error, _app_pri_message):
    ffi.def_extern(name=_callback.__name__)(_callback)

lib.pri_set_error(lib._app_pri_error)
lib.pri_set_message(lib._app_pri_message)


def call_key(call: Any) -> int:
    """A hashable identity for a libpri call pointer."""
    return int(ffi.cast("uintptr_t", call))


def is_null(pointer: Any) -> bool:
    return bool(pointer == ffi.NULL)


def acknowledge(ctrl: PriController, call: Any, channel: int, inband: bool) -> int:
    """ALERTING (Q.931 §5.2.5.1)."""
    return int(lib.pri_acknowledge(ctrl.pri, call, encode_channel(channel), int(inband)))


def need_more_info(ctrl: PriController, call: Any, channel: int) -> int:
    """SETUP ACKNOWLEDGE: overlap receiving (Q.931 §5.2.4)."""
    return int(lib.pri_need_more_info(ctrl.pri, call, encode_channel(channel), 1))


def proceeding(ctrl: PriController, call: Any, channel: int) -> int:
    """CALL PROCEEDING (Q.931 §5.2.5.2)."""
    return int(lib.pri_proceeding(ctrl.pri, call, encode_channel(channel), 0))


def answer(ctrl: PriController, call: Any, channel: int) -> int:
    """CONNECT (Q.931 §5.2.8)."""
    return int(lib.pri_answer(ctrl.pri, call, encode_channel(channel), 1))


def hangup(ctrl: PriController, call: Any, cause: int) -> int:
    """DISCONNECT/RELEASE/RELEASE COMPLETE as the call state needs (Q.931 §5.3)."""
    return int(lib.pri_hangup(ctrl.pri, call, cause))


def restart_channel(ctrl: PriController, channel: int) -> int:
    """RESTART of one B-channel (Q.931 §5.5, restart class 0)."""
    return int(lib.pri_reset(ctrl.pri, encode_channel(channel)))


def enable_service_messages(ctrl: PriController) -> None:
    lib.pri_set_service_message_support(ctrl.pri, 1)


def service(ctrl: PriController, channel: int, status: int) -> int:
    """SERVICE message: put a B-channel in/out of service (national maintenance)."""
    return int(lib.pri_maintenance_service(ctrl.pri, 0, encode_channel(channel), status))


def set_overlap(ctrl: PriController, enabled: bool) -> None:
    lib.pri_set_overlapdial(ctrl.pri, int(enabled))


def destroy_call(ctrl: PriController, call: Any) -> None:
    lib.pri_destroycall(ctrl.pri, call)


def information(ctrl: PriController, call: Any, digit: str) -> int:
    """INFORMATION carrying one called-number digit (overlap sending, Q.931 §5.1.3)."""
    return int(lib.pri_information(ctrl.pri, call, digit.encode()))
