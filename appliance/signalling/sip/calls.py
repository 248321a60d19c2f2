"""SIP calls as legs of the call core: the ``sip`` channel technology (issue 16).

Every SIP leg is a pjsua2 call of the back-end endpoint inside telephonyd, behind
Kamailio on loopback (the edge: registrar, digest authentication, NAT). Agents
are seated on SIP extensions (``[sip.extensions]``): :meth:`SipLegs.originate`
rings ``sip:2001`` (or ``2001``) by sending an INVITE to Kamailio, which forks it
to the extension's registered contacts (RFC 3261 §16). A call a phone places
comes in through Kamailio (digest-authenticated there) and is handed to the core
as a number dialled on that phone, like an FXS phone's.

SIP trunks (``[sip.trunks]``) are carriers Kamailio knows by address: their calls
arrive marked with the trunk's name (``X-Appliance-Trunk``) and become inbound
trunk legs (``carrier/7``: caller from P-Asserted-Identity or From, DNIS from the
Request-URI) that the IVR routes by DID and trunk (IVR-3); :meth:`SipLegs.dial`
places an outside call on a trunk for the core's outbound route, refusing at once
(:class:`TrunkUnavailable`) when the trunk or the back-end has no call left.
Only calls relayed by Kamailio itself are taken: the back-end's loopback port is
reachable by any local process, and nothing it sends is believed.

Threads: the core, the IVR and the ACD call a :class:`SipLeg` on the event loop;
each action is handed to the pjsua2 owner thread (:meth:`SipEndpoint.submit`),
never waited for. pjsua2's callbacks (call state, RFC 4733 digits) come back on
the owner thread and are posted to the loop. Audio meets the 20 ms engine
through each leg's :class:`FrameQueues`: the engine channel exists from the
leg's start (silent until media flows), so the core can bridge it the moment
the phone answers.

Releases map both ways per RFC 3398 (:mod:`appliance.signalling.sip.causes`); a
BYE or CANCEL we send carries the core's cause in an RFC 3326 ``Reason`` header.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from appliance.calls.channel import (
    CAUSE_CALL_REJECTED,
    CAUSE_NO_CIRCUIT_AVAILABLE,
    CAUSE_NORMAL_CLEARING,
    CAUSE_TEMPORARY_FAILURE,
    CAUSE_UNALLOCATED_NUMBER,
    Channel,
    ChannelListener,
)
from appliance.calls.technology import (
    RECALL_HOLD,
    RECALL_RETRIEVE,
    PromptLookup,
    TechnologyRegistry,
    TrunkUnavailable,
    leg_of,
    media_event_to_leg,
    play_on_engine,
    stop_on_engine,
)
from appliance.config import ApplianceConfig
from appliance.config.sections.ports import DEFAULT_FEATURES
from appliance.media.component import MediaComponent
from appliance.media.engine import ChannelHandle, MediaEngine
from appliance.media.events import MediaEvent
from appliance.runtime.service import Component, Service
from appliance.signalling.analog.dialplan import DialPlan, DialRule, Match, feature_rules
from appliance.signalling.sip.causes import cause_from_status, reason_header, status_for_cause
from appliance.signalling.sip.edgedb import db_path, reload_credentials, write_credentials
from appliance.signalling.sip.endpoint import EndpointSettings, SipEndpoint, error_text
from appliance.signalling.sip.frames import FrameQueues
from appliance.signalling.sip.kamailio import TRUNK_HEADER
from appliance.signalling.sip.message import header, number_of, request_user, user_of
from appliance.signalling.sip.registrations import RegistrationsError, dump, rpc_socket

log = logging.getLogger("appliance.sip")

Post = Callable[..., Any]  # loop.call_soon_threadsafe
FEATURE_CLEAR_S = 1.0  # a feature code's call is answered, then cleared after this long


class SipLeg(Channel):
    """One SIP dialog (one pjsua2 call) in a call of the call-center core."""

    def __init__(self, legs: SipLegs, key: int, device: str, frames: FrameQueues,
                 handle: ChannelHandle, *, outbound: bool, caller: str = "",
                 dnis: str = "", trunk: str = "") -> None:
        # a phone's leg is named by its phone (as an FXS port's leg): the ACD and call
        # lists find the agent; a trunk's by the trunk and call, as a span's B-channel
        super().__init__(f"{trunk}/{key}" if trunk else device, caller=caller, dnis=dnis,
                         trunk=trunk)
        self._legs = legs
        self.key = key
        self.device = device
        self.outbound = outbound
        self.frames = frames
        self._handle: ChannelHandle | None = handle
        self.answered = False
        self.rfc4733 = False  # the phone sends telephone-events: in-band digits are ignored

    @property
    def media(self) -> ChannelHandle | None:
        return self._handle

    def answer(self) -> None:
        if not self.outbound and not self.answered and not self.hung_up:
            self.answered = True
            self._legs.on_owner(self, lambda call: call.answer(_param(200)))

    def play(self, prompt: str, *, loop: bool = False) -> None:
        play_on_engine(self._legs.engine, self, prompt, self._legs.prompts(prompt), loop=loop)

    def stop_play(self) -> None:
        stop_on_engine(self._legs.engine, self)

    def _release(self, cause: int) -> None:
        self._legs.release(self, cause)

    def detach_media(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and handle.registered:
            self._legs.engine.unregister(handle)


def _param(status: int = 0, headers: dict[str, str] | None = None) -> Any:
    from appliance.signalling.sip.pjcall import call_param
    return call_param(status, headers)


class _Events:
    """A leg's pjsua2 callbacks (owner thread), posted to the event loop."""

    def __init__(self, legs: SipLegs, key: int) -> None:
        self._legs, self._key = legs, key

    def state(self, state: str, status: int) -> None:
        self._legs.post(self._legs.call_state, self._key, state, status)

    def digit(self, digit: str) -> None:
        self._legs.post(self._legs.rfc4733_digit, self._key, digit)

    def hold(self, held: bool) -> None:
        self._legs.post(self._legs.phone_hold, self._key, held)


