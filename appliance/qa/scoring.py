"""QA scorecards from the configuration; scores stored per recording and reported per agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.config.sections.recording import Scorecard
from appliance.qa.sampling import QaError
from appliance.recording.index import RecordingIndex
from appliance.stats.periods import check_range


@dataclass(frozen=True)
class Evaluation:
    id: int
    recording_id: int
    agent: str
    scorecard: str
    score: float  # weighted percentage 0..100


def score_recording(index: RecordingIndex, scorecards: dict[str, Scorecard], recording_id: int,
                    scorecard: str, points: dict[str, float], *, scorer: str, now: float,
                    comment: str = "") -> Evaluation:
    """Store one evaluation: every item of the scorecard answered, each within 0..max_points.

    Score = sum(weight * points / max_points) / sum(weight) * 100.
    """
    card = scorecards.get(scorecard)
    if card is None:
        known = ", ".join(sorted(scorecards)) or "none configured"
        raise QaError(f"unknown scorecard {scorecard!r} (known: {known}); "
                      "scorecards are [recording.qa.scorecards.NAME] in the configuration")
    items = {item.name: item for item in card.items}
    unknown = sorted(set(points) - set(items))
    missing = sorted(set(items) - set(points))
    if unknown or missing:
        raise QaError(f"scorecard {scorecard!r}: unknown items {unknown}, unanswered items "
                      f"{missing}")
    for name, value in points.items():
        if not 0 <= value <= items[name].max_points:
            raise QaError(f"scorecard {scorecard!r} item {name!r}: {value} is outside "
                          f"0..{items[name].max_points:g}")
    total_weight = sum(item.weight for item in card.items)
    score = 100.0 * sum(items[n].weight * v / items[n].max_points
                        for n, v in points.items()) / total_weight
    rec = index.get(recording_id)
    with index.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO qa_evaluations (recording_id, call_id, agent, scorecard, scorer, "
            "scored_at, score, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.id, rec.call_id, rec.agent, scorecard, scorer, now, score, comment))
        evaluation_id = cursor.lastrowid
        assert evaluation_id is not None
        conn.executemany(
            "INSERT INTO qa_answers (evaluation_id, item, points, max_points, weight) "
            "VALUES (?, ?, ?, ?, ?)",
            [(evaluation_id, n, v, items[n].max_points, items[n].weight)
             for n, v in sorted(points.items())])
    return Evaluation(evaluation_id, rec.id, rec.agent, scorecard, score)


def qa_report(index: RecordingIndex, start: float, end: float) -> dict[str, dict[str, Any]]:
    """Per agent: samples drawn and scored, evaluations, average/min/max score in the range."""
    check_range(start, end)
    out: dict[str, dict[str, Any]] = {}
    for agent, count, avg, low, high in index.query(
        "SELECT agent, count(*), avg(score), min(score), max(score) FROM qa_evaluations "
        "WHERE scored_at >= ? AND scored_at < ? GROUP BY agent ORDER BY agent",
        (start, end),
    ):
        out[agent] = {"evaluations": count, "avg_score": avg, "min_score": low,
                      "max_score": high, "samples": 0, "samples_scored": 0}
    for agent, samples, scored in index.query(
        "SELECT s.agent, count(DISTINCT s.id), count(DISTINCT e.recording_id) FROM qa_samples s "
        "JOIN recordings r ON r.id = s.recording_id "
        "LEFT JOIN qa_evaluations e ON e.recording_id = s.recording_id "
        "WHERE r.start >= ? AND r.start < ? GROUP BY s.agent", (start, end),
    ):
        entry = out.setdefault(agent, {"evaluations": 0, "avg_score": None,
                                       "min_score": None, "max_score": None})
        entry["samples"], entry["samples_scored"] = samples, scored
    return out
