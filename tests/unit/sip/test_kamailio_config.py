"""The generated kamailio.cfg (issue 16): accepted by ``kamailio -c``, never put in place broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.config.sections.sip import SipExtension, SipSection, SipTrunk
from appliance.signalling.sip.kamailio import KamailioConfigError, check, render, write_checked

SECTION = SipSection(extensions={"201": SipExtension(password="secret-201"),
                                 "202": SipExtension(password="secret-202")})


@pytest.fixture(autouse=True)
def _kamailio_installed() -> None:
    assert shutil.which("kamailio"), "kamailio is missing: run `make setup` (deps/apt/sip.txt)"


def test_the_generated_configuration_passes_kamailio_check(tmp_path: Path) -> None:
    target = tmp_path / "kamailio.cfg"
    write_checked(SECTION, target, str(tmp_path / "rpc.sock"), tmp_path / "kamailio.db")
    text = target.read_text()
    assert "listen=udp:127.0.0.1:5060" in text
    assert f'"sqlite://{tmp_path / "kamailio.db"}"' in text  # credentials and usrloc
    assert "secret-202" not in text  # no password in the file: HA1s, in the database
    assert not (tmp_path / "kamailio.cfg.new").exists()


def test_a_rejected_configuration_names_the_file_and_leaves_the_old_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.cfg"
    broken.write_text(render(SECTION, "/tmp/x.sock", Path("/tmp/x.db")).replace("request_route {", "request_route {{"))
    with pytest.raises(KamailioConfigError, match=r"broken\.cfg"):
        check(broken)


def test_write_checked_keeps_the_running_file_when_the_new_one_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "kamailio.cfg"
    target.write_text("previous")
    import appliance.signalling.sip.kamailio as kamailio
    monkeypatch.setattr(kamailio, "render", lambda *args: "#!KAMAILIO\nnot a config\n")
    with pytest.raises(KamailioConfigError):
        write_checked(SECTION, target, str(tmp_path / "rpc.sock"), tmp_path / "kamailio.db")
    assert target.read_text() == "previous"
    assert not (tmp_path / "kamailio.cfg.new").exists()


def test_trunks_are_ip_peers_and_nobody_else_can_claim_to_be_one(tmp_path: Path) -> None:
    section = SipSection(extensions=SECTION.extensions, trunks={
        "carrier": SipTrunk(host="192.0.2.10", port=5062),
        "backup": SipTrunk(host="198.51.100.7")})
    target = tmp_path / "kamailio.cfg"
    write_checked(section, target, str(tmp_path / "rpc.sock"),
                  tmp_path / "kamailio.db")  # kamailio -c accepts it
    text = target.read_text()
    route = text.split("request_route {", 1)[1]
    # the header is stripped from every request not from the back-end, before anything else
    assert route.index('remove_hf("X-Appliance-Trunk")') < route.index("route(TRUNK_PEERS)")
    assert '$si == "192.0.2.10" && $sp == 5062) { $var(trunk) = "carrier"; }' in text
    assert 'if ($var(trunk) == "") { route(BANS); }' in text  # carriers are not pike-banned
    assert '$var(to) == "backup") { $rd = "198.51.100.7"; $rp = 5060;' in text
    assert 'sl_send_reply("404", "No Such Trunk")' in text
