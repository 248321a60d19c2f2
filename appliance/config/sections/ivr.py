"""``[ivr]``: flows and their nodes, schedules, holiday calendars, caller lists, inbound routes.

Field checks are done here; the graph checks (unreachable nodes, loops with no
exit, missing prompts, unknown queues) are done by
:func:`appliance.ivr.validate.validate_ivr`, which the daemon and
``appliancectl config check`` run before a configuration is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.validate import setting

NAME = r"[A-Za-z0-9_.-]{1,32}"

NodeType = Literal[
    "play",
    "menu",
    "collect",
    "time",
    "callerlist",
    "route_dnis",
    "route_trunk",
    "queue",
    "voicemail",
    "forward",
    "lookup",
    "set",
    "survey",
    "hangup",
]


@dataclass(frozen=True)
class NodeEntry:
    name: str = setting(doc="Node name, unique in its flow", pattern=NAME)
    type: NodeType = setting(doc="What the node does (docs/ivr.md)")
    prompt: str = setting("", doc="Prompt played (play, menu, collect, voicemail, survey)")
    next: str = setting("", doc="Node that follows; '' hangs up")
    choices: dict[str, str] = setting(doc="menu: DTMF key -> node", default_factory=dict)
    timeout: float = setting(5.0, doc="Seconds to wait for a key / a digit / a reply", gt=0, le=120)
    retries: int = setting(3, doc="menu/collect: tries before 'failure'", ge=1, le=10)
    invalid_prompt: str = setting("", doc="menu: played after a key that is not a choice")
    timeout_prompt: str = setting("", doc="menu: played when no key came in time")
    failure: str = setting(
        "", doc="Node after the last failed try (menu, collect, forward, lookup)"
    )
    max_digits: int = setting(10, doc="collect: most digits", ge=1, le=32)
    terminator: str = setting("#", doc="collect: key ending input early", pattern=r"[#*]?")
    variable: str = setting(
        "", doc="collect/set: variable written", pattern=r"[A-Za-z_][A-Za-z0-9_]*|"
    )
    value: str = setting("", doc="set: value, may use ${variable}")
    schedule: str = setting("", doc="time: schedule name")
    open: str = setting("", doc="time: node when open")
    closed: str = setting("", doc="time: node when closed")
    holiday: str = setting("", doc="time: node on a holiday ('' = same as closed)")
    lists: list[str] = setting(
        doc="callerlist: caller lists checked in order", default_factory=list
    )
    vip: str = setting("", doc="callerlist: node for VIP callers ('' = next, with VIP priority)")
    whitelisted: str = setting("", doc="callerlist: node for whitelisted callers ('' = next)")
    routes: dict[str, str] = setting(
        doc="route_dnis/route_trunk: number or trunk -> node (a trailing '*' matches a prefix)",
        default_factory=dict,
    )
    queue: str = setting("", doc="queue: the ACD queue (may use ${variable})")
    on_timeout: str = setting("", doc="queue: node after max wait ('' = the queue's destination)")
    on_empty: str = setting("", doc="queue: node when no agent can take calls (PWR-5 forwarding)")
    on_key: str = setting("", doc="queue: node after the caller pressed the exit key")
    survey: str = setting("", doc="queue: survey node played after the agent hangs up (IVR-8)")
    box: str = setting("", doc="voicemail: mailbox number")
    max_seconds: float = setting(120.0, doc="voicemail: longest message", gt=0)
    number: str = setting("", doc="forward: external number (may use ${variable})")
    ring_seconds: float = setting(30.0, doc="forward: seconds the external number may ring", gt=0)
    url: str = setting("", doc="lookup: URL; ${variable} expanded, the reply is a JSON object")
    satisfied: str = setting("1", doc="survey: key meaning satisfied", pattern=r"[0-9]")
    unsatisfied: str = setting("2", doc="survey: key meaning not satisfied", pattern=r"[0-9]")


@dataclass(frozen=True)
class FlowEntry:
    name: str = setting(doc="Flow name", pattern=NAME)
    start: str = setting(doc="First node")
    nodes: list[NodeEntry] = setting(doc="The flow's nodes", default_factory=list)


@dataclass(frozen=True)
class ScheduleEntry:
    name: str = setting(doc="Schedule name", pattern=NAME)
    timezone: str = setting("UTC", doc="IANA time zone of the hours, e.g. 'Europe/Berlin'")
    hours: dict[str, list[str]] = setting(
        doc="Weekday (mon..sun) -> opening ranges 'HH:MM-HH:MM' (end exclusive)",
        default_factory=dict,
    )
    holidays: list[str] = setting(doc="Holiday calendars applied", default_factory=list)


@dataclass(frozen=True)
class HolidayCalendar:
    name: str = setting(doc="Calendar name", pattern=NAME)
    dates: list[str] = setting(
        doc="'YYYY-MM-DD' (one year) or 'MM-DD' (every year) days closed", default_factory=list
    )


@dataclass(frozen=True)
class CallerList:
    name: str = setting(doc="List name", pattern=NAME)
    kind: Literal["blacklist", "whitelist", "vip"] = setting(doc="What a match means")
    numbers: list[str] = setting(
        doc="Caller numbers; a trailing '*' matches a prefix", default_factory=list
    )


@dataclass(frozen=True)
class InboundRoute:
    flow: str = setting(doc="Flow run for matching calls")
    # E.164 §6: at most 15 digits, plus a leading '+' and the prefix '*'
    dnis: str = setting(
        "", doc="Called number (trailing '*' = prefix); '' = any", max_length=17
    )
    trunk: str = setting("", doc="Arriving trunk (span or port name); '' = any", max_length=32)


@dataclass(frozen=True)
class IvrSection:
    flows: list[FlowEntry] = setting(doc="IVR flows", default_factory=list)
    schedules: list[ScheduleEntry] = setting(doc="Weekly opening hours", default_factory=list)
    holidays: list[HolidayCalendar] = setting(doc="Holiday calendars", default_factory=list)
    caller_lists: list[CallerList] = setting(doc="Black, white and VIP lists", default_factory=list)
    routes: list[InboundRoute] = setting(
        doc="Inbound routes, first match wins", default_factory=list
    )
    prompts_dir: str = setting("", doc="If set, every prompt must exist there as NAME.wav")
