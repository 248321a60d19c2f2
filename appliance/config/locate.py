"""Find the line of a key path in TOML text.

``tomllib`` gives values but not positions, so the line of a key is recovered
from the text: table headers (``[a.b]``, ``[[a.b]]``) and ``key = value`` lines
(dotted and quoted keys included, TOML 1.0 §Keys). It is used only to point an
error at a line; when a key cannot be found its nearest enclosing table is
named instead, and line 1 as the last resort.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _split_key(text: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(text)]


class LineLocator:
    """Maps key paths like ``("rig", "spans", 1, "address")`` to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str | int, ...], int] = {}
        table: tuple[str | int, ...] = ()
        array_counts: dict[tuple[str | int, ...], int] = {}
        in_multiline: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            if in_multiline is not None:
                if raw.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = _HEADER.match(raw)
            if header and not raw.lstrip().startswith('["') and "=" not in raw.split("]")[0]:
                parts = _split_key(header.group(2))
                if header.group(1) == "[[":
                    base = self._resolve_arrays(tuple(parts), array_counts, opening=True)
                    table = base
                else:
                    table = self._resolve_arrays(tuple(parts), array_counts, opening=False)
                self._lines.setdefault(table, number)
                continue
            keyline = _KEYLINE.match(raw)
            if keyline:
                path = table + tuple(_split_key(keyline.group(1)))
                for i in range(len(table) + 1, len(path) + 1):
                    self._lines.setdefault(path[:i], number)
                for quote in ('"""', "'''"):
                    if raw.count(quote) % 2 == 1:
                        in_multiline = quote

    def _resolve_arrays(
        self,
        parts: tuple[str, ...],
        counts: dict[tuple[str | int, ...], int],
        opening: bool,
    ) -> tuple[str | int, ...]:
        """Insert array-of-tables indices into a header path."""
        resolved: tuple[str | int, ...] = ()
        for i, part in enumerate(parts):
            resolved = (*resolved, part)
            last = i == len(parts) - 1
            if last and opening:
                index = counts.get(resolved, -1) + 1
                counts[resolved] = index
                resolved = (*resolved, index)
            elif resolved in counts:
                resolved = (*resolved, counts[resolved])
        return resolved

    def line_of(self, path: tuple[str | int, ...]) -> int:
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return 1
