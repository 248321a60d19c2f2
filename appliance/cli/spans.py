"""``appliancectl spans``: E1 span status, alarms, counters and maintenance (MON-1, OPS-1)."""

from __future__ import annotations

from typing import Any

import click

from appliance.cli.audit import audited_call, query
from appliance.cli.common import Context, output_options, pass_context, print_json, print_table

LOOPBACK_MODES = ("off", "local", "remote", "payload")


def span_row(span: dict[str, Any]) -> dict[str, Any]:
    counters = span.get("counters", {})
    return {
        "name": span["name"],
        "state": span["state"],
        "alarms": ",".join(span.get("alarms", [])) or "none",
        "dchannel": span.get("dchannel", "-"),
        "framing": f"{span.get('framing', '-')}/{span.get('linecode', '-')}"
        + ("/crc4" if span.get("crc4") else ""),
        "busy": span.get("busy", 0),
        "idle": span.get("idle", 0),
        "blocked": span.get("blocked", 0),
        "slips": counters.get("slips", 0),
    }


@click.group("spans")
def spans_group() -> None:
    """E1 spans: state, alarms, counters, channels, busy-out and loopback.

    Example: appliancectl spans show span1
    """


@spans_group.command("list")
@output_options
@pass_context
def list_spans(ctx: Context, as_json: bool) -> None:
    """List every span with its state, alarms and channel usage.

    Example: appliancectl spans list --json
    """
    result = query(ctx, "telephonyd", "spans.list")
    if as_json:
        print_json(result)
        return
    print_table(
        [span_row(s) for s in result["spans"]],
        ["name", "state", "alarms", "dchannel", "framing", "busy", "idle", "blocked", "slips"],
    )


AUDIO = [("frames missing", "frames_missing"), ("concealed", "concealed"),
         ("slips in", "slips"), ("slips out", "output_slips")]


@spans_group.command("show")
@click.argument("span")
@output_options
@pass_context
def show_span(ctx: Context, span: str, as_json: bool) -> None:
    """Show one span: alarms, error counters and the state of every channel.

    Example: appliancectl spans show span1
    """
    result = query(ctx, "telephonyd", "spans.show", span=span)
    if as_json:
        print_json(result)
        return
    row = span_row(result)
    click.echo(f"span {row['name']}  {result.get('address', '')}")
    click.echo(f"state {row['state']}  alarms {row['alarms']}  D-channel {row['dchannel']}  "
               f"framing {row['framing']}")
    counters = result.get("counters", {})
    click.echo("counters " + "  ".join(f"{k} {counters.get(k, 0)}" for k in
                                        ("bpv", "crc4", "ebit", "fas", "slips")))
    # lost audio (docs/media.md "Clock and slips"): received blocks that lacked an active
    # call's frame, ticks the engine had none (concealed), frames slipped in and out
    stats = result.get("stats", {})
    click.echo("audio " + "  ".join(f"{label} {stats.get(key, 0)}" for label, key in AUDIO))
    click.echo("")
    print_table(
        [{**c, "call_id": c.get("call_id") or "-", **{k: c.get(k, 0) for _, k in AUDIO}}
         for c in result.get("channels", [])],
        ["channel", "state", "call_id", *(k for _, k in AUDIO)],
    )


@spans_group.command("busy-out")
@click.argument("span")
@click.argument("channel", type=click.IntRange(1, 31))
@click.option("--off", "release", is_flag=True, help="Return the channel to service.")
@output_options
@pass_context
def busy_out(ctx: Context, span: str, channel: int, release: bool, as_json: bool) -> None:
    """Take B-channel CHANNEL (1-31) of SPAN out of service (or back with --off).

    A busy channel is refused by the daemon (exit 4).

    Example: appliancectl spans busy-out span1 5
    """
    result = audited_call(
        ctx, "telephonyd", "spans.busy_out", "span.busy_out", f"{span}/{channel}",
        span=span, channel=channel, on=not release,
    )
    if as_json:
        print_json(result)
    else:
        click.echo(f"{span} channel {result['channel']}: {result['state']}")


@spans_group.command("loopback")
@click.argument("span")
@click.argument("mode", type=click.Choice(LOOPBACK_MODES))
@output_options
@pass_context
def loopback(ctx: Context, span: str, mode: str, as_json: bool) -> None:
    """Set SPAN's loopback: off, local, remote (line) or payload.

    Example: appliancectl spans loopback span1 local
    """
    result = audited_call(
        ctx, "telephonyd", "spans.loopback", "span.loopback", span, span=span, mode=mode
    )
    if as_json:
        print_json(result)
    else:
        alarms = ",".join(result.get("alarms", [])) or "none"
        click.echo(f"{result['name']}: loopback {mode}; state {result['state']}, alarms {alarms}")
