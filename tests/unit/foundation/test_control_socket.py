"""The control socket answers requests, survives garbage and streams events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from appliance.runtime.control import ControlClient, ControlError, ControlServer
from appliance.runtime.events import EventBus


async def raw_exchange(path: str, *lines: bytes) -> list[dict[str, Any]]:
    reader, writer = await asyncio.open_unix_connection(path)
    answers = []
    for line in lines:
        writer.write(line)
        await writer.drain()
        answers.append(json.loads(await asyncio.wait_for(reader.readline(), 2)))
    writer.close()
    return answers


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_request_and_answer(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = EventBus(lambda: 0.0)
        control = ControlServer(str(tmp_path / "d.sock"), bus)

        async def echo(params: dict[str, Any]) -> dict[str, Any]:
            return {"echo": params}

        control.register("echo", echo, needs="status.read")
        await control.start()
        async with ControlClient(control.path) as client:
            assert await client.call("ping") == {"pong": True}
            assert await client.call("echo", a=1) == {"echo": {"a": 1}}
        await control.stop()
        assert not (tmp_path / "d.sock").exists()

    run(scenario())


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"this is not json\n", "parse-error"),
        (b"\xff\xfe\n", "parse-error"),
        (b"[1, 2]\n", "bad-request"),
        (b'{"id": 1, "method": 7}\n', "bad-request"),
        (b'{"id": 1, "method": "echo", "params": [1]}\n', "bad-params"),
        (b'{"id": 1, "method": "nope"}\n', "unknown-method"),
        (b'{"id": 1, "method": "explode"}\n', "internal"),
        (b'{"id": 1, "method": "refuse"}\n', "not-found"),
        (b'{"id": 1, "method": "subscribe", "params": {"topics": "span.*"}}\n', "bad-params"),
        # issue 13 item 2: each of these raised uncaught and dropped the connection
        (b'{"id": ' + b"9" * 5000 + b', "method": "ping"}\n', "parse-error"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "parse-error"),
        (b'{"id": 1, "method": "ping", "params": {"x": NaN}}\n', "parse-error"),
        (b'{"id": 1, "method": "ping", "params": {"x": -Infinity}}\n', "parse-error"),
        (b'{"id": "' + b"x" * 500 + b'", "method": "ping"}\n', "bad-request"),
        (b'{"id": [1], "method": "ping"}\n', "bad-request"),
        # issue 13 item 1: 40,000 patterns froze telephonyd for 8.3 s
        (b'{"id": 1, "method": "subscribe", "params": {"topics": ['
         + b",".join([b'"span.*"'] * 40_000) + b"]}}\n", "bad-params"),
        (b'{"id": 1, "method": "subscribe", "params": {"topics": ["' + b"a" * 200
         + b'"]}}\n', "bad-params"),
    ],
)
def test_garbage_gets_an_error_with_a_code_and_the_server_keeps_serving(
    tmp_path: Path, line: bytes, code: str
) -> None:
    async def scenario() -> None:
        control = ControlServer(str(tmp_path / "d.sock"), EventBus(lambda: 0.0))
        control.register("explode", _explode, needs="status.read")
        control.register("refuse", _refuse, needs="status.read")
        await control.start()
        bad, good = await raw_exchange(control.path, line, b'{"id": 2, "method": "ping"}\n')
        assert bad["error"]["code"] == code
        assert bad["error"]["message"]
        assert good == {"id": 2, "result": {"pong": True}}
        await control.stop()

    run(scenario())


async def _explode(params: dict[str, Any]) -> None:
    raise RuntimeError("boom")


async def _refuse(params: dict[str, Any]) -> None:
    raise ControlError("not-found", "no span 'x'")


@pytest.mark.parametrize("size", [3 << 20, (1 << 20) + 10])  # tail later / newline buffered
def test_oversize_line_is_refused_and_the_connection_keeps_serving(
    tmp_path: Path, size: int,
) -> None:
    async def scenario() -> None:
        control = ControlServer(str(tmp_path / "d.sock"), EventBus(lambda: 0.0))
        await control.start()
        reader, writer = await asyncio.open_unix_connection(control.path)
        huge = b'{"id":1,"method":"ping","params":{"x":"' + b"a" * size + b'"}}\n'
        writer.write(huge + b'{"id": 2, "method": "ping"}\n')
        drain = asyncio.ensure_future(writer.drain())
        first = json.loads(await asyncio.wait_for(reader.readline(), 5))
        second = json.loads(await asyncio.wait_for(reader.readline(), 5))
        await drain
        assert first["error"]["code"] == "parse-error"
        assert second == {"id": 2, "result": {"pong": True}}
        writer.close()
        await control.stop()

    run(scenario())


def test_subscription_streams_matching_events_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = EventBus(lambda: 42.0)
        control = ControlServer(str(tmp_path / "d.sock"), bus)
        await control.start()
        client = await ControlClient(control.path).connect()
        stream = client.events("span.*")
        first = asyncio.ensure_future(stream.__anext__())
        while bus.subscriber_count == 0:
            await asyncio.sleep(0.01)
        bus.publish("power.state", state="on_battery")
        bus.publish("span.alarm", span="span1", alarms=["red"])
        event = await asyncio.wait_for(first, 2)
        assert event == {
            "event": "span.alarm",
            "at": 42.0,
            "data": {"span": "span1", "alarms": ["red"]},
        }
        await client.close()
        await control.stop()

    run(scenario())


def test_a_slow_subscriber_loses_the_oldest_events_and_is_told(tmp_path: Path) -> None:
    bus = EventBus(lambda: 0.0)

    async def scenario() -> None:
        subscription = bus.subscribe(["*"], maxsize=3)
        for n in range(5):
            bus.publish("tick", n=n)
        kept = [subscription.queue.get_nowait().data["n"] for _ in range(3)]
        assert kept == [2, 3, 4]
        assert subscription.missed == 2

    run(scenario())


def test_client_reports_a_missing_daemon_clearly(tmp_path: Path) -> None:
    with pytest.raises(ControlError) as caught:
        run(ControlClient(str(tmp_path / "absent.sock")).connect())
    assert caught.value.code == "unavailable"
    assert "is the daemon running?" in caught.value.message


def test_stale_socket_is_replaced_but_a_live_one_is_not(tmp_path: Path) -> None:
    async def scenario() -> None:
        path = str(tmp_path / "d.sock")
        first = ControlServer(path, EventBus(lambda: 0.0))
        await first.start()
        second = ControlServer(path, EventBus(lambda: 0.0))
        with pytest.raises(ControlError, match="already listening"):
            await second.start()
        # simulate a crash: the server goes away but the socket file stays
        assert first._server is not None
        first._server.close()
        await first._server.wait_closed()
        assert Path(path).exists()
        await second.start()
        assert await ControlClient(path).call("ping") == {"pong": True}
        await second.stop()

    run(scenario())
