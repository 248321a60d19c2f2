"""Power and continuity (PWR-1..3, TRUNK-4): UPS policy, lifeline relays, orderly shutdown.

:class:`PowerService` is the library appliance-powerd hosts; see docs/power.md.
"""

from appliance.power.lifeline import Lifeline, PairState
from appliance.power.policy import PowerInputs, PowerPolicy, PowerState, Transition
from appliance.power.service import PowerService

__all__ = [
    "Lifeline",
    "PairState",
    "PowerInputs",
    "PowerPolicy",
    "PowerService",
    "PowerState",
    "Transition",
]
