"""Kamailio's database (appliance/signalling/sip/edgedb.py): Kamailio's own schema, HA1s only."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from pathlib import Path

from appliance.config.sections.sip import SipExtension, SipSection
from appliance.signalling.sip.edgedb import ha1, write_credentials


def test_ha1_is_rfc_2617s() -> None:
    # RFC 2617 §3.5's example user and realm
    expected = hashlib.md5(b"Mufasa:testrealm@host.com:Circle Of Life").hexdigest()
    assert ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == expected


def test_credentials_replace_the_table_and_hold_no_password(tmp_path: Path) -> None:
    path = tmp_path / "sip" / "kamailio.db"
    section = SipSection(domain="box.example", extensions={
        "2001": SipExtension(password="secret-2001"), "2002": SipExtension(password="pw-2002x")})
    assert write_credentials(path, section) == 2
    assert write_credentials(path, SipSection(domain="box.example", extensions={
        "2001": SipExtension(password="new-secret")})) == 1  # 2002 removed, 2001 changed
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT key_name, key_type, value_type, key_value FROM htable").fetchall()
        tables = {r[0] for r in db.execute("SELECT table_name FROM version")}
    assert rows == [("2001", 0, 0, ha1("2001", "box.example", "new-secret"))]
    assert {"version", "htable", "location"} <= tables  # Kamailio's schema, with versions
    assert b"new-secret" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
