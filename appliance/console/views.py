"""The console's screens as rows of text: pure functions of a :class:`Snapshot`.

Every state a field engineer must notice is written as a word (``RED``,
``DOWN``, ``NOT RUNNING``) as well as coloured, so it reads the same on a
monochrome VT100. Rows fit 80 columns. A row with a ``key`` can be selected
(a call to hang up, an agent to pause, a span to inspect).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from appliance.cli.ports import human
from appliance.cli.power import power_lines
from appliance.console.source import DaemonView, Snapshot

Markup = str | tuple[str, str] | list[Any]


@dataclass(frozen=True)
class Row:
    markup: Markup
    key: str | None = None  # selectable when set


def text(line: str, attr: str | None = None) -> Row:
    return Row((attr, line) if attr else line)


def mmss(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}h{s // 60 % 60:02d}"


def daemon_rows(view: DaemonView) -> list[Row]:
    """What to say when a daemon is not there, with the way out."""
    if view.health in ("ok", "unknown"):
        return []
    return [
        text(f"*** {view.name.upper()} "
             f"{'NOT RUNNING' if view.health == 'down' else 'NOT ANSWERING'}"
             " - press R to restart it ***", "alarm"),
    ]


def span_state_markup(span: dict[str, Any]) -> list[tuple[str, str]]:
    alarms = [a.upper() for a in span.get("alarms", [])]
    state = str(span.get("state", "?")).upper()
    if state == "UP" and not alarms:
        attr = "ok"
    else:
        attr = "alarm" if "RED" in alarms or state != "UP" else "warn"
    alarm_text = "alarms " + (",".join(alarms) if alarms else "none")
    return [(attr, f"{state:<5}"), ("", " "), (attr if alarms else "", f"{alarm_text:<18}")]


def span_row(span: dict[str, Any]) -> Markup:
    dch = str(span.get("dchannel", "?")).upper()
    return [
        ("", f"{span['name']:<7}"), *span_state_markup(span),
        ("alarm" if dch != "UP" else "", f" D {dch:<4}"),
        ("", f" busy {span.get('busy', 0):>2} idle {span.get('idle', 0):>2} "
             f"blocked {span.get('blocked', 0):>2}"),
    ]


def audio_row(stats: dict[str, Any]) -> Row:
    """A span's lost audio: frames absent from received blocks, concealed by the engine,
    slipped in or out (appliance/media/slip.py); highlighted once any is not zero."""
    figures = [("Missing", "frames_missing"), ("Concealed", "concealed"), ("Slips in", "slips"),
               ("Slips out", "output_slips")]
    lost = any(stats.get(key, 0) for _, key in figures)
    return Row(("warn" if lost else "",
                "Audio " + "  ".join(f"{label} {stats.get(key, 0)}" for label, key in figures)))


def port_row(port: dict[str, Any]) -> Markup:
    battery = "battery" if port.get("battery") else "NO BATTERY"
    return [
        ("", f"{port['name']:<7}{port.get('kind', ''):<4}{port.get('state', ''):<12}"),
        ("", f"{port.get('hook', '?')}-hook "),
        ("ok" if port.get("battery") else "alarm", f"{battery:<10}"),
        ("", f" {port.get('call_id') or ''}"),
    ]


def overview(snap: Snapshot) -> list[Row]:
    tel, pwr = snap.telephonyd, snap.powerd
    rows = daemon_rows(tel) + daemon_rows(pwr)
    rows.append(text("SPANS", "title"))
    rows += [Row(span_row(s)) for s in tel.get("spans.list", "spans")] or [text("  (no data)")]
    rows.append(text("PORTS", "title"))
    rows += [Row(port_row(p)) for p in tel.get("ports.list", "ports")] or [text("  (no data)")]
    calls = tel.get("calls.list", "calls")
    rows.append(Row([("title", "CALLS UP "), ("", f"{len(calls)}" if tel.health == "ok" else "?")]))
    rows.append(text("QUEUES      waiting longest answered abandoned  idle busy paused", "title"))
    for q in tel.get("queues.list", "queues"):
        waiting = int(q.get("waiting", 0))
        rows.append(Row([
            ("", f"{q['name']:<12}"), ("warn" if waiting else "", f"{waiting:>7}"),
            ("", f"{mmss(q.get('longest_wait', 0)):>8}{q.get('answered', 0):>9}"
                 f"{q.get('abandoned', 0):>10}{q.get('agents_idle', 0):>6}"
                 f"{q.get('agents_busy', 0):>5}{q.get('agents_paused', 0):>7}"),
        ]))
    counts: dict[str, int] = {}
    for agent in tel.get("agents.list", "agents"):
        counts[agent["state"]] = counts.get(agent["state"], 0) + 1
    rows.append(Row([("title", "AGENTS "), ("", "  ".join(
        f"{state.replace('_', ' ')} {n}" for state, n in sorted(counts.items())) or "(no data)")]))
    rows.append(text("POWER", "title"))
    status = pwr.results.get("power.status")
    if isinstance(status, dict) and pwr.health == "ok":
        lines = power_lines(status)
        rows.append(Row(("alarm" if not status.get("mains") else "", lines[0])))
        rows.append(Row(lines[1]))
        rows.append(Row(("warn" if status.get("lifeline", {}).get("engaged") else "", lines[3])))
    else:
        rows.append(text("  (no data)"))
    return rows


def spans(snap: Snapshot, selected: str | None) -> list[Row]:
    tel = snap.telephonyd
    rows = daemon_rows(tel)
    rows += [Row(span_row(s), key=s["name"]) for s in tel.get("spans.list", "spans")]
    detail = tel.results.get("spans.show")
    if not isinstance(detail, dict) or detail.get("name") != selected:
        return [*rows, text(""), text("(select a span with Up/Down)")]
    counters = detail.get("counters", {})
    framing = f"{detail.get('framing', '?')}/{detail.get('linecode', '?')}".upper()
    rows += [
        text(""),
        Row([("title", f"Span {detail['name']} "), ("", f"{detail.get('address', '')}")]),
        Row([("", "State "), *span_state_markup(detail), ("", f"Framing {framing}"
             + (" CRC4" if detail.get("crc4") else ""))]),
        Row(f"Counters BPV {counters.get('bpv', 0)}  CRC4 {counters.get('crc4', 0)}  "
            f"E-bit {counters.get('ebit', 0)}  FAS {counters.get('fas', 0)}  "
            f"Slips {counters.get('slips', 0)}"),
        audio_row(detail.get("stats", {})),
    ]
    channels = list(detail.get("channels", []))
    per_column = (len(channels) + 3) // 4
    for i in range(per_column):
        cells: list[tuple[str, str]] = []
        for column in range(4):
            index = column * per_column + i
            if index >= len(channels):
                continue
            ch = channels[index]
            state = str(ch.get("state", "?"))
            # telephonyd's B-channel states (appliance/signalling/pri/span.py ChannelState)
            label = {"idle": "idle", "busy": "BUSY", "ringing": "RING", "blocked-local": "OOS",
                     "blocked-remote": "FAR", "alarm": "ALARM", "restarting": "RSTRT"
                     }.get(state, state.upper()[:5])
            attr = {"busy": "ok", "ringing": "warn", "blocked-remote": "alarm",
                    "blocked-local": "warn", "alarm": "alarm", "restarting": "warn"}
            call = str(ch.get("call_id") or "")[-10:]  # the call core's id, as calls list shows
            cells.append((attr.get(state, ""), f"{ch['channel']:02d} {label:<5} {call:<10} "))
        rows.append(Row(list(cells)))
    return rows


def ports(snap: Snapshot, selected: str | None) -> list[Row]:
    tel = snap.telephonyd
    rows = daemon_rows(tel)
    port_list = tel.get("ports.list", "ports")
    rows += [Row(port_row(p), key=p["name"]) for p in port_list]
    found = next((p for p in port_list if p["name"] == selected), None)
    if found:
        rows.append(text(""))
        rows.append(text(f"Port {found['name']}", "title"))
        rows += [text(f"  {k.replace('_', ' '):<18} {human(v)}"[:78]) for k, v in found.items()]
    return rows


def hide(value: Any, show: bool) -> str:
    return str(value or "") if show else "(hidden)"


def calls(snap: Snapshot, show_customer: bool, now: float | None = None) -> list[Row]:
    tel = snap.telephonyd
    now = time.time() if now is None else now
    rows = daemon_rows(tel)
    rows.append(text("CALL ID     DIR  CHANNEL    CALLER        CALLEE        STATE     AGE QUEUE",
                     "title"))
    for c in tel.get("calls.list", "calls"):
        rows.append(Row(
            f"{c['call_id']:<11} {str(c.get('direction', ''))[:3]:<4} {c.get('channel', ''):<10} "
            f"{hide(c.get('caller'), show_customer)[:13]:<13} "
            f"{hide(c.get('callee'), show_customer)[:13]:<13} {str(c.get('state', ''))[:9]:<9}"
            f"{mmss(now - float(c.get('started') or now)):>5} {c.get('queue') or ''}",
            key=c["call_id"],
        ))
    if not show_customer:
        rows.append(text("caller numbers hidden: your role has no customer.read", "dim"))
    return rows


def queues(snap: Snapshot, now: float | None = None) -> list[Row]:
    tel = snap.telephonyd
    now = time.time() if now is None else now
    rows = daemon_rows(tel)
    rows.append(text("QUEUE       STRATEGY      WAITING LONGEST ANSWERED ABANDONED", "title"))
    for q in tel.get("queues.list", "queues"):
        rows.append(Row([
            ("", f"{q['name']:<12}{q.get('strategy', ''):<14}"),
            ("warn" if q.get("waiting") else "", f"{q.get('waiting', 0):>7}"),
            ("", f"{mmss(q.get('longest_wait', 0)):>8}{q.get('answered', 0):>9}"
                 f"{q.get('abandoned', 0):>10}"),
        ]))
    rows.append(text("AGENT       STATE       IN STATE REASON     DEVICE       QUEUES", "title"))
    for a in tel.get("agents.list", "agents"):
        state = str(a.get("state", "?"))
        attr = {"paused": "warn", "logged_out": "dim", "talking": "ok"}.get(state, "")
        rows.append(Row([
            ("", f"{a['name']:<12}"), (attr, f"{state.upper().replace('_', ' '):<12}"),
            ("", f"{mmss(now - float(a.get('since') or now)):>8} "
                 f"{str(a.get('reason') or '')[:10]:<10} "
                 f"{str(a.get('device') or '')[:12]:<12} {','.join(a.get('queues', []))}"),
        ], key=a["name"]))
    return rows


def sip(snap: Snapshot) -> list[Row]:
    """SIP extensions: registered contacts with their expiry, the agent at each, its calls;
    then the SIP trunks with the calls up on each."""
    tel = snap.telephonyd
    rows = daemon_rows(tel)
    phones = tel.results.get("sip.phones")
    if not isinstance(phones, dict):
        return [*rows, text("  (no data)")]
    if not phones.get("enabled"):
        return [*rows, text("  SIP is off ([sip] enabled = false)", "dim")]
    if phones.get("error"):
        rows.append(text(f"  {phones['error']}"[:78], "warn"))
    at = {str(a.get("device", "")).removeprefix("sip:"): a
          for a in tel.get("agents.list", "agents") if a.get("state") != "logged_out"}
    rows.append(text(f"SIP edge {phones.get('edge', '')}", "title"))
    rows.append(text("EXT    AGENT        CALLS EXPIRES CONTACT", "title"))
    for ext in phones.get("extensions", []):
        number = str(ext["extension"])
        agent = at.get(number)
        who = f"{agent['agent']} {agent.get('display_name', '')}"[:12] if agent else "-"
        contacts = ext.get("contacts") or [{}]
        for n, contact in enumerate(contacts):
            expires = contact.get("expires")
            left = "-" if not contact else ("perm" if expires is None else f"{expires}s")
            where = str(contact.get("contact") or "not registered")
            attr = "" if contact else "warn"
            lead = f"{number:<6} {who:<12} {ext.get('calls', 0):>5}" if n == 0 else " " * 24
            rows.append(Row([("", f"{lead} {left:>7} "), (attr, where[:50])], key=number))
    trunks = tel.results.get("sip.trunks")
    if isinstance(trunks, dict) and trunks.get("trunks"):
        rows.append(text(""))
        rows.append(text("TRUNK            PEER                   CALLS", "title"))
        for trunk in trunks["trunks"]:
            calls = f"{trunk.get('calls', 0)}/{trunk.get('max_calls', 0)}"
            rows.append(text(f"{str(trunk['trunk'])[:16]:<16} {str(trunk['peer'])[:22]:<22} "
                             f"{calls:>5}"))
    return rows


def power(snap: Snapshot) -> list[Row]:
    pwr = snap.powerd
    rows = daemon_rows(pwr)
    status = pwr.results.get("power.status")
    if isinstance(status, dict):
        for line in power_lines(status):
            attr = "alarm" if ("OFF" in line or "MISMATCH" in line or "STALE" in line) else (
                "warn" if "ENGAGED" in line else "")
            rows.append(text(line, attr or None))
    rows.append(text(""))
    rows.append(text("HISTORY", "title"))
    history = pwr.results.get("power.history")
    events = history.get("events", []) if isinstance(history, dict) else []
    for event in events:
        when = dt.datetime.fromtimestamp(float(event["at"])).strftime("%m-%d %H:%M:%S")
        rows.append(text(f"{when}  {event.get('previous', '')} -> {event.get('state', '')}  "
                         f"{event.get('reason') or ''}"))
    return rows


def journal(snap: Snapshot, width: int = 80) -> list[Row]:
    if snap.journal_error:
        return [text(f"journal unavailable: {snap.journal_error}", "alarm")]
    rows: list[Row] = []
    for entry in snap.journal:
        when = dt.datetime.fromtimestamp(entry["at"]).strftime("%H:%M:%S")
        attr = "alarm" if entry["priority"] in ("emerg", "alert", "crit", "err") else (
            "warn" if entry["priority"] == "warning" else None)
        rows.append(text(f"{when} {entry['daemon'][:10]} {entry['message']}"[:width], attr))
    return rows or [text("(no journal entries yet)")]


def maintenance(snap: Snapshot) -> list[Row]:
    tel = snap.telephonyd
    rows = daemon_rows(tel)
    rows += [
        text("b  busy out a B-channel        f  return a B-channel to service"),
        text("k  set a span's loopback       r  restart a daemon"),
        text(""),
        text("SPANS", "title"),
    ]
    rows += [Row(span_row(s)) for s in tel.get("spans.list", "spans")]
    detail = tel.results.get("spans.show")
    if isinstance(detail, dict):
        out = [f"{c['channel']} ({'by us' if c['state'] == 'blocked-local' else 'far end'})"
               for c in detail.get("channels", [])
               if c.get("state") in ("blocked-local", "blocked-remote")]
        rows.append(text(f"{detail['name']} channels out of service: {', '.join(out) or 'none'}"))
    rows.append(text(""))
    for view in (snap.telephonyd, snap.powerd):
        attr = "ok" if view.health == "ok" else "alarm"
        state = view.message.upper() if view.health != "ok" else "RUNNING"
        rows.append(Row([("", f"{view.name:<12}"), (attr, state)]))
    return rows
