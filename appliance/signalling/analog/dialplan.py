"""Dial plan for digits collected from an FXS phone.

Patterns in the familiar exchange notation: ``X`` any digit, ``Z`` 1-9,
``N`` 2-9, ``[1-5]`` a set, ``.`` one or more further digits, ``!`` zero or
more, anything else literally (``*``, ``#``, digits). ``2XX`` is a complete
three-digit extension; ``9.`` sends everything after the access code 9 to a
trunk, complete when the inter-digit timer runs out (or on ``#``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass


class Match(enum.Enum):
    NONE = "none"  # no pattern can match these digits
    PARTIAL = "partial"  # more digits needed
    AMBIGUOUS = "ambiguous"  # complete, but more digits could still match (wait for timeout)
    COMPLETE = "complete"


@dataclass(frozen=True)
class DialRule:
    pattern: str
    target: str  # "ext" (an FXS extension), a port name, "trunk" (any FXO), "feature:<name>"
    strip: int = 0  # leading digits (an access code) not sent to the trunk

    def destination(self, digits: str) -> str:
        """What ``digits`` dialled by this rule reach, as the call core names it: an
        extension, ``external:NUMBER`` (access code stripped) or a port name."""
        if self.target == "trunk":
            return f"external:{digits[self.strip:]}"
        return digits if self.target == "ext" else self.target


def feature_rules(features: Mapping[str, str]) -> list[DialRule]:
    """Feature codes (code -> feature name) as rules: digits may follow a code (an agent
    id, a pause reason), so each is complete on '#' or when the inter-digit timer runs out
    (at once for a number dialled en bloc)."""
    return [DialRule(code + "!", f"feature:{name}") for code, name in features.items()]


def _compile(pattern: str) -> list[str]:
    """Pattern as a list of single-digit character classes; '.'/'!' as markers."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                raise ValueError(f"dial pattern {pattern!r}: '[' without ']'")
            tokens.append(pattern[i: end + 1])
            i = end + 1
            continue
        if ch == "X":
            tokens.append("[0-9]")
        elif ch == "Z":
            tokens.append("[1-9]")
        elif ch == "N":
            tokens.append("[2-9]")
        elif ch in ".!":
            if i != len(pattern) - 1:
                raise ValueError(f"dial pattern {pattern!r}: '{ch}' must come last")
            tokens.append(ch)
        elif ch in "0123456789*#ABCD":
            tokens.append(re.escape(ch))
        else:
            raise ValueError(f"dial pattern {pattern!r}: character {ch!r} not allowed")
        i += 1
    return tokens


class DialPlan:
    def __init__(self, rules: list[DialRule]) -> None:
        self.rules = rules
        self._compiled = [(_compile(r.pattern), r) for r in rules]

    @staticmethod
    def _match_one(tokens: list[str], digits: str) -> Match:
        fixed = [t for t in tokens if t not in ".!"]
        tail = tokens[-1] if tokens and tokens[-1] in ".!" else ""
        for i, ch in enumerate(digits):
            if i < len(fixed):
                if not re.fullmatch(fixed[i], ch):
                    return Match.NONE
            elif not tail or ch == "#":
                return Match.NONE
        if len(digits) < len(fixed):
            return Match.PARTIAL
        if tail == ".":
            return Match.PARTIAL if len(digits) == len(fixed) else Match.AMBIGUOUS
        if tail == "!":
            return Match.AMBIGUOUS
        return Match.COMPLETE

    def match(self, digits: str) -> tuple[Match, DialRule | None]:
        """Best verdict over all rules for ``digits`` collected so far."""
        best: tuple[Match, DialRule | None] = (Match.NONE, None)
        rank = {Match.NONE: 0, Match.PARTIAL: 1, Match.AMBIGUOUS: 2, Match.COMPLETE: 3}
        partial_exists = False
        for tokens, rule in self._compiled:
            verdict = self._match_one(tokens, digits)
            if verdict is Match.PARTIAL:
                partial_exists = True
            if rank[verdict] > rank[best[0]]:
                best = (verdict, rule)
        if best[0] is Match.COMPLETE and partial_exists:
            return Match.AMBIGUOUS, best[1]  # e.g. '20' complete but '201' still possible
        return best
