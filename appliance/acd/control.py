"""ACD methods on the telephonyd control socket (docs/acd.md lists them).

``acd.queues`` (MON-2), ``acd.agents`` (MON-3), ``agent.login``,
``agent.logout``, ``agent.pause``, ``agent.unpause``, ``agent.wrapup_end``,
``call.hold``, ``call.unhold``, ``call.transfer`` (blind), ``call.consult``,
``call.consult_cancel``, ``call.transfer_complete`` and ``call.three_way``.
A refused request answers error code ``refused`` with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from appliance.acd.engine import Acd, AcdError
from appliance.calls.model import CallError
from appliance.runtime.control import ControlError, ControlServer


def _param(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError("bad-request", f"parameter {name!r} (a non-empty string) is required")
    return value


def register_acd_methods(server: ControlServer, acd: Acd) -> None:
    def wrap(action: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        async def handler(params: dict[str, Any]) -> Any:
            try:
                result = action(params)
            except (AcdError, CallError) as exc:
                raise ControlError("refused", str(exc)) from exc
            return {"ok": True} if result is None else result

        return handler

    agent = "agents.control"
    call = "calls.control"
    methods: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
        "acd.queues": (lambda p: acd.queue_status(), "queues.read"),
        "acd.agents": (lambda p: acd.agent_status(), "agents.read"),
        "agent.login": (lambda p: acd.login(_param(p, "agent"), str(p.get("device", ""))), agent),
        "agent.logout": (lambda p: acd.logout(_param(p, "agent")), agent),
        "agent.pause": (lambda p: acd.pause(_param(p, "agent"), _param(p, "reason")), agent),
        "agent.unpause": (lambda p: acd.unpause(_param(p, "agent")), agent),
        "agent.wrapup_end": (lambda p: acd.end_wrapup(_param(p, "agent")), agent),
        "call.hold": (lambda p: acd.hold(_param(p, "agent")), call),
        "call.unhold": (lambda p: acd.unhold(_param(p, "agent")), call),
        "call.transfer": (lambda p: acd.blind_transfer(_param(p, "agent"), _param(p, "target")),
                          call),
        "call.consult": (lambda p: acd.consult(_param(p, "agent"), _param(p, "target")), call),
        "call.consult_cancel": (lambda p: acd.cancel_consult(_param(p, "agent")), call),
        "call.transfer_complete": (lambda p: acd.complete_transfer(_param(p, "agent")), call),
        "call.three_way": (lambda p: acd.three_way(_param(p, "agent")), call),
    }
    for method, (action, needs) in methods.items():
        server.register(method, wrap(action), needs=needs)
