"""The generated kamailio.cfg (issue 16): accepted by ``kamailio -c``, never put in place broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.config.sections.sip import SipExtension, SipSection
from appliance.signalling.sip.kamailio import KamailioConfigError, check, render, write_checked

SECTION = SipSection(extensions={"201": SipExtension(password="secret-201"),
                                 "202": SipExtension(password="secret-202")})


@pytest.fixture(autouse=True)
def _kamailio_installed() -> None:
    assert shutil.which("kamailio"), "kamailio is missing: run `make setup` (deps/apt/sip.txt)"


def test_the_generated_configuration_passes_kamailio_check(tmp_path: Path) -> None:
    target = tmp_path / "kamailio.cfg"
    write_checked(SECTION, target, str(tmp_path / "rpc.sock"))
    text = target.read_text()
    assert "listen=udp:127.0.0.1:5060" in text
    assert '$fU == "202"' in text and "secret-202" in text
    assert not (tmp_path / "kamailio.cfg.new").exists()


def test_a_rejected_configuration_names_the_file_and_leaves_the_old_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.cfg"
    broken.write_text(render(SECTION, "/tmp/x.sock").replace("request_route {", "request_route {{"))
    with pytest.raises(KamailioConfigError, match=r"broken\.cfg"):
        check(broken)


def test_write_checked_keeps_the_running_file_when_the_new_one_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "kamailio.cfg"
    target.write_text("previous")
    import appliance.signalling.sip.kamailio as kamailio
    monkeypatch.setattr(kamailio, "render", lambda section, sock: "#!KAMAILIO\nnot a config\n")
    with pytest.raises(KamailioConfigError):
        write_checked(SECTION, target, str(tmp_path / "rpc.sock"))
    assert target.read_text() == "previous"
    assert not (tmp_path / "kamailio.cfg.new").exists()
