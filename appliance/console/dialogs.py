"""Modal dialogs: a yes/no confirmation and a one-line prompt, keyboard only."""

from __future__ import annotations

from collections.abc import Callable

import urwid

Size = tuple[()] | tuple[int] | tuple[int, int]


class Confirm(urwid.WidgetWrap[urwid.Pile]):
    """``y`` confirms; ``n`` or Esc cancels; every other key is swallowed."""

    def __init__(self, question: str, answer: Callable[[bool], None]) -> None:
        self._answer = answer
        super().__init__(urwid.Pile([
            urwid.Text(question),
            urwid.Text(""),
            urwid.Text(("title", "y = yes    n or Esc = no")),
        ]))

    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        if key in ("y", "Y"):
            self._answer(True)
        elif key in ("n", "N", "esc"):
            self._answer(False)
        return None


class Prompt(urwid.WidgetWrap[urwid.Pile]):
    """A one-line answer: Enter accepts, Esc cancels."""

    def __init__(self, question: str, default: str, answer: Callable[[str | None], None]) -> None:
        self._answer = answer
        self.edit = urwid.Edit("> ", default)
        super().__init__(urwid.Pile([
            urwid.Text(question),
            self.edit,
            urwid.Text(("title", "Enter = OK    Esc = cancel")),
        ], focus_item=1))

    def keypress(self, size: Size, key: str) -> str | None:
        if key == "enter":
            self._answer(self.edit.edit_text)
            return None
        if key == "esc":
            self._answer(None)
            return None
        self._w.keypress(size, key)
        return None