class SipLegs:
    """The ``sip`` technology: SIP extensions as agent devices, SIP trunks as trunks."""

    name = "sip"
    leg_type = SipLeg

    def __init__(self, endpoint: SipEndpoint, engine: MediaEngine, config: ApplianceConfig,
                 registry: TechnologyRegistry, loop: asyncio.AbstractEventLoop) -> None:
        self.endpoint = endpoint
        self.engine = engine
        self.section = config.sip
        self.plan = dial_plan(config)
        section = config.sip
        self.registry = registry
        self.prompts: PromptLookup = registry.prompt
        self.post: Post = loop.call_soon_threadsafe  # from the owner thread
        self.post_later = loop.call_later
        self.legs: dict[int, SipLeg] = {}
        self._keys = itertools.count(1)
        self.edge = f"{section.listen_host}:{section.listen_port}"  # what Kamailio sends from
        self.ports: Any = None  # the PortPool, made on the owner thread (create_account)
        self.backend_uri = f"sip:appliance@127.0.0.1:{section.backend_port}"

    # -- start and stop (owner thread work, awaited by the component) ----------------
    def create_account(self, ep: Any) -> None:
        from appliance.signalling.sip.pjcall import PortPool, backend_account
        self.ports = PortPool()  # the legs' media ports, reused, never destroyed (pjcall)
        self.endpoint.before_destroy.append(self.ports.abandon)
        self.endpoint.owned["account"] = backend_account(
            self.backend_uri, self.section.listen_host, self._incoming)

    # -- the technology contract (appliance.calls.technology) ------------------------
    def _extension(self, device: str) -> str | None:
        kind, _, number = device.partition(":")
        number = number if kind == "sip" else device
        return number if number in self.section.extensions else None

    def reaches(self, device: str) -> bool:
        return self._extension(device) is not None

    def device_name(self, device: str) -> str | None:
        number = self._extension(device)
        return f"sip:{number}" if number is not None else None

    def originate(self, device: str, caller_id: str, listener: ChannelListener) -> Channel:
        """INVITE the extension's registered phones through Kamailio."""
        number = self._extension(device)
        if number is None:
            raise ValueError(f"originate: no SIP extension {device!r}")
        leg = self._new_leg(next(self._keys), f"sip:{number}", FrameQueues(), outbound=True,
                            caller=caller_id, dnis=number)
        self._invite(leg, listener, number, {})
        return leg

    def trunks(self) -> list[str]:
        return sorted(self.section.trunks)

    def dial(self, trunk: str, number: str, caller_id: str,
             listener: ChannelListener) -> Channel:
        """INVITE ``number`` on ``trunk`` through Kamailio; refused at once when the trunk
        is not ours, its ``max_calls`` are all up, or the back-end has no call left."""
        if trunk not in self.section.trunks:
            raise TrunkUnavailable(f"no SIP trunk {trunk!r}")
        if not number.isdigit():
            raise TrunkUnavailable(f"{number!r} is not a number to dial on a SIP trunk")
        full = self._full(trunk)
        if full:
            raise TrunkUnavailable(full)
        leg = self._new_leg(next(self._keys), trunk, FrameQueues(), outbound=True,
                            caller=caller_id, dnis=number, trunk=trunk)
        self._invite(leg, listener, number, {TRUNK_HEADER: trunk})
        return leg

    def busy(self, trunk: str) -> int:
        """The calls up on ``trunk`` now, both ways."""
        return sum(1 for leg in self.legs.values() if leg.trunk == trunk)

    def _full(self, trunk: str) -> str:
        """Why configured ``trunk`` can take no call now, either way ('' if it can)."""
        ceiling = self.section.trunks[trunk].max_calls
        if self.busy(trunk) >= ceiling:
            return f"all {ceiling} calls of SIP trunk {trunk} up"
        if len(self.legs) >= self.section.max_calls:
            return f"the SIP back-end has all [sip] max_calls = {self.section.max_calls} calls up"
        return ""

    def circuits(self) -> dict[str, dict[str, bool]]:
        """A SIP trunk's circuits are its ``max_calls`` call slots."""
        out: dict[str, dict[str, bool]] = {}
        for name, trunk in sorted(self.section.trunks.items()):
            busy = self.busy(name)
            out[name] = {str(slot): slot <= busy for slot in range(1, trunk.max_calls + 1)}
        return out

    def _invite(self, leg: SipLeg, listener: ChannelListener, number: str,
                headers: dict[str, str]) -> None:
        """Send the INVITE of an outgoing ``leg`` to ``number`` through Kamailio; the
        caller's number rides in P-Asserted-Identity (RFC 3325 §9.1)."""
        leg.set_listener(listener)
        uri = f"sip:{number}@{self.edge}"
        if leg.caller.isdigit():
            headers = {**headers,
                       "P-Asserted-Identity": f"<sip:{leg.caller}@{self.section.domain}>"}

        def dial(ep: Any) -> None:
            from appliance.signalling.sip.pjcall import LegCall
            account = self.endpoint.owned["account"]
            call = LegCall(account, _Events(self, leg.key), leg.frames, leg.name, self.ports)
            self.endpoint.owned[("call", leg.key)] = call
            try:
                call.makeCall(uri, _param(headers=headers))
            except Exception:
                del self.endpoint.owned[("call", leg.key)]
                raise

        self._submit(leg, dial)

    # -- legs ----------------------------------------------------------------------
    def _new_leg(self, key: int, device: str, frames: FrameQueues, *, outbound: bool,
                 caller: str, dnis: str, trunk: str = "") -> SipLeg:
        handle = self.engine.register(f"{device}/{key}", law="linear",
                                      source=frames.engine_source, sink=frames.engine_sink)
        leg = SipLeg(self, key, device, frames, handle, outbound=outbound, caller=caller,
                     dnis=dnis, trunk=trunk)
        self.legs[key] = leg
        return leg

    def _forget(self, leg: SipLeg) -> None:
        self.legs.pop(leg.key, None)
        leg.detach_media()

    def _submit(self, leg: SipLeg, work: Callable[[Any], None]) -> None:
        """Run ``work`` on the owner thread; if it fails, the leg is lost (Q.850 41)."""
        def done(future: Future[None]) -> None:
            error = future.exception()
            if error is not None:
                self.post(self._failed, leg.key, error_text(error))
        self.endpoint.submit(work).add_done_callback(done)

    def on_owner(self, leg: SipLeg, action: Callable[[Any], None]) -> None:
        """Run ``action(call)`` on the leg's pjsua2 call, on the owner thread."""
        self._submit(leg, self._with_call(leg.key, action))

    def _with_call(self, key: int, action: Callable[[Any], None]) -> Callable[[Any], None]:
        def work(ep: Any) -> None:
            call = self.endpoint.owned.get(("call", key))
            if call is not None:
                action(call)
        return work

    def _owner_call(self, key: int, action: Callable[[Any], None]) -> None:
        self.endpoint.submit(self._with_call(key, action))

    def release(self, leg: SipLeg, cause: int) -> None:
        """The core hangs ``leg`` up: BYE (CANCEL before an answer; a final response to a
        call not answered yet), with the cause in a Reason header (RFC 3326)."""
        self._forget(leg)
        status = 0 if leg.outbound or leg.answered else status_for_cause(cause)
        name, value = reason_header(cause)

        def hangup(call: Any) -> None:
            try:
                call.hangup(_param(status, {name: value}))
            except Exception as exc:  # pjsua2.Error: the dialog already ended
                log.debug("%s: hang-up after the dialog ended: %s", leg.name,
                          error_text(exc))
        self.on_owner(leg, hangup)

    def _failed(self, key: int, error: str) -> None:
        leg = self.legs.get(key)
        if leg is None:
            return
        if "PJ_ETOOMANY" in error:  # pjsua's own ceiling (PJSUA_MAX_CALLS), not [sip] max_calls
            error = (f"pjsua2 has no call slot left ({len(self.legs)} SIP legs up; "
                     f"[sip] max_calls = {self.section.max_calls}, and the pjsua2-python "
                     "wheel is built for at most 4): " + error)
        log.error("%s: SIP call failed: %s", leg.name, error, extra={"channel": leg.name})
        self._forget(leg)
        if not leg.hung_up:
            leg._emit_hangup(CAUSE_TEMPORARY_FAILURE)

    # -- from pjsua2 (posted to the loop) -------------------------------------------
    def call_state(self, key: int, state: str, status: int) -> None:
        leg = self.legs.get(key)
        if state == "DISCONNECTED":
            self.endpoint.submit(lambda ep: self._call_over(key))
            if leg is None:
                return
            self._forget(leg)
            if not leg.hung_up:
                cause = cause_from_status(status)
                log.info("%s: SIP call ended (%d, Q.850 %d)", leg.name, status, cause,
                         extra={"channel": leg.name})
                leg._emit_hangup(cause)
        elif state == "CONFIRMED" and leg is not None and leg.outbound and not leg.answered:
            leg.answered = True
            leg._emit_answered()

    def _call_over(self, key: int) -> None:
        """Owner thread: a DISCONNECTED call's port goes back to the pool, its wrapper is
        retired (destroyed once no call holds its call id: SipEndpoint.retire)."""
        call: Any = self.endpoint.owned.pop(("call", key), None)
        if call is not None:
            call.release_port()
            self.endpoint.retire(call)

    def rfc4733_digit(self, key: int, digit: str) -> None:
        leg = self.legs.get(key)
        if leg is not None and not leg.hung_up:
            leg.rfc4733 = True
            leg._emit_digit(digit)

    def phone_hold(self, key: int, held: bool) -> None:
        """The far end put the call on hold or took it back (a re-INVITE): for one of our
        phones, the core holds or retrieves the other party (as the agent's hold key);
        a carrier's hold needs nothing (its caller just hears nothing)."""
        leg = self.legs.get(key)
        if leg is None or leg.hung_up or leg.trunk:
            return
        answer = self.registry.recall(leg, RECALL_HOLD if held else RECALL_RETRIEVE)
        log.info("%s: phone %s the call (%s)", leg.name, "holds" if held else "takes back",
                 answer or "nothing to hold", extra={"channel": leg.name})

    def on_media_event(self, event: MediaEvent) -> None:
        leg = leg_of(self.legs.values(), event.channel)
        if isinstance(leg, SipLeg):
            media_event_to_leg(leg, event, digits=not leg.rfc4733)

    def _incoming(self, call_id: int, message: str, source: str) -> None:
        """A call arrived (owner thread): kept in ``owned`` at once, then the loop decides
        (:meth:`_arrived`)."""
        from appliance.signalling.sip.pjcall import LegCall
        key = next(self._keys)  # itertools.count: atomic under the GIL
        frames = FrameQueues()
        call = LegCall(self.endpoint.owned["account"], _Events(self, key), frames,
                       f"sip-in/{key}", self.ports, call_id)
        self.endpoint.owned[("call", key)] = call
        info = call.getInfo()
        self.post(self._arrived, key, frames, str(info.remoteUri), message, source)

    def _arrived(self, key: int, frames: FrameQueues, remote: str, message: str,
                 source: str) -> None:
        """A new call on the loop: refused unless Kamailio relayed it; a trunk's call (the
        edge names the trunk) goes to :meth:`_trunk_call`, a phone's to the dial plan."""
        if source != self.edge:
            log.warning("SIP INVITE from %s, not from the edge %s, refused", source, self.edge)
            self._owner_call(key, lambda call: call.answer(_param(403)))
            return
        trunk = header(message, TRUNK_HEADER)
        if trunk is not None:
            caller = number_of(header(message, "P-Asserted-Identity")) or number_of(remote)
            self._trunk_call(key, frames, trunk, caller, request_user(message))
        else:
            self._phone_dialled(key, frames, user_of(remote), request_user(message))

    def _trunk_call(self, key: int, frames: FrameQueues, trunk: str, caller: str,
                    dnis: str) -> None:
        """A carrier's call: an inbound leg of ``trunk`` for the core (the IVR's routes by
        DID and trunk); refused with 503 (Q.850 34) when the trunk's calls are all up."""
        if trunk not in self.section.trunks:  # Kamailio only names configured trunks
            log.warning("SIP call marked as from unknown trunk %r refused", trunk)
            self._owner_call(key, lambda call: call.answer(_param(403)))
            return
        full = self._full(trunk)
        if full:
            log.warning("SIP trunk %s: call from %r to %r refused: %s", trunk, caller, dnis,
                        full, extra={"trunk": trunk})
            self._owner_call(key, lambda call: call.answer(_param(
                status_for_cause(CAUSE_NO_CIRCUIT_AVAILABLE))))
            return
        leg = self._new_leg(key, trunk, frames, outbound=False, caller=caller, dnis=dnis,
                            trunk=trunk)
        log.info("%s: call from %r to %r", leg.name, caller, dnis, extra={"channel": leg.name})
        self.registry.inbound(leg)

    def _phone_dialled(self, key: int, frames: FrameQueues, caller: str, dialled: str) -> None:
        """A phone's call on the loop, through the phones' dial plan (:func:`dial_plan`): a
        feature code is carried out (answered, then cleared; refused with 603 if it failed),
        a number is answered (the phone is off-hook, like an FXS phone: the core's tones
        follow) and handed to the core; anything else is refused with 404 (Q.850 1)."""
        if caller not in self.section.extensions:  # Kamailio authenticates; never reached
            log.warning("SIP call from %r (not an extension) to %r refused", caller, dialled)
            self._owner_call(key, lambda call: call.answer(_param(403)))
            return
        device = f"sip:{caller}"
        verdict, rule = self.plan.match(dialled)
        if rule is None or verdict not in (Match.COMPLETE, Match.AMBIGUOUS):
            log.info("%s dialled %r: no such number", device, dialled, extra={"channel": device})
            self._owner_call(key, lambda call: call.answer(_param(
                status_for_cause(CAUSE_UNALLOCATED_NUMBER))))
            return
        if rule.target.startswith("feature:"):
            if self.registry.feature(device, dialled):
                self._owner_call(key, lambda call: call.answer(_param(200)))
                self.post_later(FEATURE_CLEAR_S, self._owner_call, key,
                                lambda call: call.hangup(_param()))
            else:
                self._owner_call(key, lambda call: call.answer(_param(
                    status_for_cause(CAUSE_CALL_REJECTED))))
            return
        # as on an FXS phone, the phone's leg carries its own number (the call's origin)
        leg = self._new_leg(key, device, frames, outbound=False, caller=caller, dnis=caller)
        leg.answer()
        self.registry.dialled(leg, rule.destination(dialled))


