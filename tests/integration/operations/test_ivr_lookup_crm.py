"""Item 10 of issue 12 (lookup part): the IVR ``lookup`` node asks a real HTTP server.

The demo flow is changed so that every caller first passes a ``lookup`` node
(``GET http://127.0.0.1:PORT/c/${caller}``, 2 s timeout) instead of the menu: when the CRM on
loopback answers a JSON object the call takes ``found`` and goes to the sales
queue, where Ada's phone rings; when the CRM is down, or answers after the
timeout, the call takes the fallback (``goodbye``) and never reaches an agent.
The request runs in a worker thread: while the slow CRM holds one request the
daemon still answers ``calls list``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from acd_traffic import agent
from operations_rig import Appliance, paused_rig, until

pytestmark = pytest.mark.integration

LOOKUP_NODE = """start = "crm"

[[ivr.flows.nodes]]
name = "crm"
type = "lookup"
url = "http://127.0.0.1:{port}/c/${{caller}}"
timeout = 2
next = "sales"
failure = "bye"
"""


class Crm(BaseHTTPRequestHandler):
    delay = 0.0
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Crm.asked.append(self.path)
        time.sleep(Crm.delay)
        body = json.dumps({"name": "Ada's customer", "priority": 3}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def crm() -> Iterator[ThreadingHTTPServer]:
    Crm.delay, Crm.asked = 0.0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Crm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def box_asking(tmp_path: Path, port: int) -> Appliance:
    rig = paused_rig(tmp_path)
    box = Appliance(tmp_path, rig)
    text = box.config.read_text(encoding="utf-8")
    marker = 'name = "main"\nstart = "menu"\n'
    assert marker in text, "the demo IVR flow changed; update this scenario"
    text = text.replace(marker, 'name = "main"\n' + LOOKUP_NODE.format(port=port))
    menu = text.index('[[ivr.flows.nodes]]\nname = "menu"')
    after = text.index("[[ivr.flows.nodes]]", menu + 1)
    box.config.write_text(text[:menu] + text[after:], encoding="utf-8")  # the lookup replaces it
    box.start_rig(rig)
    box.start_daemon("powerd")
    box.start_daemon("telephonyd")
    return box


def test_a_crm_answer_takes_the_found_branch_to_the_queue(
        tmp_path: Path, crm: ThreadingHTTPServer) -> None:
    box = box_asking(tmp_path, crm.server_address[1])
    try:
        box.span_up()
        box.ctl("agents", "login", "1001", "fxs1")
        box.e1_call(channel=1, calling="13900000071")
        until(lambda: agent(box, "1001")["state"] in ("ringing", "talking"), timeout=30,
              what="Ada offered the looked-up call")
        assert Crm.asked == ["/c/13900000071"]
    finally:
        box.stop()


@pytest.mark.parametrize("crm_state", ["down", "slow"])
def test_a_crm_down_or_slow_takes_the_fallback(
        tmp_path: Path, crm: ThreadingHTTPServer, crm_state: str) -> None:
    port = crm.server_address[1]
    if crm_state == "down":
        crm.shutdown()
        crm.server_close()
    else:
        Crm.delay = 6.0
    box = box_asking(tmp_path, port)
    try:
        box.span_up()
        box.ctl("agents", "login", "1001", "fxs1")
        caller = "13900000072"
        box.e1_call(channel=2, calling=caller)
        if crm_state == "slow":
            # the loop is free while the worker thread waits on the CRM
            assert box.live_call(caller)["state"] == "ivr"
        cdr = until(lambda: box.rows("SELECT answer FROM cdr WHERE caller = ?", caller),
                    timeout=30, what="the caller's CDR after the goodbye")
        assert cdr[0]["answer"] is not None  # the IVR answered, then took the fallback
        assert agent(box, "1001")["state"] == "idle"
        assert not box.rows("SELECT event FROM queue_log WHERE event = 'ENTERQUEUE'")
    finally:
        box.stop()
