"""Item 8 of issue 12: ports and spans name the call on them, in words a person reads.

A customer on the E1 span reaches Ada on fxs1. ``ports list`` shows that call's id
(the one ``calls list`` shows) on fxs1, ``spans show e1a`` shows it on the
B-channel rather than libpri's call number, and ``ports show`` prints yes/no and
plain text, never Python's ``False``, ``None`` or ``[...]``. ``report cdr`` shows
CDR times as local date and time, its JSON keeps the epoch numbers.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from acd_traffic import talking_to
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration


def test_ports_and_spans_show_the_call_core_id(appliance: Appliance) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    talking_to(appliance, "1001", "13900000031", channel=7)
    call_id = appliance.live_call("13900000031")["call_id"]

    ports = {p["name"]: p for p in appliance.ctl_json("ports", "list")["ports"]}
    assert ports["fxs1"]["call_id"] == call_id and ports["fxs2"]["call_id"] is None
    table = appliance.ctl("ports", "list").stdout.splitlines()
    fxs1 = next(line for line in table if line.startswith("fxs1"))
    assert call_id in fxs1.split()

    span = appliance.ctl_json("spans", "show", "e1a")
    busy = [c for c in span["channels"] if c["call_id"] is not None]
    assert [c["call_id"] for c in busy] == [call_id]
    shown_span = appliance.ctl("spans", "show", "e1a").stdout
    assert call_id in shown_span
    # lost-audio counters per span and per B-channel (issue 14 item 3): each span figure is
    # the sum of its channels', and both are on the screen
    for key, label in [("frames_missing", "frames missing"), ("concealed", "concealed"),
                       ("slips", "slips in"), ("output_slips", "slips out")]:
        assert span["stats"][key] == sum(c[key] for c in span["channels"]), key
        assert f"{label} {span['stats'][key]}" in shown_span
        assert key.upper() in shown_span
    # one span, clocked from its line: the engine follows it, and no frame is lost either way
    daemons = {d["daemon"]: d for d in appliance.ctl_json("status")["daemons"]}
    media = daemons["telephonyd"]["components"]["media"]
    assert media["timing_source"] == "e1a", media
    assert media["lost_audio_alarm"] is False, media
    assert span["stats"]["concealed"] == span["stats"]["slips"] == 0, span["stats"]
    assert span["stats"]["output_slips"] == 0, span["stats"]

    shown = appliance.ctl("ports", "show", "fxs2").stdout
    for raw in ("False", "True", "None", "["):
        assert raw not in shown, shown
    assert "busied out" in shown or "battery" in shown


def test_cdr_times_are_local_iso_in_the_table_and_numbers_in_json(appliance: Appliance) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    call = talking_to(appliance, "1001", "13900000032", channel=8)
    appliance.sim("e1a", "hangup", call=call)
    (cdr,) = until(lambda: appliance.rows(
        "SELECT start FROM cdr WHERE caller = '13900000032'"), what="the CDR")
    window = ("--from", str(cdr["start"] - 60), "--to", str(cdr["start"] + 3600))
    table = appliance.ctl("report", "cdr", *window).stdout
    local = datetime.fromtimestamp(cdr["start"]).astimezone().isoformat(sep=" ",
                                                                         timespec="seconds")
    assert local in table and str(cdr["start"]) not in table
    (row,) = [r for r in appliance.ctl_json("report", "cdr", *window)["rows"]
              if r["caller"] == "13900000032"]
    assert row["start"] == cdr["start"]
