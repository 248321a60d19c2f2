"""Kamailio as the SIP edge (issue 16): digest REGISTER through the generated configuration,
the pjsua2 endpoint as the registering phone, and ``appliancectl sip registrations``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.signalling.sip.endpoint import EndpointSettings, SipEndpoint
from appliance.signalling.sip.registrations import rpc_socket
from hil.sip.baresip import BaresipPhone, free_port

try:
    import pjsua2
except ImportError:  # a failure, never a skip: `make setup` installs the wheel
    pjsua2 = None

pytestmark = pytest.mark.integration

APPLIANCECTL = str(Path(sys.executable).with_name("appliancectl"))


class Edge:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.config = folder / "appliance.toml"


@pytest.fixture()
def edge() -> Iterator[Edge]:
    assert shutil.which("kamailio"), "kamailio is missing: run `make setup` (deps/apt/sip.txt)"
    with tempfile.TemporaryDirectory(prefix="sip-", dir="/tmp") as name:
        folder = Path(name)
        port = free_port()
        edge = Edge(folder, port)
        edge.config.write_text(
            f'[paths]\nrun_dir = "{name}"\nstate_dir = "{name}"\n\n'
            f'[sip]\nenabled = true\nlisten_port = {port}\n'
            '[sip.extensions.201]\npassword = "secret-201"\n'
            '[sip.extensions.202]\npassword = "secret-202"\n')
        log = (folder / "kamailio.log").open("w")
        # appliance-sip-edge: the credentials into Kamailio's database, the checked
        # kamailio.cfg, then Kamailio itself (exec)
        proc = subprocess.Popen([str(Path(sys.executable).with_name("appliance-sip-edge")),
                                 "--config", str(edge.config)],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while not Path(rpc_socket(name)).exists():
                assert proc.poll() is None, (folder / "kamailio.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "Kamailio did not open its RPC socket"
                time.sleep(0.05)
            yield edge
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()


def register(sip: SipEndpoint, port: int, extension: str, password: str) -> None:
    class Phone(pjsua2.Account):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.code: int | None = None

        def onRegState(self, prm: Any) -> None:
            self.code = prm.code

    def create(ep: Any) -> None:
        config = pjsua2.AccountConfig()
        config.idUri = f"sip:{extension}@appliance.local"
        config.regConfig.registrarUri = f"sip:127.0.0.1:{port}"
        config.sipConfig.authCreds.append(
            pjsua2.AuthCredInfo("digest", "*", extension, 0, password))
        phone = Phone()
        phone.create(config)
        sip.owned[extension] = phone

    sip.submit(create).result(5)


def reg_code(sip: SipEndpoint, extension: str, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = sip.submit(lambda ep: sip.owned[extension].code).result(5)  # type: ignore[attr-defined]
        if code is not None:
            return int(code)
        time.sleep(0.05)
    raise AssertionError(f"no REGISTER answer for {extension}")


def registrations(edge: Edge) -> dict[str, Any]:
    done = subprocess.run([APPLIANCECTL, "--config", str(edge.config), "sip", "registrations",
                           "--json"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_a_phone_registers_with_digest_and_a_wrong_password_is_refused(edge: Edge) -> None:
    assert pjsua2 is not None, "pjsua2-python is missing: run `make setup`"
    sip = SipEndpoint(EndpointSettings(port=0))
    sip.start()
    try:
        register(sip, edge.port, "201", "secret-201")
        register(sip, edge.port, "202", "wrong-password")
        assert reg_code(sip, "201") == 200
        assert reg_code(sip, "202") in (401, 403)
        shown = registrations(edge)["registrations"]
        assert [r["extension"] for r in shown] == ["201"]
        assert shown[0]["contact"].startswith("sip:201@127.0.0.1:")
        assert 0 < shown[0]["expires"] <= 300
    finally:
        sip.stop()


def test_registrations_without_kamailio_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(f'[paths]\nrun_dir = "{tmp_path}"\n')
    done = subprocess.run([APPLIANCECTL, "--config", str(config), "sip", "registrations"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 3
    assert "Kamailio is not running" in done.stderr


def test_a_baresip_phone_registers_and_is_listed(edge: Edge) -> None:
    """A real SIP phone (headless baresip) registers with digest through Kamailio."""
    assert shutil.which("baresip"), "baresip is missing: run `make setup` (deps/apt/sip.txt)"
    phone = BaresipPhone(edge.folder / "baresip", "201", "secret-201", edge.port)
    phone.start()
    try:
        deadline = time.monotonic() + 10
        shown: list[dict[str, Any]] = []
        while not shown:
            assert phone.process is not None and phone.process.poll() is None, "baresip exited"
            assert time.monotonic() < deadline, "baresip's registration never showed"
            time.sleep(0.2)
            shown = registrations(edge)["registrations"]
        assert [r["extension"] for r in shown] == ["201"]
        assert "baresip" in shown[0]["user_agent"]
        assert 0 < shown[0]["expires"] <= 300
    finally:
        phone.stop()
