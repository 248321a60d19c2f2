"""appliance-console: the field engineer's screen on the serial console (OPS-1, MON-1..3).

Built with urwid: keyboard only, 80x24, VT100/VT220, with or without a UTF-8
locale (urwid draws lines with DEC special graphics when the terminal is not
UTF-8), and only the rows that changed are rewritten, so a busy screen stays
well inside what 115200 baud carries (bench/console.py measures it).

Screens: F1-F9 or the letters o s p c q w l n m; F10 or x quits; Esc returns
to the overview; R restarts a daemon that is down or hung.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import urwid

from appliance.auth import AuthError, User, UserStore
from appliance.cli.logs import UNITS, read_journal
from appliance.config import ApplianceConfig, ConfigErrors, config_path_from, load_config
from appliance.console import views
from appliance.console.dialogs import Confirm, Prompt, Size
from appliance.console.forms import LoginForm, NetworkForm
from appliance.console.source import DAEMONS, Daemon, DataSource, Snapshot
from appliance.runtime.control import ControlError
from appliance.store import StoreError, open_database
from appliance.store.audit import current_actor, record

# (name, title, function key, letter)
SCREENS: tuple[tuple[str, str, str, str], ...] = (
    ("overview", "Overview", "f1", "o"),
    ("spans", "Span detail", "f2", "s"),
    ("ports", "Port detail", "f3", "p"),
    ("calls", "Calls", "f4", "c"),
    ("queues", "Queues and agents", "f5", "q"),
    ("power", "Power", "f6", "w"),
    ("logs", "Logs", "f7", "l"),
    ("network", "Network set-up", "f8", "n"),
    ("maintenance", "Maintenance", "f9", "m"),
    ("sip", "SIP phones", "f11", "i"),
)
MONITOR_MODES = ("listen", "whisper", "barge")  # appliance/calls/monitor.py
KEYS_LINE = "o Ovrvw s Span p Port c Calls q Queue w Power l Logs n Net m Maint i SIP x Quit"
SCREEN_KEYS = {
    "spans": "Up/Down select span",
    "ports": "Up/Down select port",
    "calls": "Up/Down select call  h hang up  v supervise  k hold  r retrieve  t transfer\n"
             "a consult  b back from consult  j three-way  e hand over to consulted",
    "queues": "Up/Down select agent   a pause  u unpause  d log out",
    "power": "t lifeline test",
    "logs": "Up/Down/PgUp/PgDn scroll",
    "network": "Up/Down move  Enter on [Write] saves  Esc leaves",
    "maintenance": "b busy out  f free  k loopback  r restart a daemon",
}
PALETTE = [
    ("header", "black", "light gray", "standout"),
    ("footer", "black", "light gray", "standout"),
    ("title", "white,bold", "", "bold"),
    ("alarm", "white,bold", "dark red", "standout"),
    ("warn", "yellow,bold", "", "bold"),
    ("ok", "light green", "", ""),
    ("dim", "dark gray", "", ""),
    ("focus", "black", "light cyan", "standout"),
    ("error", "light red,bold", "", "bold"),
    ("message", "white", "", ""),
]
DEFAULT_RESTART = "systemctl restart appliance-{daemon}.service"
DEC_TERMS = ("vt100", "vt102", "vt220", "vt320", "vt52")


class SelectableRow(urwid.Text):
    """A text row the cursor can rest on."""

    _selectable = True

    def keypress(self, size: Size, key: str) -> str:
        return key


class KeyedRow(urwid.AttrMap):  # type: ignore[type-arg]
    def __init__(self, widget: urwid.Widget, key: str) -> None:
        super().__init__(widget, None, focus_map="focus")
        self.row_key = key


class Console:
    """The screens, the keys, the dialogs, the audited actions."""

    def __init__(
        self,
        source: DataSource,
        *,
        db: Any = None,
        restart_command: str = DEFAULT_RESTART,
        network_dir: str = "/etc/systemd/network",
        network_apply: str = "networkctl reload",
        interface: str = "eth0",
        notice: str = "",
    ) -> None:
        self.source = source
        self.db = db
        self.users = UserStore(db) if db is not None else None
        self.login_required = bool(self.users and self.users.configured())
        self.user: User | None = None
        self.restart_command = restart_command
        self.network_dir = network_dir
        self.network_apply = network_apply
        self.screen = "overview"
        self.selected: dict[str, str | None] = {}
        self.header = urwid.Text("", wrap="clip")
        self.message = urwid.Text(notice, wrap="clip")
        self.screen_keys = urwid.Text("", wrap="clip")
        self.walker: Any = urwid.SimpleFocusListWalker([])
        self.listbox: Any = urwid.ListBox(self.walker)
        self.network_form = NetworkForm(interface, network_dir, self.write_network)
        self.login_form = LoginForm(self.login)
        self.frame: Any = urwid.Frame(
            self.login_form if self.login_required else self.listbox,
            header=urwid.AttrMap(self.header, "header"),
            footer=urwid.Pile([
                urwid.AttrMap(urwid.Text(KEYS_LINE, wrap="clip"), "footer"),
                urwid.AttrMap(self.screen_keys, "dim"),
                self.message,
            ]),
        )
        self.root: Any = urwid.WidgetPlaceholder(self.frame)
        self.loop: urwid.MainLoop | None = None

    # --- who is at the keyboard ----------------------------------------------
    @property
    def actor(self) -> str:
        return self.user.name if self.user else current_actor()

    def allowed(self, permission: str) -> bool:
        if self.login_required:
            return self.user is not None and self.user.can(permission)
        return True  # no accounts yet: first boot, the console is the way in

    @property
    def show_customer(self) -> bool:
        return self.allowed("customer.read")

    def login(self, name: str, password: str) -> None:
        assert self.users is not None and self.db is not None
        try:
            self.user = self.users.authenticate(name, password)
        except AuthError as exc:
            record(self.db, "console.login", target=name, origin="console", actor=name,
                   outcome=f"refused: {exc}")
            self.login_form.fail(str(exc))
            time.sleep(1.0)  # slows password guessing on the serial line (SEC-4)
            return
        record(self.db, "console.login", target=name, origin="console", actor=name)
        self.source.act_as = self.user.name  # the daemons enforce this account's role too
        self.frame.body = self.listbox
        self.show("overview")

    def start(self) -> None:
        if self.login_required:
            self.refresh()
        else:
            self.show("overview")

    # --- screens ---------------------------------------------------------------
    def title(self) -> str:
        return next(t for n, t, _, _ in SCREENS if n == self.screen)

    def show(self, name: str) -> None:
        self.screen = name
        self.source.want_history = name == "power"
        self.source.want_sip = name == "sip"
        self.source.want_journal = name == "logs"
        if name == "network":
            self.network_form.reload()
            self.frame.body = self.network_form
        else:
            self.frame.body = self.listbox
            self.walker[:] = []
        self.screen_keys.set_text(SCREEN_KEYS.get(name, ""))
        self.refresh()
        self.source.poke()

    def rows(self, snap: Snapshot) -> list[views.Row]:
        selected = self.selected.get(self.screen)
        if self.screen == "overview":
            return views.overview(snap)
        if self.screen == "spans":
            return views.spans(snap, selected)
        if self.screen == "ports":
            return views.ports(snap, selected)
        if self.screen == "calls":
            return views.calls(snap, self.show_customer)
        if self.screen == "queues":
            return views.queues(snap)
        if self.screen == "power":
            return views.power(snap)
        if self.screen == "logs":
            return views.journal(snap)
        if self.screen == "sip":
            return views.sip(snap)
        return views.maintenance(snap)

    def refresh(self) -> None:
        snap = self.source.snapshot
        health = "  ".join(
            f"{v.name} {'ok' if v.health == 'ok' else v.health.upper()}"
            for v in (snap.telephonyd, snap.powerd)
        )
        who = self.user.name if self.user else ("LOGIN" if self.login_required else "")
        self.header.set_text(
            f" {self.title():<18}{health:<34}{who[:12]:>12} {time.strftime('%H:%M:%S')}"
        )
        if (self.login_required and self.user is None) or self.screen == "network":
            return
        self._render_rows(self.rows(snap))

    def _render_rows(self, rows: list[views.Row]) -> None:
        keep = self.selected.get(self.screen)
        widgets: list[urwid.Widget] = []
        focus = None
        first_key = None
        for row in rows:
            if row.key is None:
                widgets.append(urwid.Text(row.markup, wrap="clip"))
                continue
            widgets.append(KeyedRow(SelectableRow(row.markup, wrap="clip"), row.key))
            if first_key is None:
                first_key = len(widgets) - 1
            if row.key == keep:
                focus = len(widgets) - 1
        old_focus = self.walker.focus if self.walker else None
        self.walker[:] = widgets
        target = focus if focus is not None else first_key
        if target is None and old_focus is not None and old_focus < len(widgets):
            target = old_focus  # plain text screens keep their scroll position
        if target is not None:
            self.walker.set_focus(target)
        self._sync_selection()

    def _sync_selection(self) -> None:
        if not self.walker:
            return
        widget = self.walker[self.walker.focus]
        key = getattr(widget, "row_key", None)
        if key is None:
            return
        if self.selected.get(self.screen) != key:
            self.selected[self.screen] = key
            if self.screen in ("spans", "maintenance"):
                self.source.span_detail = key
                self.source.poke()
        if self.screen == "spans":
            self.source.span_detail = key

    # --- keys ----------------------------------------------------------------------
    def after_input(self) -> None:
        if self.frame.body is self.listbox:
            self._sync_selection()
            if self.screen in ("spans", "ports", "calls", "queues"):
                self.refresh()

    def handle_key(self, key: str) -> bool:
        """Keys the focused widget did not take; True when handled."""
        if key in ("f10", "x", "X"):
            raise urwid.ExitMainLoop()
        if self.login_required and self.user is None:
            return False
        for name, _, fkey, letter in SCREENS:
            if key in (fkey, letter):
                self.show(name)
                return True
        if key == "esc":
            self.show("overview")
            return True
        if key == "R":
            self.offer_restart()
            return True
        handler = {
            ("calls", "h"): self.hangup_selected,
            ("calls", "v"): self.monitor_selected,
            ("calls", "k"): lambda: self.call_agent_action("call.hold", "caller on hold"),
            ("calls", "r"): lambda: self.call_agent_action("call.unhold", "caller back from hold"),
            ("calls", "t"): self.transfer_selected,
            ("calls", "a"): self.consult_selected,
            ("calls", "b"): lambda: self.call_agent_action(
                "call.consult_cancel", "consultation ended, caller back"),
            ("calls", "j"): lambda: self.call_agent_action("call.three_way", "three-way call"),
            ("calls", "e"): lambda: self.call_agent_action(
                "call.transfer_complete", "caller handed to the consulted party"),
            ("queues", "a"): self.pause_selected,
            ("queues", "u"): lambda: self.agent_action("agents.unpause", "agent.unpause"),
            ("queues", "d"): self.logout_selected,
            ("power", "t"): self.lifeline_test,
            ("maintenance", "b"): lambda: self.busy_out(True),
            ("maintenance", "f"): lambda: self.busy_out(False),
            ("maintenance", "k"): self.loopback,
            ("maintenance", "r"): self.restart_prompt,
        }.get((self.screen, key))
        if handler is None:
            return False
        handler()
        return True

    # --- dialogs -----------------------------------------------------------------
    def _overlay(self, dialog: urwid.Widget, height: int) -> None:
        self.root.original_widget = urwid.Overlay(
            urwid.LineBox(dialog), self.frame, "center", 60, "middle", height + 2
        )

    def close_dialog(self) -> None:
        self.root.original_widget = self.frame

    def confirm(self, question: str, on_yes: Callable[[], None]) -> None:
        def answer(yes: bool) -> None:
            self.close_dialog()
            if yes:
                on_yes()
            else:
                self.say("cancelled")
        self._overlay(Confirm(question, answer), 3)

    def prompt(self, question: str, default: str, on_ok: Callable[[str], None]) -> None:
        def answer(value: str | None) -> None:
            self.close_dialog()
            if value is None:
                self.say("cancelled")
            else:
                on_ok(value.strip())
        self._overlay(Prompt(question, default, answer), 3)

    def say(self, text: str, attr: str = "message") -> None:
        self.message.set_text((attr, text[:79]))

    # --- audited actions ---------------------------------------------------------
    def audit(self, action: str, target: str, outcome: str = "ok",
              detail: dict[str, Any] | None = None) -> None:
        assert self.db is not None
        record(self.db, action, target=target, origin="console", actor=self.actor,
               outcome=outcome, detail=detail)

    def permitted(self, permission: str, action: str, target: str) -> bool:
        if self.db is None:
            self.say("database unavailable: changes cannot be audited, view only", "error")
            return False
        if not self.allowed(permission):
            role = self.user.role if self.user else "?"
            self.audit(action, target, f"refused: role {role} lacks {permission}")
            self.say(f"not allowed: role {role} lacks {permission}", "error")
            return False
        return True

    def perform(self, permission: str, action: str, target: str, daemon: Daemon, method: str,
                done: Callable[[Any], str], /, **params: Any) -> None:
        """Call ``method`` if the user's role has ``permission``; audit it either way
        (``target`` is the audit's; a request parameter may be called ``target`` too)."""
        if not self.permitted(permission, action, target):
            return
        try:
            result = self.source.call(daemon, method, **params)
        except ControlError as exc:
            self.audit(action, target, f"refused: {exc.message}", params)
            self.say(f"{action} {target}: {exc.message}", "error")
        else:
            self.audit(action, target, "ok", params)
            self.say(done(result))
        self.source.poke()

    def hangup_selected(self) -> None:
        call_id = self.selected.get("calls")
        if not call_id:
            self.say("no call selected", "error")
            return
        self.confirm(f"Hang up call {call_id}?", lambda: self.perform(
            "calls.control", "call.hangup", call_id, "telephonyd", "calls.hangup",
            lambda r: f"{r['hungup']} hung up", call_id=call_id, cause=16))

    def monitor_selected(self) -> None:
        """Supervise the selected call from a phone: listen, whisper or barge (ACD-5)."""
        call_id = self.selected.get("calls")
        if not call_id:
            self.say("no call selected", "error")
            return

        def chosen(value: str) -> None:
            phone, _, mode = value.partition(" ")
            mode = mode.strip() or "listen"
            if not phone or mode not in MONITOR_MODES:
                self.say(f"{value!r}: give PHONE and listen, whisper or barge (e.g. fxs2 "
                         "whisper)", "error")
                return
            self.perform("calls.control", "call.monitor", call_id, "telephonyd",
                         "calls.monitor", lambda r: f"{call_id}: ringing {r['device']}; "
                         f"answer to {r['mode']}", call_id=call_id, device=phone, mode=mode)
        self.prompt("Supervise from phone, mode (listen/whisper/barge):", "fxs2 listen", chosen)

    def call_agent_action(self, method: str, done: str, **params: Any) -> None:
        """An action on the selected call's agent session (hold, retrieve, transfer,
        consult, three-way, hand over)."""
        call_id = self.selected.get("calls")
        calls = self.source.snapshot.telephonyd.get("calls.list", "calls")
        call = next((c for c in calls if c.get("call_id") == call_id), None)
        agent = str(call.get("agent") or "") if call else ""
        if not agent:
            self.say("no call with an agent selected", "error")
            return
        self.perform("calls.control", method, agent, "telephonyd", method,
                     lambda r: f"agent {agent}: {done}", agent=agent, **params)

    def transfer_selected(self) -> None:
        if not self.selected.get("calls"):
            self.say("no call selected", "error")
            return
        self.prompt("Transfer caller to (queue:N, flow:N, external:NUMBER):",
                    "queue:", lambda target: self.call_agent_action(
                        "call.transfer", f"caller sent to {target}", target=target))

    def consult_selected(self) -> None:
        """Attended transfer, step 1: hold the selected call's caller and ring a colleague."""
        if not self.selected.get("calls"):
            self.say("no call selected", "error")
            return
        self.prompt("Consult (phone, extension or external:NUMBER):", "",
                    lambda target: self.call_agent_action(
                        "call.consult", f"caller on hold, ringing {target}", target=target))

    def agent_action(self, method: str, action: str, **params: Any) -> None:
        agent = self.selected.get("queues")
        if not agent:
            self.say("no agent selected", "error")
            return
        self.perform("agents.control", action, agent, "telephonyd", method,
                     lambda r: f"{r['name']}: {r['state']}", agent=agent, **params)

    def pause_selected(self) -> None:
        if self.selected.get("queues"):
            self.prompt("Pause reason:", "break",
                        lambda reason: self.agent_action("agents.pause", "agent.pause",
                                                         reason=reason or "break"))
        else:
            self.say("no agent selected", "error")

    def logout_selected(self) -> None:
        agent = self.selected.get("queues")
        if agent:
            self.confirm(f"Log agent {agent} out?",
                         lambda: self.agent_action("agents.logout", "agent.logout"))
        else:
            self.say("no agent selected", "error")

    def lifeline_test(self) -> None:
        self.confirm("Switch carrier lines to the lifeline phones for 10 s?", lambda: self.perform(
            "power.test", "power.test_lifeline", "lifeline", "powerd", "power.test_lifeline",
            lambda r: "lifeline engaged until "
            + time.strftime("%H:%M:%S", time.localtime(r["until"])),
            seconds=10))

    def _span_channel(self, value: str) -> tuple[str, int] | None:
        span, _, channel = value.partition("/")
        if not span or not channel.isdigit() or not 1 <= int(channel) <= 31:
            self.say(f"{value!r}: give SPAN/CHANNEL, channel 1-31 (e.g. span1/5)", "error")
            return None
        return span, int(channel)

    def busy_out(self, on: bool) -> None:
        span = self.selected.get("spans") or "span1"
        verb = "Busy out" if on else "Return to service"

        def chosen(value: str) -> None:
            parsed = self._span_channel(value)
            if parsed is None:
                return
            self.source.span_detail = parsed[0]
            self.confirm(f"{verb} {parsed[0]} channel {parsed[1]}?", lambda: self.perform(
                "spans.maintain", "span.busy_out", f"{parsed[0]}/{parsed[1]}", "telephonyd",
                "spans.busy_out", lambda r: f"{parsed[0]} channel {r['channel']}: {r['state']}",
                span=parsed[0], channel=parsed[1], on=on))
        self.prompt(f"{verb} which channel (SPAN/CHANNEL)?", f"{span}/", chosen)

    def loopback(self) -> None:
        span = self.selected.get("spans") or "span1"

        def chosen(value: str) -> None:
            name, _, mode = value.partition(" ")
            mode = mode.strip()
            if mode not in ("off", "local", "remote", "payload"):
                self.say("give SPAN MODE with MODE off, local, remote or payload", "error")
                return
            question = f"Set {name} loopback {mode}? Traffic on the span stops"
            self.confirm(question, lambda: self.perform(
                "spans.maintain", "span.loopback", name, "telephonyd", "spans.loopback",
                lambda r: f"{r['name']}: loopback {mode}, alarms {','.join(r['alarms']) or 'none'}",
                span=name, mode=mode))
        self.prompt("Loopback: SPAN MODE (off/local/remote/payload)", f"{span} local", chosen)

    def restart_prompt(self) -> None:
        def chosen(value: str) -> None:
            if value not in DAEMONS:
                self.say(f"{value!r}: telephonyd or powerd", "error")
                return
            self.confirm(f"Restart {value}? Its calls or monitoring stop briefly",
                         lambda: self.restart(value))
        self.prompt("Restart which daemon (telephonyd/powerd)?", "telephonyd", chosen)

    def offer_restart(self) -> None:
        snap = self.source.snapshot
        broken = [v for v in (snap.telephonyd, snap.powerd) if v.health in ("down", "hung")]
        if not broken:
            self.restart_prompt()
            return
        view = broken[0]
        self.confirm(f"{view.message}. Restart {view.name}?", lambda: self.restart(view.name))

    def restart(self, daemon: str) -> None:
        if not self.permitted("daemon.restart", "daemon.restart", daemon):
            return
        error = self._run(self.restart_command.format(daemon=daemon))
        if error:
            self.audit("daemon.restart", daemon, f"refused: {error}")
            self.say(f"restart {daemon} failed: {error}", "error")
        else:
            self.audit("daemon.restart", daemon)
            self.say(f"{daemon} restarted")
        self.source.poke()

    def write_network(self, values: dict[str, Any]) -> str | None:
        """Called by the network form; returns the error to show, or None."""
        from appliance.network import NetworkError, parse_settings, write_network_file

        target = str(values.get("interface", ""))
        if not self.permitted("network.configure", "network.write", target):
            return "not allowed"
        try:
            settings = parse_settings(
                target, values["address"], values["mask"], values["gateway"], values["dns"],
                dhcp=bool(values["dhcp"]),
            )
            path = write_network_file(settings, self.network_dir)
        except NetworkError as exc:
            self.audit("network.write", target, f"refused: {exc}")
            return "\n".join(f"{k}: {v}" for k, v in exc.problems.items())
        except OSError as exc:
            self.audit("network.write", target, f"refused: {exc}")
            return f"cannot write: {exc}"
        self.audit("network.write", target, "ok", {k: str(v) for k, v in values.items()})
        if not self.network_apply:
            self.say(f"written {path}")
            return None
        error = self._run(self.network_apply)
        self.audit("network.apply", target, f"refused: {error}" if error else "ok",
                   {"command": self.network_apply})
        if error:
            return f"written {path} but not applied: {error}"
        self.say(f"written and applied: {path}")
        return None

    def _run(self, command_line: str) -> str | None:
        """Run an operator command; the reason it failed, or None."""
        try:
            done = subprocess.run(shlex.split(command_line), capture_output=True, text=True,
                                  timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            return why[-1] if why else f"exit {done.returncode}"
        return None


class ConsoleLoop(urwid.MainLoop):
    """urwid's main loop, telling the console after each key so the selection follows."""

    def __init__(self, console: Console, screen: urwid.display.raw.Screen) -> None:
        self.console = console
        super().__init__(console.root, PALETTE, screen=screen, unhandled_input=self._unhandled,
                         handle_mouse=False)

    def _unhandled(self, key: Any) -> bool:
        return isinstance(key, str) and self.console.handle_key(key)

    def process_input(self, keys: Any) -> bool:
        handled: bool = super().process_input(keys)
        self.console.after_input()
        return handled


def _poke(fd: int) -> None:
    os.write(fd, b"x")


def _config(option: str | None) -> tuple[ApplianceConfig, str]:
    path = config_path_from(option)
    try:
        return load_config(path), ""
    except ConfigErrors as exc:
        return ApplianceConfig(), f"{path}: refused ({len(exc.errors)} errors), defaults in use"
    except OSError as exc:
        return ApplianceConfig(), f"{path}: {exc.strerror}, defaults in use"


def choose_encoding(charset: str, environ: dict[str, str]) -> str:
    """'utf-8' or 'ascii' (urwid then draws lines with DEC special graphics)."""
    if charset != "auto":
        return "utf-8" if charset == "utf8" else "ascii"
    if environ.get("TERM", "").split("-")[0] in DEC_TERMS:
        return "ascii"
    locale_name = environ.get("LC_ALL") or environ.get("LC_CTYPE") or environ.get("LANG") or "C"
    return "utf-8" if "utf" in locale_name.lower().replace("-", "") else "ascii"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance-console", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.environ.get("APPLIANCE_CONFIG"), metavar="FILE")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="seconds before a daemon counts as not answering")
    parser.add_argument("--restart-command", default=os.environ.get("APPLIANCE_CONSOLE_RESTART"),
                        help="command that restarts {daemon} (default: host.restart_command)")
    parser.add_argument("--network-dir", help="default: host.network_dir")
    parser.add_argument("--network-apply",
                        help="run after writing the network file ('' = do not apply; "
                        "default: host.network_apply)")
    parser.add_argument("--interface", help="interface set up at first boot "
                        "(default: host.interface)")
    parser.add_argument("--charset", choices=["auto", "utf8", "dec"], default="auto",
                        help="line drawing: UTF-8 or DEC special graphics (auto: TERM, locale)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    config, notice = _config(args.config)
    urwid.set_encoding(choose_encoding(args.charset, dict(os.environ)))
    db = None
    try:
        db = open_database(config.paths.database_path)
    except (StoreError, OSError) as exc:
        notice = notice or f"database unavailable ({exc}): view only"
    source = DataSource(
        {d: config.control_socket(d) for d in DAEMONS}, interval=args.interval,
        timeout=args.timeout,
        journal_reader=lambda: read_journal(list(UNITS), 200),
    )
    host = config.host  # the configuration names the host's commands (stand-ins in the demo)
    console = Console(
        source, db=db,
        restart_command=args.restart_command or shlex.join(host.restart_command),
        network_dir=args.network_dir or host.network_dir,
        network_apply=shlex.join(host.network_apply) if args.network_apply is None
        else args.network_apply,
        interface=args.interface or host.interface, notice=notice,
    )
    screen = urwid.display.raw.Screen()
    if os.environ.get("TERM", "").split("-")[0] in DEC_TERMS:
        screen.set_terminal_properties(colors=1)

    def unhandled(key: Any) -> None:
        if isinstance(key, str):
            console.handle_key(key)

    loop = ConsoleLoop(console, screen)
    console.loop = loop

    def redraw(data: bytes) -> bool:
        console.refresh()
        return True

    wake = loop.watch_pipe(redraw)
    source.start(lambda: _poke(wake))
    console.start()
    try:
        loop.run()
    finally:
        source.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
