"""The in-process event bus and its subscribers (control-socket event streams).

Topics are dotted names (``service.reload``, ``span.alarm``,
``queue.enter``). A subscriber names topic patterns with shell-style
wildcards (``span.*``). Each subscriber has a bounded queue: a subscriber
that falls behind loses the oldest events and is told how many it missed, so
a slow client can never stall the daemon.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Listener = Callable[["Event"], None]

log = logging.getLogger("appliance.runtime.events")


def _name(listener: Listener) -> str:
    return getattr(listener, "__qualname__", None) or repr(listener)


@dataclass(frozen=True)
class Event:
    topic: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def as_message(self) -> dict[str, Any]:
        return {"event": self.topic, "at": self.at, "data": self.data}


class Subscription:
    """A bounded queue of events matching some topic patterns."""

    def __init__(self, patterns: Iterable[str], maxsize: int = 1000) -> None:
        self.patterns = tuple(patterns) or ("*",)
        # compiled once: one regular expression for every pattern of the subscription
        self._match = re.compile("|".join(f"(?:{fnmatch.translate(p)})"
                                          for p in self.patterns)).match
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.missed = 0

    def matches(self, topic: str) -> bool:
        return self._match(topic) is not None

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.missed += 1
        self.queue.put_nowait(event)


class EventBus:
    """Publishes events to in-process listeners and control-socket subscriptions."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._listeners: list[tuple[str, Listener]] = []
        self._subscriptions: set[Subscription] = set()
        self.listener_failures = 0

    def publish(self, topic: str, **data: Any) -> Event:
        event = Event(topic, self._now(), data)
        for pattern, listener in list(self._listeners):
            if fnmatch.fnmatchcase(topic, pattern):
                self._deliver(listener, event)
        for subscription in list(self._subscriptions):
            if subscription.matches(topic):
                subscription.offer(event)
        return event

    def _deliver(self, listener: Listener, event: Event) -> None:
        """One listener's failure is its own: logged and counted, never raised into the
        publisher (the ACD's answer path must not fail because the recorder did) nor
        kept from the listeners after it."""
        try:
            listener(event)
        except Exception:
            self.listener_failures += 1
            log.exception("event bus: listener %s failed on %s", _name(listener), event.topic,
                          extra={"topic": event.topic})

    def listen(self, pattern: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every matching event; returns an unlisten function."""
        entry = (pattern, listener)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry)

    def subscribe(self, patterns: Iterable[str], maxsize: int = 1000) -> Subscription:
        subscription = Subscription(patterns, maxsize)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
