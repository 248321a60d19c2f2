"""NUT client parsing and its behaviour with a misbehaving server (a scripted socket)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from drivers.ups import UpsInitError, open_ups
from drivers.ups.nut import NutUps, quote, reading_from_vars, split_line


def test_quoted_values_are_unescaped() -> None:
    assert split_line('VAR ups ups.status "OB LB"') == ["VAR", "ups", "ups.status", "OB LB"]
    assert split_line(r'VAR ups x "say \"hi\" \\ back"') == ["VAR", "ups", "x", 'say "hi" \\ back']
    value = 'a "b" \\ c'
    assert split_line("VAR ups y " + quote(value))[3] == value


def test_reading_from_variables() -> None:
    reading = reading_from_vars({"ups.status": "OB DISCHRG LB", "battery.charge": "17",
                                 "battery.runtime": "240", "input.voltage": "0.0"})
    assert reading.on_battery and reading.low_battery and not reading.stale
    assert reading.charge == 17.0 and reading.runtime == 240.0
    waiting = reading_from_vars({"ups.status": "WAIT"})
    assert waiting.stale and "WAIT" in waiting.error
    junk = reading_from_vars({"ups.status": "OL", "battery.charge": "n/a"})
    assert junk.charge is None and not junk.stale


def test_address_forms() -> None:
    ups = open_ups("nut://rack1@10.0.0.5:3500?user=mon&password=pw&timeout=3")
    assert isinstance(ups, NutUps)
    assert (ups.ups_name, ups.host, ups.port, ups.username, ups.timeout) == (
        "rack1", "10.0.0.5", 3500, "mon", 3.0)
    default = open_ups("nut://ups@localhost")
    assert isinstance(default, NutUps) and default.port == 3493
    with pytest.raises(UpsInitError, match="UPSNAME@HOST"):
        open_ups("nut://localhost:3493")


class ScriptedUpsd:
    """Answers VER, then LIST VAR with whatever the test scripted."""

    def __init__(self, list_reply: list[str]) -> None:
        self.list_reply = list_reply
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn, conn.makefile("rwb") as stream, contextlib.suppress(ConnectionError):
            for raw in stream:
                line = raw.decode().strip()
                if line == "VER":
                    reply = ["Network UPS Tools upsd 2.8.0 - scripted"]
                elif line.startswith("LIST VAR"):
                    reply = self.list_reply
                else:
                    reply = ["OK"]
                stream.write("".join(r + "\n" for r in reply).encode())
                stream.flush()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def scripted(request: pytest.FixtureRequest) -> Iterator[ScriptedUpsd]:
    server = ScriptedUpsd(request.param)
    yield server
    server.close()


@pytest.mark.parametrize(
    "scripted, error",
    [
        (["ERR DATA-STALE"], "DATA-STALE"),
        (["ERR DRIVER-NOT-CONNECTED"], "DRIVER-NOT-CONNECTED"),
        (["ERR UNKNOWN-UPS"], "UNKNOWN-UPS"),
        (["BEGIN LIST VAR ups", 'VAR ups ups.status "OL'], "malformed"),
        (["BEGIN LIST VAR ups", "GARBAGE"], "unexpected line"),
        (["SOMETHING ELSE"], "LIST VAR began with"),
    ],
    indirect=["scripted"],
)
def test_server_errors_and_bad_lines_give_stale_readings(scripted: ScriptedUpsd, error: str
                                                         ) -> None:
    ups = open_ups(f"nut://ups@127.0.0.1:{scripted.port}?timeout=0.5")
    reading = ups.read()
    assert reading.stale and error in reading.error
    ups.close()


@pytest.mark.parametrize(
    "scripted", [["BEGIN LIST VAR ups", 'VAR ups ups.status "OL"']], indirect=True
)
def test_hung_server_times_out(scripted: ScriptedUpsd) -> None:
    ups = open_ups(f"nut://ups@127.0.0.1:{scripted.port}?timeout=0.3")
    reading = ups.read()  # END LIST VAR never comes
    assert reading.stale and "did not answer within 0.3 s" in reading.error
