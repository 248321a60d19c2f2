"""Call-center statistics computed from the append-only event tables (STAT-*, docs/statistics.md).

Nothing here keeps a running counter: every figure is a query over
``queue_log``, ``cdr`` and ``ivr_visits``, so the figures survive restarts and
can be recomputed for any range.
"""

from appliance.stats.agents import AgentFigures, agent_events, agent_report, agent_stats
from appliance.stats.errors import StatsError
from appliance.stats.ivr import IvrFigures, ivr_report
from appliance.stats.live import Snapshot, snapshot
from appliance.stats.periods import parse_time
from appliance.stats.queues import FIGURE_NAMES, QueueFigures, QueueRow, queue_report, queue_stats
from appliance.stats.trunks import TrunkFigures, cdr_rows, trunk_report, write_cdr_csv

__all__ = [
    "FIGURE_NAMES",
    "AgentFigures",
    "IvrFigures",
    "QueueFigures",
    "QueueRow",
    "Snapshot",
    "StatsError",
    "TrunkFigures",
    "agent_events",
    "agent_report",
    "agent_stats",
    "cdr_rows",
    "ivr_report",
    "parse_time",
    "queue_report",
    "queue_stats",
    "snapshot",
    "trunk_report",
    "write_cdr_csv",
]
