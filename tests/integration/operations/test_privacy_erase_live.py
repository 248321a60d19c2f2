"""A customer asks to be forgotten: `appliancectl privacy erase` on the live appliance (SEC-3).

Issue 13 item 8: erasure used to remove recordings and leave the caller in
CDRs, queue_log, IVR visits, backups and exports. Now the number is gone from
every table, the recordings with it, the calls still count, the backup and the
export that still hold it are named, and the request is audited.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from acd_traffic import talking_to
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CUSTOMER = "13900000077"
OTHER = "13900000088"


def test_erase_removes_the_number_everywhere_and_names_what_still_holds_it(
    appliance: Appliance, tmp_path: Path,
) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    call = talking_to(appliance, "1001", CUSTOMER, channel=4)
    row = appliance.live_call(CUSTOMER)

    # while the customer is on the line nothing is erased
    busy = appliance.ctl("privacy", "erase", "--caller", CUSTOMER, "--yes", check=False)
    assert busy.returncode == 4 and "in progress" in busy.stderr, busy

    appliance.sim("e1a", "hangup", call=call)
    until(lambda: appliance.rows(
        "SELECT 1 FROM recordings WHERE call_id = ? AND status != 'recording'", row["call_id"]),
        timeout=30, what="the recording closed")
    until(lambda: appliance.rows("SELECT 1 FROM cdr WHERE call_id = ?", row["call_id"]),
          what="the CDR")
    until(lambda: appliance.ctl_json("agents", "list")["agents"][0]["state"] != "talking",
          what="the agent off the call")
    other = talking_to(appliance, "1001", OTHER, channel=5)  # another customer, kept
    appliance.sim("e1a", "hangup", call=other)
    until(lambda: appliance.rows("SELECT 1 FROM cdr WHERE caller = ?", OTHER), what="other CDR")

    backup = tmp_path / "before-erasure.db"
    appliance.ctl("db", "backup", str(backup))
    archive = tmp_path / "export.tar.gz"
    until(lambda: appliance.ctl("rec", "export", str(archive), "--caller", CUSTOMER,
                                check=False).returncode == 0, what="the export")
    (recording,) = appliance.rows("SELECT * FROM recordings WHERE caller = ?", CUSTOMER)
    wav = appliance.root / "state" / "recordings" / recording["path"]
    assert wav.exists()

    dry = appliance.ctl_json("privacy", "erase", "--caller", CUSTOMER, "--dry-run")
    assert dry["calls"] == 1 and dry["recordings"] == [recording["id"]]
    assert dry["rows"]["cdr.caller"] == 1 and "queue_log.data1" in dry["rows"], dry["rows"]
    assert [b["path"] for b in dry["backups_holding"]] == [str(backup)]
    assert [e["path"] for e in dry["exports_holding"]] == [str(archive)]
    assert appliance.rows("SELECT 1 FROM cdr WHERE caller = ?", CUSTOMER)  # dry run: unchanged

    done = appliance.ctl("privacy", "erase", "--caller", CUSTOMER, "--yes")
    assert "erased: 1 call(s), 1 recording(s) deleted" in done.stdout
    assert f"still held by backup {backup}" in done.stdout
    assert f"still held by export {archive}" in done.stdout

    # the number is in no table any more (the audit log keeps only the last 4 digits)
    with appliance.db() as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")]
        for table in tables:
            if table == "audit_log":
                continue
            for values in conn.execute(f'SELECT * FROM "{table}"'):
                assert CUSTOMER not in json.dumps(list(values), default=str), (table, list(values))
    assert not wav.exists()
    assert appliance.ctl_json("rec", "search", "--caller", CUSTOMER) == []
    (cdr,) = appliance.rows("SELECT * FROM cdr WHERE call_id = ?", row["call_id"])
    assert (cdr["caller"], cdr["caller_name"], cdr["disposition"], cdr["agent"]) == (
        "[erased]", "", "ANSWERED", "1001")  # the call still counts in the statistics
    assert appliance.rows("SELECT 1 FROM cdr WHERE caller = ?", OTHER)  # others untouched
    (audited,) = appliance.rows(
        "SELECT * FROM audit_log WHERE action = 'privacy.erase' AND outcome = 'ok'")
    assert audited["target"] == "*******0077"
    assert str(backup) in audited["detail"] and CUSTOMER not in audited["detail"]
    with tarfile.open(archive) as tar:  # the export is named, not silently edited
        assert CUSTOMER in tar.extractfile("manifest.json").read().decode()  # type: ignore[union-attr]


def test_erase_refuses_a_short_number(appliance: Appliance) -> None:
    refused = appliance.ctl("privacy", "erase", "--caller", "201", "--yes", check=False)
    assert refused.returncode == 4
    assert "5 to 15 digits" in refused.stderr
