"""Errors of the statistics package."""

from __future__ import annotations


class StatsError(ValueError):
    """A report cannot be computed as asked (impossible range, unknown grouping, bad threshold)."""
