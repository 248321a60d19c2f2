"""Issue 16.4: an admin manages SIP extensions from the CLI on the running box, and no
phone loses its registration for it.

``appliancectl sip extensions add 2002 --apply`` gives a new phone its credentials (a
random password, shown once) and a baresip phone registers with it at once: Kamailio
reloads its credentials from its database, and baresip at 2001 stays registered without
registering again. ``passwd`` and ``remove`` likewise; an extension an agent works on
cannot be removed; every change is audited without the password. A restart of the SIP
edge (as a new trunk or its watchdog would) keeps the registrations: usrloc is written
through to Kamailio's database.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from operations_rig import Appliance, until

from appliance.config import load_config
from hil.sip.baresip import BaresipPhone

pytestmark = pytest.mark.integration


@pytest.fixture
def phone_2001(appliance: Appliance, tmp_path: Path) -> Iterator[BaresipPhone]:
    sip = load_config(str(appliance.config)).sip
    appliance.start_sip_edge()
    phone = BaresipPhone(tmp_path / "p2001", "2001", sip.extensions["2001"].password,
                         sip.listen_port)
    phone.start()
    try:
        until(lambda: registered(appliance) == {"2001"}, what="2001 registered")
        yield phone
    finally:
        phone.stop()


def registered(box: Appliance) -> set[str]:
    return {r["extension"] for r in box.ctl_json("sip", "registrations")["registrations"]}


def contact_of(box: Appliance, extension: str) -> str:
    return next(r["contact"] for r in box.ctl_json("sip", "registrations")["registrations"]
                if r["extension"] == extension)


def test_an_admin_adds_changes_and_removes_an_extension_live(
        appliance: Appliance, phone_2001: BaresipPhone, tmp_path: Path) -> None:
    box = appliance
    before = contact_of(box, "2001")
    log_lines = phone_2001.log.read_text(errors="replace").count("200 OK")
    added = box.ctl("sip", "extensions", "add", "2002", "--apply")
    assert "telephonyd: applied sip.extensions" in added.stdout, added.stdout
    password = re.search(r"password: (\S+)", added.stdout)
    assert password, added.stdout
    listen_port = load_config(str(box.config)).sip.listen_port
    phone = BaresipPhone(tmp_path / "p2002", "2002", password.group(1), listen_port)
    phone.start()
    try:
        until(lambda: registered(box) == {"2001", "2002"}, what="the new phone registered")
    finally:
        phone.stop()
    # 2001 was never asked to register again: the same contact, no new 200 to a REGISTER
    assert contact_of(box, "2001") == before
    assert phone_2001.log.read_text(errors="replace").count("200 OK") == log_lines
    assert "2002" in box.ctl("sip", "extensions", "list").stdout

    changed = box.ctl("sip", "extensions", "passwd", "2002", "--password", "n3w-secret-2002",
                      "--apply")
    assert "new password" in changed.stdout and "n3w-secret" not in changed.stdout
    refused = box.ctl("sip", "extensions", "remove", "2001", "--apply", check=False)
    assert refused.returncode == 4 and "agent(s) 1003" in refused.stderr, refused.stderr
    box.ctl("sip", "extensions", "remove", "2002", "--apply")
    assert "2002" not in box.ctl("sip", "extensions", "list").stdout
    login = box.ctl("agents", "login", "1001", "sip:2002", check=False)
    assert login.returncode != 0  # no such phone any more

    audit = box.rows("SELECT action, target, outcome, detail FROM audit_log WHERE action "
                     "LIKE 'sip.extension.%' ORDER BY id")
    assert [(a["action"], a["target"], a["outcome"][:7]) for a in audit] == [
        ("sip.extension.add", "2002", "ok"), ("sip.extension.passwd", "2002", "ok"),
        ("sip.extension.remove", "2001", "refused"), ("sip.extension.remove", "2002", "ok")]
    details = json.dumps([a["detail"] for a in audit])
    assert password.group(1) not in details and "n3w-secret" not in details


def test_a_restart_of_the_edge_keeps_the_registrations(
        appliance: Appliance, phone_2001: BaresipPhone) -> None:
    box = appliance
    before = contact_of(box, "2001")
    box.kill("sip-edge", signal.SIGTERM)
    box.processes["sip-edge"].wait(10)
    (box.root / "run" / "kamailio-rpc.sock").unlink(missing_ok=True)
    box.start_sip_edge()
    assert contact_of(box, "2001") == before  # read back from Kamailio's database
