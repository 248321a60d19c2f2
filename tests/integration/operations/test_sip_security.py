"""Issue 16 SEC-4 on the running appliance: SIPVicious (Debian's sipvicious, nobody on the
team wrote it) against the SIP edge Kamailio runs on the generated configuration.

``svwar`` finds the server but enumerates no extension: known and unknown users get the same
challenge. ``svcrack`` against extension 2001 is banned before its tenth password (the right
one): ``[sip] auth_failures`` failed logins ban the source, which then gets no answer at
all, so even the real phone from that address cannot register; ``appliancectl sip bans``
shows the ban, ``appliancectl sip unban`` lifts it (audited), and a ban expires by itself
after ``[sip] ban_seconds``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from operations_rig import Appliance, running, until

from appliance.config import load_config
from hil.sip.baresip import BaresipPhone

pytestmark = pytest.mark.integration

EXTENSION = "2001"
BAN_SECONDS = 25  # longer than svcrack keeps trying (--maximumtime 8)


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Appliance]:
    def short_bans(box: Appliance) -> None:
        text = box.config.read_text(encoding="utf-8")
        box.config.write_text(text.replace("[sip]\nenabled = true\n",
                                           f"[sip]\nenabled = true\nban_seconds = {BAN_SECONDS}\n"
                                           "auth_failures = 5\n"), encoding="utf-8")

    with running(tmp_path, short_bans) as box:
        box.start_sip_edge()
        yield box


def port_of(box: Appliance) -> int:
    return load_config(str(box.config)).sip.listen_port


def bans(box: Appliance) -> list[dict[str, object]]:
    return list(box.ctl_json("sip", "bans")["bans"])


def svcrack(box: Appliance, words: list[str], folder: Path) -> str:
    dictionary = folder / "words.txt"
    dictionary.write_text("\n".join(words) + "\n", encoding="utf-8")
    done = subprocess.run(["svcrack", "-u", EXTENSION, "-d", str(dictionary), "-p",
                           str(port_of(box)), "--maximumtime", "8", "127.0.0.1"],
                          capture_output=True, text=True, timeout=90)
    return done.stdout + done.stderr


def test_svwar_enumerates_no_extension(edge: Appliance) -> None:
    for method in ("REGISTER", "INVITE", "OPTIONS"):
        done = subprocess.run(["svwar", "-e2000-2010", "-m", method, "-p", str(port_of(edge)),
                               "127.0.0.1"], capture_output=True, text=True, timeout=90)
        found = done.stdout + done.stderr
        assert EXTENSION not in found.replace("2000-2010", ""), (method, found)
    assert not bans(edge)  # eleven probes a method are no flood


def test_svcrack_is_banned_before_its_tenth_try_and_the_ban_lifts_and_expires(
        edge: Appliance, tmp_path: Path) -> None:
    password = load_config(str(edge.config)).sip.extensions[EXTENSION].password
    said = svcrack(edge, [f"guess{n}" for n in range(9)] + [password], tmp_path)
    assert password not in said, said
    (ban,) = until(lambda: bans(edge), what="the cracker banned")
    assert ban["source"] == "127.0.0.1" and ban["reason"] == "auth", ban
    assert 0 < int(ban["expires"]) <= BAN_SECONDS
    # the extension being guessed shows too (svwar's unknown names are never counted)
    failed = edge.ctl_json("sip", "bans")["failed_logins"]
    assert failed == [{"extension": EXTENSION, "failures": 5}], failed
    assert "failed digest logins in the last hour" in edge.ctl("sip", "bans").stdout

    def dropped() -> int:
        log = (edge.root / "sip-edge.log").read_text(errors="replace")
        return log.count("dropped REGISTER from banned 127.0.0.1")

    before = dropped()  # svcrack's own retries
    phone = BaresipPhone(tmp_path / "phone", EXTENSION, password, port_of(edge))
    phone.start()  # the real phone, from the banned address: no answer at all
    try:
        until(lambda: dropped() > before, what="Kamailio dropping the phone's REGISTER")
        assert not edge.ctl_json("sip", "registrations")["registrations"]
        assert "127.0.0.1: ban lifted" in edge.ctl("sip", "unban", "127.0.0.1").stdout
        assert not bans(edge)
        phone.stop()
        phone.start()  # the phone retries now that the ban is gone
        until(lambda: edge.ctl_json("sip", "registrations")["registrations"], timeout=30,
              what="the phone registered once the ban was lifted")
    finally:
        phone.stop()
    refused = edge.ctl("sip", "unban", "127.0.0.1", check=False)
    assert refused.returncode == 4 and "not banned" in refused.stderr
    audit = edge.rows("SELECT action, target, outcome FROM audit_log "
                      "WHERE action = 'sip.unban' ORDER BY id")
    assert [(a["outcome"] == "ok") for a in audit] == [True, False], audit

    svcrack(edge, [f"again{n}" for n in range(6)], tmp_path)  # banned again ...
    until(lambda: bans(edge), what="banned again")
    until(lambda: not bans(edge), timeout=BAN_SECONDS + 10, what="the ban expired")
