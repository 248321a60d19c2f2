"""``appliancectl calls``: calls up, hang one up, place a call, supervise one, and an
agent's call handled from the shell (hold, transfer, consultation, three-way; ACD-4)."""

from __future__ import annotations

import time
from typing import Any

import click

from appliance.cli.audit import audited_call, query
from appliance.cli.common import Context, output_options, pass_context, print_json, print_table

COLUMNS = ["call_id", "direction", "channel", "caller", "callee", "state", "age", "queue", "agent",
           "supervisor"]


def call_row(call: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    age = max(0, int(now - float(call.get("started") or now)))
    return {
        **call,
        "age": f"{age // 60}:{age % 60:02d}",
        "queue": call.get("queue") or "-",
        "agent": agent_label(call),
        "supervisor": ", ".join(f"{m['device']} ({m['mode']}, {m['state']})"
                                for m in call.get("supervisors") or []) or "-",
    }


def agent_label(call: dict[str, Any]) -> str:
    """The agent on a call as ``ID (Name)``, ``ID`` without a configured name, or ``-``."""
    agent = call.get("agent")
    if not agent:
        return "-"
    return f"{agent} ({call['agent_name']})" if call.get("agent_name") else str(agent)


@click.group("calls")
def calls_group() -> None:
    """Calls in progress: list, hang up, originate, monitor; an agent's call: hold,
    unhold, transfer, consult, consult-cancel, transfer-complete, three-way.

    Example: appliancectl calls list
    """


@calls_group.command("list")
@output_options
@pass_context
def list_calls(ctx: Context, as_json: bool) -> None:
    """List the calls up now.

    Example: appliancectl calls list --json
    """
    result = query(ctx, "telephonyd", "calls.list")
    if as_json:
        print_json(result)
        return
    print_table([call_row(c) for c in result["calls"]], COLUMNS)


@calls_group.command("hangup")
@click.argument("call_id")
@click.option("--cause", default=16, show_default=True, type=click.IntRange(1, 127),
              help="Q.850 cause value sent to the far end (16 normal clearing).")
@output_options
@pass_context
def hangup(ctx: Context, call_id: str, cause: int, as_json: bool) -> None:
    """Clear call CALL_ID (see `calls list`).

    Example: appliancectl calls hangup c-0042 --cause 16
    """
    result = audited_call(
        ctx, "telephonyd", "calls.hangup", "call.hangup", call_id, call_id=call_id, cause=cause
    )
    if as_json:
        print_json(result)
    else:
        click.echo(f"{result['hungup']}: cleared (cause {cause})")


@calls_group.command("originate")
@click.argument("source", metavar="FROM")
@click.argument("number", metavar="TO")
@output_options
@pass_context
def originate(ctx: Context, source: str, number: str, as_json: bool) -> None:
    """Click-to-dial: ring FROM (an agent id or an FXS phone), then call TO and join them.

    TO is an extension or an outside number, dialled on an idle carrier line.

    Example: appliancectl calls originate 1001 013812345678
    """
    if not number or not all(ch.isdigit() or ch in "*#+" for ch in number):
        raise click.BadParameter(
            f"{number!r}: digits, '*', '#' or a leading '+' only", param_hint="TO"
        )
    params: dict[str, Any] = {"from": source, "to": number}
    result = audited_call(ctx, "telephonyd", "calls.originate", "call.originate",
                          f"{source}->{number}", **params)
    if as_json:
        print_json(result)
    else:
        click.echo(f"{result['call_id']}: {result['state']} {source} -> {number}")


@calls_group.command("monitor")
@click.argument("call_id")
@click.argument("device")
@click.option("--mode", type=click.Choice(["listen", "whisper", "barge"]), default="listen",
              show_default=True,
              help="listen: hear both, unheard; whisper: the agent hears you, the caller does "
                   "not; barge: three-way.")
@output_options
@pass_context
def monitor(ctx: Context, call_id: str, device: str, mode: str, as_json: bool) -> None:
    """Ring your phone DEVICE and join call CALL_ID as its supervisor (hang up to leave).

    Example: appliancectl calls monitor c-0042 fxs2 --mode whisper
    """
    result = audited_call(ctx, "telephonyd", "calls.monitor", "call.monitor", call_id,
                          call_id=call_id, device=device, mode=mode)
    if as_json:
        print_json(result)
    else:
        click.echo(f"{call_id}: ringing {device}; answer to {mode}")


# -- an agent's call (ACD-4): what the agent does on the phone, a supervisor may do
# for them; the daemon refuses (exit 4) an agent with no call, a second consultation or
# a destination that does not exist. (command, control method, what is said when done
# ({target} filled in), help)
AGENT_CALL_COMMANDS = [
    ("hold", "call.hold", "caller on hold",
     "Put AGENT's caller on hold (the caller hears music).\n\n"
     "Example: appliancectl calls hold 1001"),
    ("unhold", "call.unhold", "caller back from hold",
     "Take AGENT's caller back from hold.\n\nExample: appliancectl calls unhold 1001"),
    ("transfer", "call.transfer", "caller sent to {target}",
     "Blind transfer: send AGENT's caller to TARGET now; the agent is free.\n\n"
     "TARGET is queue:NAME, flow:NAME, external:NUMBER, ext:EXTENSION (one of our phones,\n"
     "analog or SIP), voicemail:BOX or hangup.\n\n"
     "Example: appliancectl calls transfer 1001 queue:support"),
    ("consult", "call.consult", "caller on hold, ringing {target}",
     "Hold AGENT's caller and ring TARGET (a phone or extension, or external:NUMBER) for "
     "AGENT to talk to; then `transfer-complete`, `three-way` or `consult-cancel`.\n\n"
     "Example: appliancectl calls consult 1001 202"),
    ("consult-cancel", "call.consult_cancel", "consultation ended, caller back",
     "End AGENT's consultation and take the caller back.\n\n"
     "Example: appliancectl calls consult-cancel 1001"),
    ("transfer-complete", "call.transfer_complete", "caller handed to the consulted party",
     "Attended transfer: join AGENT's caller to the consulted party; the agent leaves.\n\n"
     "Example: appliancectl calls transfer-complete 1001"),
    ("three-way", "call.three_way", "three-way call",
     "Bring AGENT, the caller and the consulted party together.\n\n"
     "Example: appliancectl calls three-way 1001"),
]


def _agent_call_command(name: str, method: str, done: str, help_text: str) -> click.Command:
    takes_target = "{target}" in done

    @click.command(name, help=help_text)
    @click.argument("agent")
    @output_options
    @pass_context
    def command(ctx: Context, agent: str, as_json: bool, target: str | None = None) -> None:
        params: dict[str, Any] = {"target": target} if takes_target else {}
        result = audited_call(ctx, "telephonyd", method, method, agent, agent=agent, **params)
        if as_json:
            print_json(result)
        else:
            click.echo(f"agent {agent}: {done.format(target=target)}")

    if takes_target:
        command = click.argument("target")(command)
    return command


for _name, _method, _done, _help in AGENT_CALL_COMMANDS:
    calls_group.add_command(_agent_call_command(_name, _method, _done, _help))
