"""The pjsua2 endpoint thread (issue 16, deliverable 2): one owner thread, clean start and stop."""

from __future__ import annotations

import logging
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from appliance.signalling.sip.endpoint import EndpointSettings, SipEndpoint, SipEndpointError

try:
    import pjsua2
except ImportError:  # a failure, never a skip: `make setup` installs the wheel
    pjsua2 = None


@pytest.fixture()
def endpoint() -> Any:
    assert pjsua2 is not None, "pjsua2-python is missing: run `make setup` (Linux x86-64 wheel)"
    sip = SipEndpoint(EndpointSettings(port=0, max_calls=8))
    yield sip
    sip.stop()


def test_start_reports_the_loopback_transport(endpoint: SipEndpoint) -> None:
    host, port = endpoint.start().rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0


def test_work_runs_on_the_owner_thread_not_the_caller(endpoint: SipEndpoint) -> None:
    endpoint.start()
    ran_on = endpoint.submit(lambda ep: threading.current_thread().name).result(5)
    assert ran_on == "pjsua2"
    assert ran_on != threading.current_thread().name


def test_pjsua2_uses_the_null_device(endpoint: SipEndpoint) -> None:
    endpoint.start()
    devices = endpoint.submit(lambda ep: ep.audDevManager().getCaptureDev()).result(5)
    assert devices < 0, "the endpoint must use the null sound device"


def test_max_calls_comes_from_the_settings_not_pjsua_default() -> None:
    assert pjsua2 is not None, "pjsua2-python is missing: run `make setup`"
    sip = SipEndpoint(EndpointSettings(port=0, max_calls=2))
    sip.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:  # swallows the INVITEs
        sink.bind(("127.0.0.1", 0))
        target = f"sip:201@127.0.0.1:{sink.getsockname()[1]}"

        def place_calls(ep: Any) -> int:
            config = pjsua2.AccountConfig()
            config.idUri = "sip:unit@127.0.0.1"
            account = pjsua2.Account()
            account.create(config)
            sip.owned["account"] = account
            placed = 0
            for n in range(3):
                call = pjsua2.Call(account)
                try:
                    call.makeCall(target, pjsua2.CallOpParam(True))
                except pjsua2.Error:
                    return placed
                sip.owned[f"call{n}"] = call
                placed += 1
            return placed

        try:
            assert sip.submit(place_calls).result(5) == 2
        finally:
            sip.stop()
    assert sip.owned == {}, "wrappers are dropped before libDestroy"


def test_a_pjsua2_error_reaches_the_submitter(endpoint: SipEndpoint) -> None:
    endpoint.start()

    def bad_account(ep: Any) -> None:
        config = pjsua2.AccountConfig()
        config.idUri = "not a SIP URI"
        pjsua2.Account().create(config)

    with pytest.raises(pjsua2.Error):
        endpoint.submit(bad_account).result(5)


def test_after_stop_work_is_refused_clearly(endpoint: SipEndpoint) -> None:
    endpoint.start()
    endpoint.stop()
    with pytest.raises(SipEndpointError, match="not running"):
        endpoint.submit(lambda ep: None).result(1)


def test_a_taken_port_fails_start_naming_the_address(caplog: pytest.LogCaptureFixture) -> None:
    assert pjsua2 is not None, "pjsua2-python is missing: run `make setup`"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        sip = SipEndpoint(EndpointSettings(port=port))
        with pytest.raises(SipEndpointError, match=f"127.0.0.1:{port}"):
            sip.start()
        sip.stop()


