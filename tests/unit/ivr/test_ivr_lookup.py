"""The HTTP customer look-up against a real local web server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appliance.ivr.lookup import HttpLookup


class Crm(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        replies = {
            "/c/4711": b'{"name": "Ada", "priority": 5}',
            "/c/list": b"[1, 2]",
            "/c/junk": b"<html>",
        }
        body = replies.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def crm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Crm)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def ask(url: str) -> object:
    async def run() -> object:
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        HttpLookup(timeout=2)(url, done.set_result)
        return await asyncio.wait_for(done, 5)

    return asyncio.run(run())


def test_a_json_object_reply_is_returned(crm: str) -> None:
    assert ask(f"{crm}/c/4711") == {"name": "Ada", "priority": 5}


@pytest.mark.parametrize("path", ["/c/list", "/c/junk", "/c/none"])
def test_bad_replies_give_none_so_the_ivr_takes_the_fallback(crm: str, path: str) -> None:
    assert ask(f"{crm}{path}") is None


def test_an_unreachable_server_gives_none() -> None:
    assert ask("http://127.0.0.1:9/c/1") is None


@pytest.mark.parametrize("url", ["not a url", "crm.example/c/1"])
def test_a_url_urllib_cannot_parse_gives_none(url: str) -> None:
    assert ask(url) is None
