"""appliancectl power, users, audit, logs and ivr."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_rig import Rig, make_rig

PASSWORD = "correct horse battery"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with make_rig(tmp_path) as r:
        yield r


def test_power_status_names_every_figure(rig: Rig) -> None:
    result = rig.run("power", "status")
    assert result.exit_code == 0, result.output
    assert "mains ON" in result.output and "OL CHRG" in result.output
    assert "charge 97%" in result.output and "relay pair 2: energised" in result.output
    assert rig.json("power", "status")["ups"]["runtime"] == 1840


def test_power_history_passes_the_limit(rig: Rig) -> None:
    assert len(rig.json("power", "history", "--limit", "1")["events"]) == 1
    assert rig.daemons.requests[-1]["params"] == {"limit": 1}
    assert "mains lost" in rig.run("power", "history").output


def test_lifeline_test_asks_first_and_is_audited(rig: Rig) -> None:
    refused = rig.run("power", "test-lifeline", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert not [r for r in rig.daemons.requests if r["method"] == "power.test_lifeline"]
    result = rig.run("power", "test-lifeline", "--seconds", "5", "--yes")
    assert result.exit_code == 0 and "lifeline engaged until" in result.output
    assert rig.daemons.requests[-1]["params"] == {"seconds": 5}
    row = rig.audit_rows()[-1]
    assert (row["action"], row["outcome"]) == ("power.test_lifeline", "ok")


def add(rig: Rig, name: str, role: str, password: str = PASSWORD) -> int:
    result = rig.run("users", "add", name, "--role", role, "--password-stdin", input=password + "\n")
    return result.exit_code


def test_first_admin_then_roles_grants_and_revocation(rig: Rig) -> None:
    assert rig.json("users", "list") == {"users": []}  # no default account (SEC-1)
    assert add(rig, "ada", "admin") == 0
    assert add(rig, "eve", "engineer") == 0
    shown = rig.json("users", "show", "eve")
    assert "spans.maintain" in shown["permissions"] and "customer.read" not in shown["permissions"]
    assert rig.run("users", "grant", "eve", "customer.read").exit_code == 0
    assert "customer.read" in rig.json("users", "show", "eve")["permissions"]
    assert rig.run("users", "revoke", "eve", "customer.read").exit_code == 0
    assert rig.run("users", "disable", "eve").exit_code == 0
    listing = rig.run("users", "list").output
    assert "DISABLED" in next(line for line in listing.splitlines() if line.startswith("eve"))
    assert rig.run("users", "role", "eve", "supervisor").exit_code == 0
    assert rig.run("users", "enable", "eve").exit_code == 0
    actions = [(r["action"], r["target"]) for r in rig.audit_rows()]
    assert actions == [("user.add", "ada"), ("user.add", "eve"), ("user.grant", "eve"),
                       ("user.revoke", "eve"), ("user.disable", "eve"), ("user.role", "eve"),
                       ("user.enable", "eve")]
    assert PASSWORD not in json.dumps(rig.audit_rows())


def test_bad_user_input_is_refused_with_exit_4_and_audited(rig: Rig) -> None:
    result = rig.run("users", "add", "bob", "--role", "admin", "--password-stdin", input="short\n")
    assert result.exit_code == 4 and "at least 10 characters" in result.output
    result = rig.run("users", "add", "Bob!", "--role", "viewer", "--password-stdin",
                     input=PASSWORD + "\n")
    assert result.exit_code == 4 and "bad user name" in result.output
    assert add(rig, "ada", "admin") == 0
    assert add(rig, "ada", "viewer") == 4
    result = rig.run("users", "disable", "ada")
    assert result.exit_code == 4 and "last active admin" in result.output
    result = rig.run("users", "add", "x", "--role", "root", "--password-stdin", input="")
    assert result.exit_code == 2 and "'root' is not one of" in result.output
    outcomes = [r["outcome"].split(":")[0] for r in rig.audit_rows()]
    assert outcomes == ["refused", "refused", "ok", "refused", "refused"]


def test_password_prompt_needs_confirmation(rig: Rig) -> None:
    result = rig.run("users", "add", "ada", "--role", "admin",
                     input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    result = rig.run("users", "passwd", "ada", "--password-stdin", input="another long one\n")
    assert result.exit_code == 0 and "password changed" in result.output


def test_audit_filters_and_json(rig: Rig) -> None:
    rig.run("agents", "pause", "carol")
    rig.run("spans", "loopback", "span1", "off")
    add(rig, "ada", "admin")
    entries = rig.json("audit", "--action", "agent.")["entries"]
    assert [e["action"] for e in entries] == ["agent.pause"]
    assert entries[0]["detail"] == {"agent": "carol", "reason": "break"}
    assert len(rig.json("audit", "--limit", "2")["entries"]) == 2
    assert rig.json("audit", "--since", "1h")["entries"][0]["action"] == "agent.pause"
    assert rig.json("audit", "--actor", "nobody")["entries"] == []
    result = rig.run("audit", "--since", "yesterday-ish")
    assert result.exit_code == 2 and "give an age" in result.output
    table = rig.run("audit").output.splitlines()
    assert table[0].split()[:4] == ["AT", "ACTOR", "ORIGIN", "ACTION"]
    assert len(table) == 4


def fake_journalctl(tmp_path: Path, lines: list[dict[str, object]], code: int = 0) -> str:
    data = tmp_path / "journal.json"
    data.write_text("".join(json.dumps(line) + "\n" for line in lines) + "garbage\n")
    script = tmp_path / "journalctl"
    script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat {data}\nexit {code}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_logs_reads_the_journal_with_fields(rig: Rig, tmp_path: Path) -> None:
    binary = fake_journalctl(tmp_path, [
        {"__REALTIME_TIMESTAMP": "1795000000000000", "SYSLOG_IDENTIFIER": "appliance-telephonyd",
         "PRIORITY": "3", "MESSAGE": "D-channel down", "SPAN": "span2", "CAUSE": "38"},
        {"__REALTIME_TIMESTAMP": "1795000001000000", "SYSLOG_IDENTIFIER": "appliance-powerd",
         "PRIORITY": "6", "MESSAGE": [104, 105]},
    ])
    env = {"APPLIANCE_JOURNALCTL": binary}
    result = rig.run("logs", "--daemon", "telephonyd", "-n", "20", "-p", "warning", env=env)
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert "appliance-telephonyd err: D-channel down [span=span2 cause=38]" in first
    assert second.endswith("appliance-powerd info: hi")
    args = (tmp_path / "args").read_text().split()
    assert args == ["--no-pager", "-o", "json", "-n", "20", "-u", "appliance-telephonyd.service",
                    "-p", "warning"]


def test_logs_json_and_errors(rig: Rig, tmp_path: Path) -> None:
    binary = fake_journalctl(tmp_path, [{"MESSAGE": "x", "PRIORITY": "4"}])
    result = rig.run("logs", "--json", env={"APPLIANCE_JOURNALCTL": binary})
    assert json.loads(result.output)["entries"][0]["priority"] == "warning"
    failing = fake_journalctl(tmp_path, [], code=1)
    result = rig.run("logs", env={"APPLIANCE_JOURNALCTL": failing})
    assert result.exit_code == 1 and "failed" in result.output
    result = rig.run("logs", env={"APPLIANCE_JOURNALCTL": str(tmp_path / "missing")})
    assert result.exit_code == 3 and "not found" in result.output


def test_ivr_show_and_validate(rig: Rig, tmp_path: Path) -> None:
    assert rig.json("ivr", "show") == {"flows": [{"name": "main", "start": "welcome"}]}
    good = tmp_path / "good.toml"
    good.write_text('[[acd.queues]]\nname = "sales"\n\n[[ivr.flows]]\nname = "main"\n'
                    'start = "welcome"\n[[ivr.flows.nodes]]\nname = "welcome"\ntype = "queue"\n'
                    'queue = "sales"\n')
    result = rig.run("ivr", "validate", str(good))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{good}: valid"
    unknown_queue = tmp_path / "unknown.toml"
    unknown_queue.write_text(good.read_text().replace('queue = "sales"', 'queue = "nope"'))
    out = rig.run("ivr", "validate", str(unknown_queue), "--json")
    assert out.exit_code == 4
    assert "nope" in out.output and '"valid": false' in out.output
    bad_field = tmp_path / "bad.toml"
    bad_field.write_text('[[ivr.flows]]\nname = "main"\nstart = "a"\n[[ivr.flows.nodes]]\n'
                         'name = "a"\ntype = "dance"\n')
    result = rig.run("ivr", "validate", str(bad_field))
    assert result.exit_code == 4 and f"{bad_field}:6: ivr.flows.0.nodes.0.type" in result.output
    empty = tmp_path / "empty.toml"
    empty.write_text("[paths]\n")
    result = rig.run("ivr", "validate", str(empty))
    assert result.exit_code == 4 and "no [ivr] table" in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text("[ivr\n")
    result = rig.run("ivr", "validate", str(broken))
    assert result.exit_code == 4 and "not TOML" in result.output
