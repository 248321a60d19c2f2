"""Fuzzing budgets: a fixed, small one in the default suite, a long one in `make test-slow`.

Hypothesis profiles (https://hypothesis.readthedocs.io/en/latest/settings.html):
``HYPOTHESIS_PROFILE=long`` (set by ``make test-slow``) multiplies the examples
a hundredfold. No deadline: the machine is shared, and a slow example is not a bug.
Every crash found becomes an ``@example`` regression in the test that found it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default-suite", max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default-suite"))

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def examples(default: int) -> int:
    """The example count for an expensive property: ``default`` here, 100x in the long run."""
    return default * 100 if LONG else default
