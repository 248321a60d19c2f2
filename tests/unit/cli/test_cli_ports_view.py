"""ports show/list print values for humans (issue 12 item 8): yes/no, '-', joined lists."""

from __future__ import annotations

from appliance.cli.ports import human, port_row


def test_values_are_formatted_for_people() -> None:
    assert (human(True), human(False), human(None), human("")) == ("yes", "no", "-", "-")
    assert human(["ringing", "idle"]) == "ringing, idle"
    assert human({"rx": 3, "tx": 0}) == "rx 3, tx 0"
    assert (human(0.5), human(7)) == ("0.5", "7")


def test_a_port_row_keeps_no_python_spelling() -> None:
    row = port_row({"name": "fxs1", "busied_out": False, "battery": True, "call_id": None,
                    "cadence": [1.0, 4.0], "peer": ""})
    assert row == {"name": "fxs1", "busied_out": "no", "battery": "yes", "call_id": "-",
                   "cadence": "1, 4", "peer": "-"}
    assert not any(v in ("True", "False", "None") or v.startswith("[") for v in row.values())
