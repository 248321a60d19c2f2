"""E1 span drivers: one contract (:mod:`drivers.span.base`), DAHDI and simulator backends."""

from __future__ import annotations

from drivers.registry import BackendRegistry, DeviceAddress
from drivers.span.base import (
    BCHANNELS,
    FRAME_SAMPLES,
    Loopback,
    Span,
    SpanAlarms,
    SpanConfig,
    SpanCounters,
    SpanEvent,
)
from drivers.span.errors import SpanError, SpanInitError, SpanLinkLost, SpanOperationError

REGISTRY = BackendRegistry(
    "span",
    {
        "sim": "drivers.span.sim:SimSpan",
        "dahdi": "drivers.span.dahdi:DahdiSpan",
        "spy": "drivers.span.spy:SpySpan",
    },
)


def open_span(address: str) -> Span:
    """Open the span named by a configuration address (``dahdi:1``, ``sim:/path``)."""
    parsed = DeviceAddress.parse(address)
    backend = REGISTRY.resolve(parsed)
    span: Span = backend(address)
    return span


__all__ = [
    "BCHANNELS",
    "FRAME_SAMPLES",
    "REGISTRY",
    "Loopback",
    "Span",
    "SpanAlarms",
    "SpanConfig",
    "SpanCounters",
    "SpanError",
    "SpanEvent",
    "SpanInitError",
    "SpanLinkLost",
    "SpanOperationError",
    "open_span",
]
