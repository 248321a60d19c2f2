"""QA sampling: N % of each agent's recordings per period, drawn reproducibly (REC-3)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.config.sections.recording import QaSection
from appliance.recording.index import RecordingIndex, SearchFilter
from appliance.stats.periods import check_range


class QaError(ValueError):
    """A QA request cannot be done as asked (unknown scorecard, bad score, nothing to sample)."""


@dataclass(frozen=True)
class Sample:
    recording_id: int
    agent: str
    period: str
    call_id: str


def period_of(at: float, period: str) -> str:
    """The sampling period label of a time: '2026-11-23', ISO week '2026-W48' or '2026-11'."""
    moment = datetime.fromtimestamp(at, UTC)
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return moment.strftime("%Y-%m")
    raise QaError(f"unknown QA period {period!r}; choose day, week or month")


def sample_recordings(index: RecordingIndex, settings: QaSection, start: float, end: float, *,
                      now: float, seed: int | str = "qa", percent: float | None = None,
                      agents: list[str] | None = None) -> list[Sample]:
    """Pick ``percent`` (default ``settings.sample_percent``) of each agent's finished
    recordings of ``[start, end)`` per period, rounded up, counting those already sampled.

    The draw is reproducible: the same seed, agent and period give the same picks.
    """
    check_range(start, end)
    share = settings.sample_percent if percent is None else percent
    if not 0 <= share <= 100:
        raise QaError(f"sample percentage must be 0..100, got {share}")
    groups: dict[tuple[str, str], list[int]] = {}
    calls: dict[int, str] = {}
    for rec in index.search(SearchFilter(start=start, end=end)):
        if not rec.agent or rec.status not in ("complete", "recovered"):
            continue
        if agents is not None and rec.agent not in agents:
            continue
        groups.setdefault((rec.agent, period_of(rec.start, settings.period)), []).append(rec.id)
        calls[rec.id] = rec.call_id
    picked: list[Sample] = []
    with index.transaction() as conn:
        for (agent, period), ids in sorted(groups.items()):
            already = {row[0] for row in conn.execute(
                "SELECT recording_id FROM qa_samples WHERE agent = ? AND period = ?",
                (agent, period))}
            wanted = math.ceil(len(ids) * share / 100.0) - len(already & set(ids))
            pool = sorted(set(ids) - already)
            if wanted <= 0 or not pool:
                continue
            chooser = random.Random(f"{seed}:{agent}:{period}")
            for rec_id in sorted(chooser.sample(pool, min(wanted, len(pool)))):
                conn.execute(
                    "INSERT INTO qa_samples (recording_id, agent, period, sampled_at) "
                    "VALUES (?, ?, ?, ?)", (rec_id, agent, period, now))
                picked.append(Sample(rec_id, agent, period, calls[rec_id]))
    return picked
