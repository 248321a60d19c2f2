"""IVR validation: every mistake is reported with the flow, the node and what to fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ivrrig import ACD, IVR, node

from appliance.config.sections.ivr import IvrSection
from appliance.ivr.engine import IvrError
from appliance.ivr.validate import validate_ivr
from hil.traffic.center import SimCenter, section


def errors(ivr: dict[str, Any]) -> list[str]:
    return validate_ivr(section(IvrSection, ivr, "ivr"), ["sales", "support", "vip"])


def one_flow(*nodes: dict[str, Any], start: str = "a") -> dict[str, Any]:
    return {"flows": [{"name": "f", "start": start, "nodes": list(nodes)}]}


def test_the_sample_configuration_is_clean() -> None:
    assert errors(IVR) == []


def test_unreachable_node() -> None:
    found = errors(one_flow(node("a", "play", prompt="p"), node("orphan", "hangup")))
    assert found == ["flow f, node orphan: unreachable from the start node 'a'"]


def test_loop_with_no_exit() -> None:
    found = errors(
        one_flow(node("a", "play", prompt="p", next="b"), node("b", "play", prompt="q", next="a"))
    )
    assert found == [
        "flow f: nodes a, b form a loop with no exit; "
        "give one of them a branch to a queue, voicemail or hangup"
    ]


def test_a_loop_with_an_exit_is_fine() -> None:
    found = errors(
        one_flow(
            node("a", "menu", prompt="m", choices={"1": "b", "2": "q"}, failure="a"),
            node("b", "play", prompt="x", next="a"),
            node("q", "queue", queue="sales"),
        )
    )
    assert found == []


def test_missing_prompts_and_prompt_files(tmp_path) -> None:
    (tmp_path / "hello.wav").write_bytes(b"RIFF")
    flow = one_flow(
        node("a", "play", prompt="hello", next="b"),
        node("b", "menu", choices={"1": "c"}),
        node("c", "play", prompt="gone"),
    )
    flow["prompts_dir"] = str(tmp_path)
    assert errors(flow) == [
        "flow f, node b: a menu node needs a prompt",
        f"flow f, node c: prompt 'gone' has no file gone.wav in {tmp_path}",
    ]


def test_unknown_queue_node_schedule_and_list() -> None:
    found = errors(
        one_flow(
            node("a", "time", schedule="nine-to-five", open="b", closed="c"),
            node("b", "queue", queue="billing"),
            node("c", "callerlist", lists=["vips"], next="nowhere"),
        )
    )
    assert found == [
        "flow f, node a: schedule 'nine-to-five' is not defined",
        "flow f, node b: queue 'billing' is not defined in [acd]",
        "flow f, node c: next goes to 'nowhere', which is not a node of this flow",
        "flow f, node c: caller list 'vips' is not defined",
    ]


def test_unknown_start_route_and_bad_schedule() -> None:
    cfg = one_flow(node("a", "hangup"), start="begin")
    cfg["routes"] = [{"flow": "missing"}]
    cfg["schedules"] = [{"name": "s", "hours": {"mon": ["18:00-08:00"]}}]
    assert errors(cfg) == [
        "flow f: start node 'begin' is not defined",
        "schedule s: '18:00-08:00' ends before it starts; split a night into two ranges",
        "route 1: flow 'missing' is not defined",
    ]


def test_the_ivr_refuses_to_start_with_errors() -> None:
    bad = copy.deepcopy(IVR)
    bad["flows"][0]["nodes"][4]["queue"] = "nosuchqueue"
    with pytest.raises(IvrError, match="queue 'nosuchqueue' is not defined"):
        SimCenter(ACD, bad)


def test_field_errors_name_the_key() -> None:
    from appliance.config.validate import Problem, build

    problems: list[Problem] = []
    build(IvrSection, one_flow(node("a", "dance")), ("ivr",), problems)
    assert problems and problems[0].path == ("ivr", "flows", 0, "nodes", 0, "type")


def test_a_queue_timeout_to_an_unknown_flow_is_refused() -> None:
    acd = copy.deepcopy(ACD)
    acd["queues"][0]["timeout_destination"] = "flow:after-hours"
    with pytest.raises(IvrError, match="queue sales: timeout_destination names flow 'after-hours'"):
        SimCenter(acd, IVR)
