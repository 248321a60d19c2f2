"""Agents logged in and paused from a phone (feature codes), the control socket and the CLI."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from acdrig import make_center
from conftest import minimal_config

from appliance.acd.control import register_acd_methods
from appliance.acd.features import feature_code, is_feature_code
from appliance.runtime.control import ControlClient, ControlError, ControlServer


def test_feature_codes_log_in_pause_resume_and_log_out() -> None:
    center = make_center("linear", agents=2, login=False)
    acd = center.acd
    assert is_feature_code(acd, "*511001") and not is_feature_code(acd, "0301234")
    assert feature_code(acd, "fxs4", "*511001").prompt == "agent-loggedin"
    assert acd.agents["1001"].active_device == "fxs4"
    result = feature_code(acd, "fxs4", "*532")
    assert result.ok and acd.agents["1001"].pause_reason == "lunch"
    assert feature_code(acd, "fxs4", "*54").ok
    assert feature_code(acd, "fxs4", "*52").prompt == "agent-loggedoff"
    rows = [(r["event"], r["agent"], r["data1"]) for r in center.queue_log()]
    assert rows == [
        ("AGENTLOGIN", "1001", "fxs4"),
        ("PAUSE", "1001", "lunch"),
        ("UNPAUSE", "1001", "lunch"),
        ("AGENTLOGOFF", "1001", "fxs4"),
    ]


def test_feature_code_errors_are_refused_with_a_reason() -> None:
    center = make_center("linear", agents=1, login=False)
    acd = center.acd
    assert feature_code(acd, "fxs1", "*52").message == "no agent is logged in at fxs1"
    assert "unknown agent '77'" in feature_code(acd, "fxs1", "*5177").message
    feature_code(acd, "fxs1", "*511001")
    bad = feature_code(acd, "fxs1", "*539")
    assert not bad.ok and bad.prompt == "feature-error" and "use 1..4" in bad.message


class Daemon:
    """The ACD behind a real control socket, on a loop in a thread."""

    def __init__(self, path: str, center) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ControlServer(path, center.bus)
        register_acd_methods(self.server, center.acd)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(5)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Path, object]]:
    config = minimal_config(tmp_path)
    center = make_center("linear", agents=2, login=False)
    d = Daemon(str(tmp_path / "run" / "telephonyd.sock"), center)
    try:
        yield config, center
    finally:
        d.stop()


def test_control_socket_methods(daemon) -> None:
    config, _center = daemon
    path = str(config.parent / "run" / "telephonyd.sock")

    async def scenario() -> None:
        async with ControlClient(path) as client:
            assert await client.call("agent.login", agent="1001") == {"ok": True}
            with pytest.raises(ControlError) as refused:
                await client.call("agent.pause", agent="1001", reason="nap")
            assert refused.value.code == "refused" and "nap" in refused.value.message
            with pytest.raises(ControlError) as bad:
                await client.call("agent.logout")
            assert bad.value.code == "bad-request"
            agents = await client.call("acd.agents")
            assert agents[0]["state"] == "idle" and agents[1]["state"] == "logged_out"

    asyncio.run(scenario())
