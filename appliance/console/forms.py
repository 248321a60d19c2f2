"""The login form and the first-boot network form."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import urwid

from appliance.console.dialogs import Size
from appliance.network import read_network_file


class LoginForm(urwid.WidgetWrap[Any]):
    """User name and password (echoed as '*'); Enter in the password field logs in."""

    def __init__(self, submit: Callable[[str, str], None]) -> None:
        self._submit = submit
        self.user = urwid.Edit("User:     ")
        self.password = urwid.Edit("Password: ", mask="*")
        self.error = urwid.Text("")
        self.pile = urwid.Pile([
            urwid.Text(("title", "Appliance console - log in")),
            urwid.Text(""),
            self.user,
            self.password,
            urwid.Text(""),
            self.error,
            urwid.Text("Enter moves on / logs in.  F10 quits."),
        ], focus_item=2)
        super().__init__(urwid.Filler(urwid.Padding(self.pile, left=2, right=2), valign="top"))

    def keypress(self, size: Size, key: str) -> str | None:
        if key in ("enter", "tab", "down") and self.pile.focus is self.user:
            self.pile.focus_position = 3
            return None
        if key == "enter" and self.pile.focus is self.password:
            self._submit(self.user.edit_text.strip(), self.password.edit_text)
            return None
        if key == "up" and self.pile.focus is self.password:
            self.pile.focus_position = 2
            return None
        result: str | None = super().keypress(size, key)
        return result

    def fail(self, message: str) -> None:
        self.error.set_text(("error", message))
        self.password.set_edit_text("")


class NetworkForm(urwid.WidgetWrap[Any]):
    """Address, mask, gateway and DNS, validated, written as a systemd-networkd file."""

    FIELDS = ("interface", "address", "mask", "gateway", "dns")

    def __init__(self, interface: str, directory: str,
                 write: Callable[[dict[str, Any]], str | None]) -> None:
        self.directory = directory
        self._write = write
        self.edits = {
            "interface": urwid.Edit("Interface  ", interface),
            "address": urwid.Edit("Address    "),
            "mask": urwid.Edit("Mask       "),
            "gateway": urwid.Edit("Gateway    "),
            "dns": urwid.Edit("DNS        "),
        }
        self.dhcp = urwid.CheckBox("Use DHCP instead (address, mask, gateway ignored)")
        self.result = urwid.Text("")
        button = urwid.Button("Write", on_press=lambda _b: self.submit())
        items: list[urwid.Widget] = [
            urwid.Text(("title", "First-boot network set-up (systemd-networkd)")),
            urwid.Text(f"Written to {directory}/10-appliance-<interface>.network"),
            urwid.Text(""),
            *self.edits.values(),
            self.dhcp,
            urwid.Text(""),
            urwid.Padding(urwid.AttrMap(button, None, focus_map="focus"), width=9),
            urwid.Text(""),
            self.result,
        ]
        self.walker: Any = urwid.SimpleFocusListWalker(items)
        super().__init__(urwid.ListBox(self.walker))

    def reload(self) -> None:
        """Pre-fill from the file written before, if any."""
        interface = self.edits["interface"].edit_text.strip()
        path = os.path.join(self.directory, f"10-appliance-{interface}.network")
        if os.path.exists(path):
            values = read_network_file(path)
            for key in ("address", "mask", "gateway", "dns"):
                self.edits[key].set_edit_text(values[key])
            self.dhcp.set_state(bool(values["dhcp"]), do_callback=False)
        self.walker.set_focus(3)

    def values(self) -> dict[str, Any]:
        return {**{k: e.edit_text for k, e in self.edits.items()}, "dhcp": self.dhcp.get_state()}

    def submit(self) -> None:
        error = self._write(self.values())
        self.result.set_text(("error", f"NOT WRITTEN:\n{error}") if error else ("ok", "written"))
