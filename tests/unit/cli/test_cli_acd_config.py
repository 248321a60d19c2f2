"""appliancectl queues/agents add and remove: checked, audited edits of the [acd] table."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_rig import Rig, make_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with make_rig(tmp_path) as r:
        yield r


@pytest.fixture
def acd(tmp_path: Path) -> Path:
    path = tmp_path / "acd.toml"
    path.write_text('# call centre\n[acd]\n[[acd.queues]]\nname = "sales"\nmembers = ["1001"]\n\n'
                    '[[acd.agents]]\nid = "1001"\nname = "Alice"\n')
    return path


def acd_of(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text())["acd"]  # type: ignore[no-any-return]


def test_add_agent_to_a_queue_and_apply(rig: Rig, acd: Path) -> None:
    result = rig.run("agents", "add", "1002", "--name", "Bob", "--device", "sip/bob",
                     "--skill", "french=7", "--queue", "sales", "--file", str(acd), "--apply")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"agent 1002: added to {acd}",
        # the ACD takes agents only at start: said so, not "applied"
        "telephonyd: applied nothing it reads changed; takes effect after a restart of "
        "telephonyd: acd.agents",
        "powerd: applied nothing it reads changed; takes effect after a restart of "
        "powerd: acd.agents"]
    tree = acd_of(acd)
    assert tree["agents"][1] == {"id": "1002", "name": "Bob", "device": "sip/bob",  # type: ignore[index]
                                 "skills": {"french": 7}}
    assert tree["queues"][0]["members"] == ["1001", "1002"]  # type: ignore[index]
    assert (tmp := Path(str(acd) + ".bak")).exists() and "# call centre" in tmp.read_text()
    applied = [r for r in rig.daemons.requests if r["method"] == "config.apply"]
    assert [r["daemon"] for r in applied] == ["telephonyd", "powerd"]
    row = rig.audit_rows()[-1]
    assert (row["action"], row["target"], row["outcome"]) == ("agent.add", "1002", "ok")


def test_remove_agent_takes_it_out_of_every_queue(rig: Rig, acd: Path) -> None:
    assert rig.run("agents", "remove", "1001", "--file", str(acd)).exit_code == 0
    tree = acd_of(acd)
    assert tree["agents"] == [] and tree["queues"][0]["members"] == []  # type: ignore[index]


def test_queue_add_and_remove(rig: Rig, acd: Path) -> None:
    out = rig.json("queues", "add", "support", "--strategy", "ringall", "--member", "1001",
                   "--file", str(acd))
    assert out == {"added": "support", "file": str(acd), "daemons": {}}
    assert [q["name"] for q in acd_of(acd)["queues"]] == ["sales", "support"]  # type: ignore[attr-defined]
    assert rig.run("queues", "remove", "sales", "--file", str(acd)).exit_code == 0
    assert [q["name"] for q in acd_of(acd)["queues"]] == ["support"]  # type: ignore[attr-defined]
    assert [r["action"] for r in rig.audit_rows()] == ["queue.add", "queue.remove"]


def test_bad_edits_are_refused_leave_the_file_and_are_audited(rig: Rig, acd: Path) -> None:
    before = acd.read_text()
    result = rig.run("agents", "add", "alice", "--file", str(acd))
    assert result.exit_code == 4 and "acd.agents.1.id" in result.output
    result = rig.run("agents", "add", "1001", "--file", str(acd))
    assert result.exit_code == 4 and "already exists" in result.output
    result = rig.run("agents", "add", "1003", "--queue", "nope", "--file", str(acd))
    assert result.exit_code == 1 and "no queue 'nope'; known: sales" in result.output
    result = rig.run("agents", "add", "1003", "--skill", "french", "--file", str(acd))
    assert result.exit_code == 2 and "SKILL=LEVEL" in result.output
    result = rig.run("queues", "add", "sales", "--file", str(acd))
    assert result.exit_code == 4 and "already exists" in result.output
    result = rig.run("queues", "add", "vip", "--member", "9999", "--file", str(acd))
    assert result.exit_code == 4 and "unchanged" in result.output
    result = rig.run("queues", "remove", "nope", "--file", str(acd))
    assert result.exit_code == 1 and "known: sales" in result.output
    assert acd.read_text() == before
    assert [r["outcome"].split(":")[0] for r in rig.audit_rows()] == ["refused"] * 6