def dial_plan(config: ApplianceConfig) -> DialPlan:
    """What a SIP phone may dial (en bloc, so no inter-digit timer): the FXS and SIP
    extensions, ``9`` + a number out on a trunk (the core's outbound route picks E1, FXO),
    and the agent feature codes (``*51`` + agent id...), as on an FXS phone."""
    phones = [e.extension for e in config.rig.ports if e.kind == "fxs" and e.extension]
    rules = [DialRule(number, "ext") for number in [*phones, *config.sip.extensions]]
    rules.append(DialRule("9.", "trunk", strip=1))
    return DialPlan([*rules, *feature_rules(DEFAULT_FEATURES)])


class SipCallsComponent(Component):
    """Starts the pjsua2 back-end and registers the ``sip`` technology (telephonyd)."""

    name = "sip"

    def __init__(self, media: MediaComponent, registry: TechnologyRegistry) -> None:
        self._media = media
        self._registry = registry
        self.endpoint: SipEndpoint | None = None
        self.legs: SipLegs | None = None
        self.address = ""
        self._rpc = ""

    async def start(self, service: Service) -> None:
        section = service.config.sip
        self._rpc = rpc_socket(service.config.paths.run_dir)
        service.control.register("sip.phones", self._phones, needs="status.read")
        service.control.register("sip.trunks", self._trunks, needs="status.read")
        if not section.enabled:
            return
        engine = self._media.engine
        assert engine is not None, "the media component starts first"
        endpoint = SipEndpoint(EndpointSettings(port=section.backend_port,
                                                max_calls=section.max_calls))
        self.address = await asyncio.to_thread(endpoint.start)
        self.endpoint = endpoint
        legs = SipLegs(endpoint, engine, service.config, self._registry,
                       asyncio.get_running_loop())
        await asyncio.wrap_future(endpoint.submit(legs.create_account))
        self._media.listeners.append(legs.on_media_event)
        self._registry.register(legs)
        self.legs = legs

    # extensions and their passwords change under live calls and registrations (ADM-1)
    live_keys = frozenset({"sip.extensions"})

    async def reconfigure(self, config: ApplianceConfig) -> None:
        """New or removed extensions, new passwords: the phones' dial plan and the devices
        the ACD may ring follow at once, and Kamailio's credentials are rewritten and
        reloaded (``htable.reload``, no registration dropped). If Kamailio is not up it
        reads them when it starts."""
        legs = self.legs
        if legs is None or config.sip.extensions == legs.section.extensions:
            return
        legs.section = dataclasses.replace(legs.section, extensions=config.sip.extensions)
        legs.plan = dial_plan(config)
        database = db_path(config.paths.state_dir)
        count = await asyncio.to_thread(write_credentials, database, legs.section)
        try:
            await asyncio.to_thread(reload_credentials, self._rpc)
        except RegistrationsError as exc:
            log.warning("SIP credentials written to %s, but %s; the edge reads them when it "
                        "starts", database, exc)
            return
        log.info("SIP: %d extension(s); Kamailio reloaded their credentials", count)

    async def stop(self) -> None:
        legs, self.legs = self.legs, None
        if legs is not None:
            self._registry.unregister(legs.name)
            if legs.on_media_event in self._media.listeners:
                self._media.listeners.remove(legs.on_media_event)
            for leg in list(legs.legs.values()):
                leg.hangup(CAUSE_NORMAL_CLEARING)
        endpoint, self.endpoint = self.endpoint, None
        if endpoint is not None:
            await asyncio.to_thread(endpoint.stop)

    async def _phones(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every SIP extension: its registered contacts (Kamailio's usrloc, read in a
        worker thread) and the SIP legs up on it now (the console's SIP screen)."""
        legs = self.legs
        if legs is None:
            return {"enabled": False, "extensions": [], "error": ""}
        error = ""
        try:
            contacts = await asyncio.to_thread(dump, self._rpc)
        except RegistrationsError as exc:
            contacts, error = [], str(exc)
        calls = Counter(leg.device for leg in legs.legs.values())
        return {"enabled": True, "edge": legs.edge, "error": error, "extensions": [
            {"extension": number, "calls": calls[f"sip:{number}"],
             "contacts": [{"contact": c.contact, "expires": c.expires,
                           "user_agent": c.user_agent, "received": c.received}
                          for c in contacts
                          if c.extension == number]}
            for number in sorted(legs.section.extensions)]}

    async def _trunks(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every SIP trunk: its peer address and the calls up on it now, of its ceiling."""
        legs = self.legs
        if legs is None:
            return {"enabled": False, "trunks": []}
        return {"enabled": True, "trunks": [
            {"trunk": name, "peer": f"{trunk.host}:{trunk.port}", "calls": legs.busy(name),
             "max_calls": trunk.max_calls}
            for name, trunk in sorted(legs.section.trunks.items())]}

    def status(self) -> dict[str, Any]:
        if self.legs is None:
            return {"enabled": False}
        return {"enabled": True, "backend": self.address, "edge": self.legs.edge,
                "legs": len(self.legs.legs)}
