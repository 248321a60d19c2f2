"""REC-3: QA sampling per agent per period, scorecards from the configuration, scores per agent."""

from __future__ import annotations

from pathlib import Path

import pytest
from recdb import make_recording, recordings_database

from appliance.config.sections.recording import QaSection, Scorecard, ScorecardItem
from appliance.config.validate import Problem, build
from appliance.qa import QaError, qa_report, sample_recordings, score_recording
from appliance.recording import RecordingIndex, delete

T0 = 1_767_225_600.0  # Thursday 2026-01-01, ISO week 2026-W01
CARDS = {"basic": Scorecard([ScorecardItem("greeting", 5), ScorecardItem("solution", 10, 3.0)])}


@pytest.fixture
def index(tmp_path: Path) -> RecordingIndex:
    idx = RecordingIndex(recordings_database(str(tmp_path / "a.db")))
    root = str(tmp_path / "rec")
    for i in range(10):
        make_recording(idx, root, f"a1-{i}", start=T0 + i * 60, agent="a1", seconds=0.1)
    for i in range(3):
        make_recording(idx, root, f"a2-{i}", start=T0 + i * 60, agent="a2", seconds=0.1)
    return idx


def test_sampling_takes_n_percent_per_agent_rounded_up(index: RecordingIndex) -> None:
    picked = sample_recordings(index, QaSection(sample_percent=25, period="week"), T0, T0 + 86400,
                               now=T0, seed=1)
    per_agent = {agent: [s for s in picked if s.agent == agent] for agent in ("a1", "a2")}
    assert len(per_agent["a1"]) == 3 and len(per_agent["a2"]) == 1  # ceil(2.5), ceil(0.75)
    assert {s.period for s in picked} == {"2026-W01"}
    again = sample_recordings(index, QaSection(sample_percent=25), T0, T0 + 86400, now=T0, seed=1)
    assert again == []  # the period's quota is already drawn
    more = sample_recordings(index, QaSection(sample_percent=50), T0, T0 + 86400, now=T0, seed=1)
    assert len([s for s in more if s.agent == "a1"]) == 2  # tops up to ceil(5)


def test_sampling_is_reproducible(tmp_path: Path) -> None:
    draws = []
    for n in range(2):
        idx = RecordingIndex(recordings_database(str(tmp_path / f"{n}.db")))
        for i in range(20):
            make_recording(idx, str(tmp_path / f"r{n}"), f"c{i}", start=T0 + i, seconds=0.05)
        draws.append([s.call_id for s in sample_recordings(idx, QaSection(sample_percent=20),
                                                           T0, T0 + 60, now=T0, seed=7)])
    assert draws[0] == draws[1] and len(draws[0]) == 4


def test_scores_are_weighted_and_reported_per_agent(index: RecordingIndex) -> None:
    rec = index.all()[0]
    evaluation = score_recording(index, CARDS, rec.id, "basic", {"greeting": 5, "solution": 5},
                                 scorer="sup1", now=T0 + 100)
    assert evaluation.score == pytest.approx(100 * (1 * 1.0 + 3 * 0.5) / 4)  # 62.5
    score_recording(index, CARDS, rec.id, "basic", {"greeting": 0, "solution": 10},
                    scorer="sup2", now=T0 + 200)
    report = qa_report(index, T0, T0 + 86400)
    assert report["a1"]["evaluations"] == 2
    assert report["a1"]["avg_score"] == pytest.approx((62.5 + 75.0) / 2)
    assert (report["a1"]["min_score"], report["a1"]["max_score"]) == (62.5, 75.0)


@pytest.mark.parametrize(
    ("card", "points", "message"),
    [
        ("nope", {"greeting": 1, "solution": 1}, "unknown scorecard"),
        ("basic", {"greeting": 1}, "unanswered items"),
        ("basic", {"greeting": 1, "solution": 1, "tone": 1}, "unknown items"),
        ("basic", {"greeting": 6, "solution": 1}, "outside 0..5"),
    ],
)
def test_bad_scores_are_refused(index: RecordingIndex, card: str, points: dict[str, float],
                                message: str) -> None:
    with pytest.raises(QaError, match=message):
        score_recording(index, CARDS, index.all()[0].id, card, points, scorer="s", now=T0)


def test_scores_outlive_the_recording_but_samples_do_not(index: RecordingIndex,
                                                         tmp_path: Path) -> None:
    rec = index.all()[0]
    sample_recordings(index, QaSection(sample_percent=100), T0, T0 + 1, now=T0)
    score_recording(index, CARDS, rec.id, "basic", {"greeting": 5, "solution": 10}, scorer="s",
                    now=T0)
    delete(index, str(tmp_path / "rec"), rec.id)
    assert index.query("SELECT count(*) FROM qa_samples WHERE recording_id = ?", [rec.id]) == [(0,)]
    assert index.query("SELECT recording_id, score FROM qa_evaluations") == [(None, 100.0)]


def test_scorecards_are_read_from_the_configuration() -> None:
    problems: list[Problem] = []
    section = build(QaSection, {"sample_percent": 10, "scorecards": {"basic": {"items": [
        {"name": "greeting", "max_points": 5}, {"name": "hold", "max_points": 0}]}}},
        ("recording", "qa"), problems)
    assert section.sample_percent == 10
    assert [p.path for p in problems] == [
        ("recording", "qa", "scorecards", "basic", "items", 1, "max_points")]
