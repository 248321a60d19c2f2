"""HTTP customer look-up for the IVR ``lookup`` node (IVR-6 data look-ups, API-1).

A GET to the node's URL must answer a JSON object; its keys become call
variables (``priority`` and ``vip`` also set the caller's queue priority).
The request runs in a worker thread so the call loop never blocks; the IVR
node itself enforces the node timeout and takes the fallback branch, so a
slow server only costs that caller the timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from appliance.ivr.engine import LookupReply

log = logging.getLogger("appliance.ivr")

MAX_REPLY = 64 * 1024


def fetch_json(url: str, timeout: float) -> dict[str, Any] | None:
    """GET ``url``; the JSON object it answers, or None (logged) on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(MAX_REPLY + 1)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        # ValueError: a URL urllib cannot parse (e.g. no scheme after ${} expansion)
        log.warning("customer look-up %s failed: %s", url, exc, extra={"url": url})
        return None
    if len(body) > MAX_REPLY:
        log.warning("customer look-up %s: reply larger than %d bytes", url, MAX_REPLY)
        return None
    try:
        data = json.loads(body)
    except ValueError as exc:
        log.warning("customer look-up %s: reply is not JSON (%s)", url, exc, extra={"url": url})
        return None
    if not isinstance(data, dict):
        log.warning("customer look-up %s: reply is not a JSON object", url, extra={"url": url})
        return None
    return data


class HttpLookup:
    """The IVR's ``lookup`` service on the running asyncio loop."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def __call__(self, url: str, reply: LookupReply) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, fetch_json, url, self.timeout)
        future.add_done_callback(lambda f: reply(f.result()))
