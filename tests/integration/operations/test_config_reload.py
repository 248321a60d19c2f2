"""`appliancectl config apply` on the live daemons says what took effect and what waits (issue 12.3).

Before: "applied" for every file while only the spans component read it, and a
file without spans tore every line down.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from operations_rig import Appliance, until

from appliance.config.render import render_toml

pytestmark = pytest.mark.integration


def variant(appliance: Appliance, name: str, change: Any) -> Path:
    tree = tomllib.loads(appliance.config.read_text())
    change(tree)
    path = appliance.root / name
    path.write_text(render_toml(tree))
    return path


def spans(appliance: Appliance) -> list[str]:
    return [s["name"] for s in appliance.ctl_json("spans", "list")["spans"]]


def test_apply_reports_live_and_restart_keys_and_refuses_to_drop_every_line(
    appliance: Appliance,
) -> None:
    appliance.span_up()

    debug = variant(appliance, "debug.toml",
                    lambda t: t.setdefault("logging", {}).update(level="debug"))
    done = appliance.ctl("config", "apply", str(debug))
    assert "telephonyd: applied logging.level" in done.stdout
    assert "powerd: applied logging.level" in done.stdout

    def add_queue(tree: dict[str, Any]) -> None:
        tree["logging"] = {**tree.get("logging", {}), "level": "debug"}
        tree["acd"]["queues"].append({"name": "billing", "members": []})

    queue = variant(appliance, "queue.toml", add_queue)
    done = appliance.ctl("config", "apply", str(queue))
    assert "telephonyd: applied acd.queues\n" in done.stdout  # live (test_live_reconfigure)
    assert "powerd: applied nothing it reads changed" in done.stdout
    assert "billing" in [q["queue"] for q in appliance.ctl_json("queues", "list")["queues"]]

    def no_lines(tree: dict[str, Any]) -> None:
        tree["rig"].pop("spans", None)
        tree["rig"].pop("ports", None)

    empty = variant(appliance, "empty.toml", no_lines)
    refused = appliance.ctl("config", "apply", str(empty), check=False)
    assert refused.returncode == 4, refused
    assert "would take down every line" in refused.stderr
    assert spans(appliance) == ["e1a"]  # nothing torn down
    (row,) = appliance.rows(
        "SELECT outcome FROM audit_log WHERE action = 'config.apply' AND target = ? "
        "AND origin = 'cli'", str(empty))
    assert row["outcome"].startswith("refused: refused by telephonyd")

    forced = appliance.ctl("config", "apply", str(empty), "--force")
    line = next(x for x in forced.stdout.splitlines() if x.startswith("telephonyd:"))
    live, _, waiting = line.partition("takes effect after a restart")
    assert "rig.spans" in live and "rig.ports" in waiting  # ports re-open only at a restart
    until(lambda: spans(appliance) == [], what="the span closed on a forced apply")
    status = appliance.ctl_json("status")
    telephonyd = next(d for d in status["daemons"] if d["daemon"] == "telephonyd")
    assert "rig.ports" in telephonyd["restart_required"], telephonyd
