"""``hil traffic`` drives the real IVR and ACD; its figures come from the events it wrote."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from click.testing import CliRunner

from hil.traffic.cli import traffic

pytestmark = pytest.mark.integration


def run(*args: str) -> dict:
    result = CliRunner().invoke(traffic, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def erlang_c(agents: int, load: float) -> float:
    """Probability of waiting, Erlang C (ITU-T E.600 §3.5 terms: offered traffic in erlangs)."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def test_a_working_day_at_200_calls_an_hour_with_15_agents() -> None:
    out = run("--agents", "15", "--calls-per-hour", "200", "--hours", "8", "--seed", "3")
    sales = out["queues"]["sales"]
    for name in ("offered", "answered", "abandoned", "service_level", "asa"):
        assert name in sales
    assert 1450 < sales["offered"] < 1750  # Poisson, 1600 expected
    assert sales["offered"] == (
        sales["answered"]
        + sales["abandoned"]
        + sales["timeouts"]
        + sales["exit_key"]
        + sales["exit_empty"]
        + sales["overflowed"]
    )
    assert sales["abandoned"] > 0  # 120 s mean patience: some callers give up
    assert 0.5 < sales["service_level"] <= 1.0
    assert out["cpu_seconds"] < 30


def test_the_same_seed_gives_the_same_day() -> None:
    a = run("--hours", "2", "--seed", "11")
    b = run("--hours", "2", "--seed", "11")
    c = run("--hours", "2", "--seed", "12")
    assert a["queues"] == b["queues"]
    assert a["queues"] != c["queues"]


def test_waits_match_erlang_c_when_callers_never_hang_up() -> None:
    agents, cph, aht = 12, 200.0, 180.0
    load = cph * aht / 3600  # 10 erlangs
    out = run(
        "--agents",
        str(agents),
        "--calls-per-hour",
        str(cph),
        "--handle-time",
        str(aht),
        "--patience",
        "inf",
        "--answer-delay",
        "0",
        "--hours",
        "60",
        "--seed",
        "5",
        "--sl-seconds",
        "20",
    )
    sales = out["queues"]["sales"]
    assert sales["abandoned"] == 0
    p_wait = erlang_c(agents, load)
    asa = p_wait * aht / (agents - load)
    sl = 1 - p_wait * math.exp(-(agents - load) * 20 / aht)
    assert sales["asa"] == pytest.approx(asa, rel=0.25)
    assert sales["service_level"] == pytest.approx(sl, abs=0.05)


def test_rona_and_wrapup_show_in_the_figures() -> None:
    out = run("--hours", "2", "--no-answer", "0.2", "--wrapup", "20", "--ring-timeout", "10")
    sales = out["queues"]["sales"]
    assert sales["rona"] > 0.15 * sales["offered"]
    assert sales["avg_talk"] == pytest.approx(180, rel=0.2)


def test_two_queues_chosen_in_the_ivr() -> None:
    out = run("--queues", "2", "--menu-split", "0.7", "--hours", "4", "--patience", "inf")
    q = out["queues"]
    share = q["sales"]["offered"] / (q["sales"]["offered"] + q["support"]["offered"])
    assert share == pytest.approx(0.7, abs=0.06)


def test_hourly_profile_shapes_arrivals(tmp_path) -> None:
    db = tmp_path / "day.db"
    result = CliRunner().invoke(
        traffic, ["--hours", "2", "--profile", "0.2,1.8", "--db", str(db), "--json"]
    )
    assert result.exit_code == 0, result.output
    import sqlite3

    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT CAST((at - (SELECT MIN(at) FROM queue_log WHERE event='AGENTLOGIN')) / 3600 AS INT) h,"
        " COUNT(*) FROM queue_log WHERE event = 'ENTERQUEUE' GROUP BY h ORDER BY h"
    ).fetchall()
    first, second = rows[0][1], rows[1][1]
    assert second > 4 * first


def test_bad_arguments_are_refused_clearly() -> None:
    result = CliRunner().invoke(traffic, ["--patience", "soon"])
    assert result.exit_code != 0 and "'soon' is not a number of seconds or 'inf'" in result.output
    result = CliRunner().invoke(traffic, ["--agents", "0"])
    assert result.exit_code != 0


def test_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hil.traffic", "--hours", "0.5", "--agents", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "queue sales" in proc.stdout and "service level" in proc.stdout


def test_every_call_has_one_outcome_and_every_agent_ends_consistent(tmp_path) -> None:
    db = tmp_path / "busy.db"
    result = CliRunner().invoke(
        traffic,
        [
            "--agents",
            "8",
            "--calls-per-hour",
            "180",
            "--hours",
            "3",
            "--no-answer",
            "0.1",
            "--wrapup",
            "15",
            "--pause-rate",
            "2",
            "--pause-length",
            "120",
            "--queues",
            "2",
            "--menu-split",
            "0.5",
            "--strategy",
            "leastrecent",
            "--db",
            str(db),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    import sqlite3

    conn = sqlite3.connect(db)
    by_call: dict[tuple[str, str], list[str]] = {}
    for call_id, queue, event in conn.execute(
        "SELECT call_id, queue, event FROM queue_log WHERE call_id != '' ORDER BY id"
    ):
        by_call.setdefault((call_id, queue), []).append(event)
    outcomes = {"CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "OVERFLOW"}
    ends = {"COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
    for key, events in by_call.items():
        assert events[0] == "ENTERQUEUE", (key, events)
        assert sum(e in outcomes for e in events) == 1, (key, events)
        if "CONNECT" in events:
            assert sum(e in ends for e in events) == 1, (key, events)
    cdrs = conn.execute("SELECT COUNT(*), COUNT(DISTINCT call_id) FROM cdr").fetchone()
    callers = json.loads(result.output)["callers"]
    assert cdrs == (callers, callers)
    # agent events pair up: every PAUSE has its UNPAUSE, every WRAPUPSTART its WRAPUPEND
    counts = dict(conn.execute("SELECT event, COUNT(*) FROM queue_log GROUP BY event").fetchall())
    assert counts["PAUSE"] == counts["UNPAUSE"] and counts["PAUSE"] > 0
    assert counts["WRAPUPSTART"] == counts["WRAPUPEND"] > 0
    assert counts["RINGNOANSWER"] > 0
