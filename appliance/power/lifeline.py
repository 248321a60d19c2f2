"""Lifeline relays (TRUNK-4, PWR-3): carrier lines handed to analog phones when in doubt.

A relay de-energised is the lifeline: the carrier line goes straight to the
analog phone. The controller keeps a set of *reasons* for the lifeline
(``power``, ``telephony-unhealthy``, ``test``, ``stopping``, ``board-fault``,
``relay-stuck``, ``starting``); while any reason holds, every relay is
de-energised. When the last reason goes, each pair returns to the appliance
only once its bypass line is idle (no loop current: the phone is on-hook),
so a call in progress is never cut; the controller logs why it waits.

Faults end safe: an I2C error while engaging marks ``failsafe_needed`` (the
service then stops petting the watchdog and the board drops the coils by
itself); an error while returning keeps the lifeline; a relay whose contact
readback disagrees with its coil latches ``relay-stuck`` (lifeline for all).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from drivers.board import BoardError, LifelineBoard

log = logging.getLogger("appliance.power")

T = TypeVar("T")
IoRunner = Callable[[Callable[[], T]], Awaitable[T]]
EventSink = Callable[[str, str, str, dict[str, Any]], None]


@dataclass
class PairState:
    index: int  # relay index on the board
    name: str
    fxo: str = ""
    fxs: str = ""
    position: str = "lifeline"  # 'lifeline', 'appliance', 'waiting' (to return, call up)
    off_hook: bool | None = None
    contact: bool | None = None  # readback: True = energised (appliance path)


class Lifeline:
    def __init__(
        self,
        board: LifelineBoard | None,
        pairs: list[PairState],
        io: Any,
        on_event: EventSink,
    ) -> None:
        self.board = board
        self.pairs = pairs
        self._io = io
        self._event = on_event
        self.reasons: set[str] = {"starting"}
        self.failsafe_needed = board is None
        self.stuck: set[str] = set()
        self.board_error = "" if board is not None else "no board"
        self._waiting_logged: set[str] = set()

    @property
    def engaged(self) -> bool:
        """True while any pair is on the lifeline (or waiting to leave it), and whenever the
        board cannot be driven (its relays are then de-energised: lifeline)."""
        if self.board is None or not self.pairs:
            return True
        return any(p.position != "appliance" for p in self.pairs)

    async def _call(self, fn: Callable[[], T]) -> T:
        result: T = await self._io(fn)
        return result

    # ---- reasons -------------------------------------------------------------------------
    async def engage(self, reason: str, detail: dict[str, Any] | None = None) -> None:
        new = reason not in self.reasons
        self.reasons.add(reason)
        if new or any(p.position != "lifeline" for p in self.pairs):
            await self._drop_all(reason, detail or {})

    async def release(self, reason: str) -> None:
        if reason in self.reasons:
            self.reasons.discard(reason)
            log.info("lifeline: reason %r cleared; still held by: %s", reason,
                     ", ".join(sorted(self.reasons)) or "nothing")
        if not self.reasons:
            await self.try_return()

    async def _drop_all(self, reason: str, detail: dict[str, Any]) -> None:
        before = [p.position for p in self.pairs]
        if self.board is None:
            self.failsafe_needed = True
            return
        board = self.board
        try:
            await self._call(lambda: board.set_all(False))
        except BoardError as exc:
            self.failsafe_needed = True
            self.board_error = str(exc)
            log.critical(
                "lifeline: cannot de-energise the relays (%s): stopping the watchdog pets so "
                "the board drops them by itself", exc, extra={"reason": reason})
            self._event("board_fault", "", "relay-write-failed", {"error": str(exc)})
            return
        self.failsafe_needed = False
        for pair in self.pairs:
            pair.position = "lifeline"
        self._waiting_logged.clear()
        if any(b != "lifeline" for b in before):
            self._event("lifeline_engaged", "appliance", reason,
                        {**detail, "reasons": sorted(self.reasons)})
        await self.verify()

    # ---- return to the appliance, only when idle --------------------------------------------
    async def try_return(self) -> None:
        if self.reasons or self.board is None:
            return
        board = self.board
        try:
            hooks = await self._call(board.hooks)
        except BoardError as exc:
            log.error("lifeline: cannot read the hook sense (%s); staying on lifeline", exc)
            self.board_error = str(exc)
            return
        returned: list[str] = []
        for pair, off_hook in zip(self.pairs, hooks, strict=False):
            pair.off_hook = off_hook
            if pair.position == "appliance":
                continue
            if off_hook:
                if pair.name not in self._waiting_logged:
                    self._waiting_logged.add(pair.name)
                    pair.position = "waiting"
                    log.warning(
                        "lifeline %s: a call is up on the analog phone (loop current on the "
                        "bypass line); relay stays on lifeline until on-hook", pair.name,
                        extra={"pair": pair.name, "port": pair.fxo},
                    )
                    self._event("lifeline_waiting", "lifeline_engaged", "call-in-progress",
                                {"pair": pair.name})
                continue
            try:
                await self._call(_energise(board, pair.index))
            except BoardError as exc:
                log.error("lifeline %s: cannot energise (%s); stays on lifeline", pair.name, exc)
                self.board_error = str(exc)
                return
            pair.position = "appliance"
            self._waiting_logged.discard(pair.name)
            returned.append(pair.name)
        if returned:
            self.board_error = ""
            self._event("lifeline_released", "lifeline_engaged", "idle",
                        {"pairs": returned, "waiting": [p.name for p in self.pairs
                                                        if p.position == "waiting"]})
            await self.verify()

    # ---- readback ------------------------------------------------------------------------
    async def verify(self) -> bool:
        """Compare each contact with its coil command; latch ``relay-stuck`` on a mismatch."""
        if self.board is None:
            return False
        board = self.board
        try:
            contacts = await self._call(board.contacts)
        except BoardError as exc:
            log.error("lifeline: cannot read relay contacts (%s)", exc)
            self.board_error = str(exc)
            return False
        bad: list[PairState] = []
        for pair, contact in zip(self.pairs, contacts, strict=False):
            pair.contact = contact
            wanted = pair.position == "appliance"
            if contact != wanted:
                bad.append(pair)
        for pair in bad:
            if pair.name in self.stuck:
                continue
            self.stuck.add(pair.name)
            side = "appliance" if pair.contact else "lifeline"
            log.critical(
                "lifeline %s: relay stuck on the %s side (coil says %s); holding every line on "
                "lifeline; replace the relay", pair.name, side,
                "appliance" if pair.position == "appliance" else "lifeline",
                extra={"pair": pair.name, "port": pair.fxo},
            )
            self._event("relay_stuck", pair.position, "contact-readback-mismatch",
                        {"pair": pair.name, "contact_energised": pair.contact})
        if bad and "relay-stuck" not in self.reasons:
            await self.engage("relay-stuck", {"pairs": [p.name for p in bad]})
        return not bad

    async def poll(self) -> None:
        """Periodic: verify the contacts and retry pending returns."""
        await self.verify()
        if not self.reasons and any(p.position != "appliance" for p in self.pairs):
            await self.try_return()
        elif self.board is not None and self.reasons:
            board = self.board
            try:
                hooks = await self._call(board.hooks)
                for pair, off_hook in zip(self.pairs, hooks, strict=False):
                    pair.off_hook = off_hook
            except BoardError as exc:
                self.board_error = str(exc)

    def status(self) -> dict[str, Any]:
        return {
            "engaged": self.engaged,
            "reason": ", ".join(sorted(self.reasons)),
            "reasons": sorted(self.reasons),
            "failsafe_needed": self.failsafe_needed,
            "stuck": sorted(self.stuck),
            "board_error": self.board_error,
            "pairs": [
                {"name": p.name, "relay": p.index, "fxo": p.fxo, "fxs": p.fxs,
                 "position": p.position, "off_hook": p.off_hook, "contact_energised": p.contact}
                for p in self.pairs
            ],
            # the shape `appliancectl power status` prints
            "relays": [
                {"pair": p.name, "energised": p.position == "appliance", "readback": p.contact}
                for p in self.pairs
            ],
        }


def _energise(board: LifelineBoard, index: int) -> Callable[[], None]:
    return lambda: board.set_relay(index, True)
