"""Call model: channels, calls, bridges, holds and the event log (DESIGN "calls")."""

from appliance.calls.channel import Bridge, Channel, ChannelListener, Switch
from appliance.calls.eventlog import EventLog
from appliance.calls.model import Call, CallError, CallManager

__all__ = [
    "Bridge",
    "Call",
    "CallError",
    "CallManager",
    "Channel",
    "ChannelListener",
    "EventLog",
    "Switch",
]
