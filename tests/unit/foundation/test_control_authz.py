"""Authorisation on the control socket (issue 13 item 3): every method needs its permission,
the peer's Unix user maps to an account, customer data is masked, state changes are audited,
and the server bounds its clients (connection cap with a reserve, slow readers dropped)."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
from pathlib import Path
from typing import Any

import pytest

import appliance.runtime.control as control_module
from appliance.auth import UserStore
from appliance.auth.guard import AccountGuard, Principal, nobody, owner_guard
from appliance.auth.roles import permissions_of
from appliance.runtime.control import ControlClient, ControlError, ControlServer
from appliance.runtime.events import EventBus
from appliance.runtime.peer import Peer
from appliance.store import open_database

Audited = list[tuple[str, str, dict[str, Any], str]]


def as_role(role: str) -> Any:
    def guard(peer: Peer) -> Principal:
        return Principal("alice", role, permissions_of(role), peer)
    return guard


def server(tmp_path: Path, guard: Any, audited: Audited) -> ControlServer:
    control = ControlServer(
        str(tmp_path / "d.sock"), EventBus(lambda: 0.0), guard=guard,
        auditor=lambda who, method, params, outcome: audited.append(
            (who.name, method, params, outcome)),
    )

    async def calls_list(params: dict[str, Any]) -> dict[str, Any]:
        return {"calls": [{"call_id": "c-1", "caller": "13800138000", "agent": "1001"}]}

    async def hangup(params: dict[str, Any]) -> dict[str, Any]:
        if params.get("call_id") != "c-1":
            raise ControlError("not-found", "no such call")
        return {"hung_up": "c-1"}

    control.register("calls.list", calls_list, needs="calls.read")
    control.register("calls.hangup", hangup, needs="calls.control")
    return control


def test_a_viewer_reads_masked_and_is_refused_and_audited_for_a_change(tmp_path: Path) -> None:
    audited: Audited = []

    async def scenario() -> None:
        control = server(tmp_path, as_role("viewer"), audited)
        await control.start()
        async with ControlClient(control.path) as client:
            listed = await client.call("calls.list")
            assert listed["calls"][0]["caller"] == "***"  # no customer.read
            assert listed["calls"][0]["agent"] == "1001"
            with pytest.raises(ControlError) as refused:
                await client.call("calls.hangup", call_id="c-1")
        await control.stop()
        assert refused.value.code == "forbidden"
        assert refused.value.data == {"needs": "calls.control"}
        assert "alice (viewer)" in refused.value.message

    asyncio.run(scenario())
    assert audited == [("alice", "calls.hangup", {"call_id": "c-1"},
                        "forbidden: needs calls.control")]


def test_a_supervisor_sees_numbers_and_every_change_is_audited_with_its_outcome(
        tmp_path: Path) -> None:
    audited: Audited = []

    async def scenario() -> None:
        control = server(tmp_path, as_role("supervisor"), audited)
        await control.start()
        async with ControlClient(control.path) as client:
            assert (await client.call("calls.list"))["calls"][0]["caller"] == "13800138000"
            assert await client.call("calls.hangup", call_id="c-1") == {"hung_up": "c-1"}
            with pytest.raises(ControlError):
                await client.call("calls.hangup", call_id="c-9")
        await control.stop()

    asyncio.run(scenario())
    assert audited == [  # reads are not audited
        ("alice", "calls.hangup", {"call_id": "c-1"}, "ok"),
        ("alice", "calls.hangup", {"call_id": "c-9"}, "refused: no such call"),
    ]


def test_nobody_may_ping_and_nothing_else_not_even_subscribe(tmp_path: Path) -> None:
    audited: Audited = []

    async def scenario() -> None:
        control = server(tmp_path, nobody, audited)
        await control.start()
        async with ControlClient(control.path) as client:
            assert await client.call("ping") == {"pong": True}
            for method in ("calls.list", "subscribe"):
                with pytest.raises(ControlError) as refused:
                    await client.call(method)
                assert refused.value.code == "forbidden"
                assert "has no appliance account" in refused.value.message
        await control.stop()

    asyncio.run(scenario())
    assert [a[1] for a in audited] == ["calls.list", "subscribe"]


def test_events_are_masked_for_a_principal_without_customer_read(tmp_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        control = server(tmp_path, as_role("viewer"), [])
        await control.start()
        async with ControlClient(control.path) as client:
            events = client.events("call.*")
            first = asyncio.ensure_future(events.__anext__())
            await asyncio.sleep(0.05)
            control.bus.publish("call.answer", call_id="c-1", caller="13800138000")
            event = await asyncio.wait_for(first, 2)
        await control.stop()
        return event

    event = asyncio.run(scenario())
    assert event["data"] == {"call_id": "c-1", "caller": "***"}


def test_the_account_guard_maps_unix_users_to_their_accounts(tmp_path: Path) -> None:
    path = str(tmp_path / "appliance.db")
    users = UserStore(open_database(path), scrypt_n=2)
    users.add("nobody", "viewer", "long-enough-password")  # the Unix user 'nobody'
    uid = pwd.getpwnam("nobody").pw_uid
    guard = AccountGuard(path)

    assert guard(Peer(1, 0, 0)).role == "admin"  # root
    viewer = guard(Peer(1, uid, uid))
    assert (viewer.name, viewer.role) == ("nobody", "viewer")
    assert viewer.can("calls.read") and not viewer.can("calls.control")
    users.grant("nobody", "customer.read")
    assert guard(Peer(1, uid, uid)).can("customer.read")
    users.disable("nobody")
    assert guard(Peer(1, uid, uid)).role == ""  # disabled: nothing
    assert guard(Peer(1, 4_000_123, 4_000_123)).permissions == frozenset()  # no passwd entry
    assert AccountGuard(str(tmp_path / "missing.db"))(Peer(1, uid, uid)).role == ""
    assert owner_guard(Peer(1, uid, uid)).role == ""


def test_the_connection_cap_keeps_a_reserve_for_the_daemons(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_module, "MAX_CONNECTIONS", 2)
    monkeypatch.setattr(control_module, "RESERVED_CONNECTIONS", 1)

    async def scenario() -> tuple[list[Any], int]:
        control = server(tmp_path, owner_guard, [])
        await control.start()
        clients = [await ControlClient(control.path).connect() for _ in range(4)]
        answers: list[Any] = []
        for client in clients:
            try:
                answers.append(await client.call("ping"))
            except ControlError as exc:
                answers.append(exc.code)
        for client in clients:
            await client.close()
        refused = control.refused_connections
        await control.stop()
        return answers, refused

    answers, refused = asyncio.run(scenario())
    # this test runs as the owner: two ordinary places, one reserved, the fourth is refused
    assert answers == [{"pong": True}] * 3 + ["busy"]
    assert refused == 1


def test_a_client_that_never_reads_is_dropped_and_others_are_served(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_module, "SEND_TIMEOUT", 0.3)

    async def scenario() -> tuple[int, Any]:
        control = server(tmp_path, owner_guard, [])

        async def big(params: dict[str, Any]) -> str:
            return "x" * 200_000

        control.register("big", big, needs="status.read")
        await control.start()
        _reader, writer = await asyncio.open_unix_connection(control.path)
        writer.write(b"".join(json.dumps({"id": i, "method": "big"}).encode() + b"\n"
                              for i in range(200)))  # 40 MB of answers, none read
        await writer.drain()
        await asyncio.sleep(1.0)
        async with ControlClient(control.path) as other:
            pong = await other.call("ping")
        dropped = control.dropped_slow_readers
        writer.close()
        await control.stop()
        return dropped, pong

    dropped, pong = asyncio.run(scenario())
    assert dropped == 1
    assert pong == {"pong": True}


def test_the_account_is_looked_up_once_per_uid_not_once_per_connection(tmp_path: Path) -> None:
    lookups: list[int] = []

    def counting(peer: Peer) -> Principal:
        lookups.append(peer.uid)
        return owner_guard(peer)

    async def scenario() -> None:
        control = server(tmp_path, counting, [])
        await control.start()
        for _ in range(20):  # a flood of connections costs one database read, not twenty
            async with ControlClient(control.path) as client:
                assert await client.call("ping") == {"pong": True}
        await control.stop()

    asyncio.run(scenario())
    assert len(lookups) == 1


def test_the_console_acts_as_its_logged_in_account_and_only_the_owner_may(
        tmp_path: Path) -> None:
    """``as`` (the console's login): the daemon enforces and audits that account's role,
    never more than it; a process that is not the appliance's own may not ask."""
    db = open_database(str(tmp_path / "a.db"))
    UserStore(db, scrypt_n=1 << 10).add("vic", "viewer", "viewer-password-1")
    guard = AccountGuard(str(tmp_path / "a.db"))
    audited: Audited = []

    async def scenario() -> None:
        control = server(tmp_path, guard, audited)
        control.accounts = guard.account
        await control.start()
        async with ControlClient(control.path, act_as="vic") as console:  # we are the owner
            listed = await console.call("calls.list")
            assert listed["calls"][0]["caller"] == "***"  # vic has no customer.read
            with pytest.raises(ControlError) as refused:
                await console.call("calls.hangup", call_id="c-1")
            assert refused.value.code == "forbidden" and "vic (viewer)" in refused.value.message
        async with ControlClient(control.path, act_as="nobody-here") as console:
            with pytest.raises(ControlError, match="no active appliance account"):
                await console.call("calls.list")
        async with ControlClient(control.path) as owner:  # without 'as': the owner, admin
            assert (await owner.call("calls.hangup", call_id="c-1")) == {"hung_up": "c-1"}
        await control.stop()

    asyncio.run(scenario())
    assert [(who, method, outcome) for who, method, _params, outcome in audited] == [
        ("vic", "calls.hangup", "forbidden: needs calls.control"),
        (pwd.getpwuid(os.getuid()).pw_name, "calls.hangup", "ok")]


def test_a_user_who_is_not_the_owner_may_not_act_as_an_account(tmp_path: Path) -> None:
    async def scenario() -> str:
        control = ControlServer(str(tmp_path / "d.sock"), EventBus(lambda: 0.0),
                                guard=as_role("engineer"),
                                accounts=lambda name, peer: Principal(
                                    name, "admin", permissions_of("admin"), peer))
        stranger = Peer(1, 4_000_123, 4_000_123)  # as SO_PEERCRED would report another user
        principal = Principal("eve", "engineer", permissions_of("engineer"), stranger)
        _id, reply = await control._answer(
            json.dumps({"id": 1, "method": "ping", "as": "admin"}).encode(), principal)
        assert isinstance(reply, dict)
        return str(reply["error"]["message"])

    assert "may not act as another account" in asyncio.run(scenario())