def test_pjlib_logs_into_the_daemon_log_not_stdout(endpoint: SipEndpoint,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    endpoint.start()
    with caplog.at_level(logging.DEBUG, "appliance.sip.pjlib"):
        endpoint.submit(lambda ep: ep.utilLogWrite(1, "test.c", "a pjlib error")).result(5)
        endpoint.submit(lambda ep: ep.utilLogWrite(2, "test.c", "a pjlib warning")).result(5)
    got = [(r.levelname, r.getMessage()) for r in caplog.records
           if r.name == "appliance.sip.pjlib"]
    assert ("ERROR", "test.c a pjlib error") in got and \
        ("WARNING", "test.c a pjlib warning") in got, got


PITFALL = """
import gc, pjsua2
from appliance.signalling.sip.endpoint import EndpointSettings, SipEndpoint
sip = SipEndpoint(EndpointSettings(port=0))
sip.start()
def bad_account(ep):
    config = pjsua2.AccountConfig()
    config.idUri = "not a SIP URI"
    pjsua2.Account().create(config)
error = sip.submit(bad_account).exception(5)
sip.stop()
again = SipEndpoint(EndpointSettings(port=0))  # pjlib lives again, as in the next daemon start
again.start()
del error
gc.collect()
again.stop()
print("clean")
"""


def test_an_error_carries_no_pjsua2_wrapper_to_the_caller_thread() -> None:
    """A traceback handed to the caller holds the owner thread's frames and so the
    Endpoint wrapper: dropped later on the caller's thread, unknown to pjlib, it aborts."""
    assert pjsua2 is not None, "pjsua2-python is missing: run `make setup`"
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PITFALL], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("clean")


def retired(endpoint: SipEndpoint, make: Callable[[], object]) -> weakref.ref[object]:
    """Retire a new ``make()`` on the owner thread; a weak reference to watch it go."""
    def retire(ep: Any) -> weakref.ref[object]:
        wrapper = make()
        endpoint.retire(wrapper)
        return weakref.ref(wrapper)

    endpoint.start()
    return endpoint.submit(retire).result(5)


def wait_destroyed(ref: weakref.ref[object]) -> None:
    deadline = time.monotonic() + 5
    while ref() is not None:
        assert time.monotonic() < deadline, "the retired wrapper was never destroyed"
        time.sleep(0.05)


def test_a_finished_calls_wrapper_is_kept_a_while_then_destroyed_on_the_owner_thread(
        endpoint: SipEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retired wrapper is kept RETIRE_S, then destroyed on the owner thread (never at
    once, never on another thread: a wrapper destroyed elsewhere aborts in pjlib)."""
    import appliance.signalling.sip.endpoint as module
    monkeypatch.setattr(module, "RETIRE_S", 0.3)

    class Wrapper:
        destroyed_on = ""

        def __del__(self) -> None:
            Wrapper.destroyed_on = threading.current_thread().name

    ref = retired(endpoint, Wrapper)
    assert ref() is not None
    wait_destroyed(ref)
    assert Wrapper.destroyed_on == "pjsua2"


def test_a_retired_call_wrapper_waits_while_its_call_id_is_another_calls(
        endpoint: SipEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    """pjsua gives a freed call id to the next call and ``Call::~Call`` hangs up whatever
    call holds its id: a retired wrapper whose id is in use again is kept until it is free."""
    import appliance.signalling.sip.endpoint as module
    monkeypatch.setattr(module, "RETIRE_S", 0.1)
    slot_taken = threading.Event()
    slot_taken.set()

    class OldCall:
        def isActive(self) -> bool:  # pjsua2 Call.isActive
            return slot_taken.is_set()

    ref = retired(endpoint, OldCall)
    time.sleep(0.5)  # well past RETIRE_S
    assert ref() is not None  # the new call on that id would be hung up
    slot_taken.clear()  # that call ended too: the id is free
    wait_destroyed(ref)


def test_media_ports_are_reused_and_never_destroyed_while_pjsua_runs(
        endpoint: SipEndpoint) -> None:
    """Destroying an AudioMediaPort while pjsua runs is a use-after-free in pjmedia's
    asynchronous bridge (SIGSEGV at 40 set-ups a second): ports go back to a pool."""
    from appliance.signalling.sip.frames import FrameQueues
    from appliance.signalling.sip.pjcall import PortPool

    def use(ep: Any) -> tuple[bool, bool, int, bool]:
        pool = PortPool()
        first = pool.take(FrameQueues())
        second = pool.take(FrameQueues())
        pool.give(first)
        again = pool.take(FrameQueues())
        kept = pool.abandon()
        endpoint.owned["kept"] = kept  # dropped before libDestroy, their C++ left alone
        return again is first, again is not second, len(kept), all(
            not p.thisown for p in kept)

    endpoint.start()
    reused, distinct, made, abandoned = endpoint.submit(use).result(5)
    assert reused and distinct and made == 2 and abandoned
    endpoint.stop()  # no abort: the abandoned ports are never destroyed
