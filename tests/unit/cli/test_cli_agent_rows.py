"""How `agents list` and `calls list` show names and pending pauses (issue 12 items 5 and 6)."""

from __future__ import annotations

from appliance.cli.agents import agent_row
from appliance.cli.calls import call_row

ADA = {"name": "1001", "display_name": "Ada", "state": "talking", "reason": "",
       "pending_pause": "lunch", "since": 100.0, "device": "fxs1", "queues": ["sales"]}


def test_the_agent_table_shows_id_name_and_a_pending_pause() -> None:
    row = agent_row(ADA, now=130.0)
    assert (row["agent"], row["name"], row["state"], row["pause"]) == (
        "1001", "Ada", "talking", "pending: lunch")
    assert row["in_state"] == "0:00:30"


def test_a_paused_agent_shows_the_reason_and_a_nameless_one_a_dash() -> None:
    row = agent_row({**ADA, "display_name": "", "state": "paused", "reason": "break",
                     "pending_pause": ""}, now=130.0)
    assert (row["name"], row["pause"]) == ("-", "break")


def test_calls_show_the_agent_name_next_to_the_id() -> None:
    call = {"call_id": "c-1", "started": 100.0, "agent": "1001", "agent_name": "Ada"}
    assert call_row(call, now=110.0)["agent"] == "1001 (Ada)"
    assert call_row({**call, "agent_name": None}, now=110.0)["agent"] == "1001"
    assert call_row({**call, "agent": None}, now=110.0)["agent"] == "-"
