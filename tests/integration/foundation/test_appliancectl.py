"""appliancectl against stopped and running daemons: clear errors, exit codes, audit."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import minimal_config, wait_for_socket

pytestmark = pytest.mark.integration

CTL = str(Path(sys.executable).parent / "appliancectl")


def ctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CTL, "--config", str(config), *args], capture_output=True, text=True, timeout=30
    )


def test_status_with_no_daemon_running_is_one_clear_line_per_daemon_and_exit_3(
    tmp_path: Path,
) -> None:
    result = ctl(minimal_config(tmp_path), "status")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"telephonyd: {tmp_path}/run/telephonyd.sock: no such socket (is the daemon running?)",
        f"powerd: {tmp_path}/run/powerd.sock: no such socket (is the daemon running?)",
    ]


def test_status_of_running_daemons_as_table_and_json(tmp_path: Path, start_daemon: Any) -> None:
    config = minimal_config(
        tmp_path, '\n[[rig.spans]]\nname = "span1"\naddress = "sim:/tmp/e1.sock"\n'
    )
    for name in ("telephonyd", "powerd"):
        wait_for_socket(tmp_path / "run" / f"{name}.sock", start_daemon(name, config).process)
    table = ctl(config, "status")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["DAEMON", "STATE", "HEALTHY", "UPTIME", "VERSION", "PID"]
    assert rows[0].split()[:3] == ["telephonyd", "running", "yes"]
    assert "span  span1        sim:/tmp/e1.sock" in table.stdout
    data = json.loads(ctl(config, "status", "--json").stdout)
    assert [d["daemon"] for d in data["daemons"]] == ["telephonyd", "powerd"]
    assert all(d["state"] == "running" for d in data["daemons"])


def test_config_apply_refuses_a_bad_file_and_audits_both_outcomes(
    tmp_path: Path, start_daemon: Any
) -> None:
    config = minimal_config(tmp_path)
    for name in ("telephonyd", "powerd"):
        wait_for_socket(tmp_path / "run" / f"{name}.sock", start_daemon(name, config).process)
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text() + "\n[powerd]\nstop_timeout = -1\n")
    refused = ctl(config, "config", "apply", str(bad))
    assert refused.returncode == 4
    assert f"{bad}:9: powerd.stop_timeout: -1.0 must be greater than 0.0" in refused.stderr
    good = tmp_path / "good.toml"
    good.write_text(
        config.read_text().replace('target = "stderr"', 'target = "stderr"\nlevel = "debug"')
    )
    diff = ctl(config, "config", "diff", str(good))
    assert diff.stdout.splitlines() == ["- logging.level = 'info'", "+ logging.level = 'debug'"]
    applied = ctl(config, "config", "apply", str(good))
    assert applied.returncode == 0, applied.stderr
    assert ctl(config, "config", "diff", str(good)).stdout.strip() == "no differences"
    rows = (
        sqlite3.connect(tmp_path / "state" / "appliance.db")
        .execute("SELECT origin, action, target, outcome FROM audit_log ORDER BY id")
        .fetchall()
    )
    cli = [(a, t, o.split("\n")[0]) for origin, a, t, o in rows if origin == "cli"]
    assert cli == [
        ("config.apply", str(bad), f"refused: {bad}: refused, running configuration kept:"),
        ("config.apply", str(good), "ok"),
    ]
    # the bad file never reached a daemon; the good one each daemon audited itself
    daemons = sorted((origin.split()[0], t, o) for origin, a, t, o in rows if origin != "cli")
    assert daemons == [("powerd", str(good), "ok"), ("telephonyd", str(good), "ok")]


def test_config_validate_lists_every_error_and_exits_4(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[paths]\nstate_dir = 1\n\n[rig]\nups = 'pigeon:coop'\nextra = true\n")
    result = ctl(minimal_config(tmp_path), "config", "validate", str(bad))
    assert result.returncode == 4
    assert result.stderr.splitlines() == [
        f"{bad}:2: paths.state_dir: expected a string, got integer",
        f"{bad}:5: rig.ups: address 'pigeon:coop': scheme must be one of nut, serial, sim",
        f"{bad}:6: rig.extra: unknown key; known keys: spans, ports, board, ups, watchdog, simulator_rig",
        f"{bad}: 3 error(s)",
    ]
    ok = ctl(minimal_config(tmp_path), "config", "validate", str(minimal_config(tmp_path)))
    assert ok.returncode == 0 and ok.stdout.strip().endswith(": valid")


def test_db_commands_back_up_check_and_refuse_bad_restores(tmp_path: Path) -> None:
    config = minimal_config(tmp_path)
    assert ctl(config, "db", "migrate").returncode == 0
    check = json.loads(ctl(config, "db", "check", "--json").stdout)
    assert check["ok"] and check["level"] == check["latest"]
    backup = tmp_path / "backup.db"
    assert ctl(config, "db", "backup", str(backup)).returncode == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 500)
    refused = ctl(config, "db", "restore", "--yes", str(junk))
    assert refused.returncode == 4
    assert refused.stderr.startswith("Error: restore refused:")
    restored = ctl(config, "db", "restore", "--yes", str(backup))
    assert restored.returncode == 0, restored.stderr
    actions = (
        sqlite3.connect(tmp_path / "state" / "appliance.db")
        .execute("SELECT action, outcome FROM audit_log ORDER BY id")
        .fetchall()
    )
    # the restore brought back the database as it was at backup time, then audited itself
    assert actions[-1] == ("db.restore", "ok")
