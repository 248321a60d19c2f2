"""Reading usrloc's ``ul.dump`` (issue 16): contacts with expiry, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.signalling.sip.registrations import (
    Registration,
    RegistrationsError,
    dump,
    parse_dump,
)


def contact(address: str, expires: object) -> dict[str, object]:
    return {"Contact": {"Address": address, "Expires": expires, "User-Agent": "baresip"}}


REPLY = {"jsonrpc": "2.0", "id": 1, "result": {"Domains": [{"Domain": {"Domain": "location",
         "AoRs": [{"Info": {"AoR": "202", "Contacts": [contact("sip:202@127.0.0.1:5080", 42)]}},
                  {"Info": {"AoR": "201", "Contacts": [contact("sip:201@127.0.0.1:5090", 299),
                                                       contact("sip:201@10.0.0.9:5060",
                                                               "permanent")]}}]}}]}}


def test_every_contact_of_every_extension_with_its_expiry() -> None:
    assert parse_dump(REPLY) == [
        Registration("201", "sip:201@10.0.0.9:5060", None, "baresip"),
        Registration("201", "sip:201@127.0.0.1:5090", 299, "baresip"),
        Registration("202", "sip:202@127.0.0.1:5080", 42, "baresip"),
    ]


def test_an_error_reply_is_reported() -> None:
    with pytest.raises(RegistrationsError, match="not found"):
        parse_dump({"jsonrpc": "2.0", "id": 1, "error": {"code": 500, "message": "not found"}})


def test_a_malformed_reply_is_reported() -> None:
    with pytest.raises(RegistrationsError, match="unexpected"):
        parse_dump({"result": {"Domains": [{"Domain": {}}]}})


def test_no_kamailio_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RegistrationsError, match="not running"):
        dump(str(tmp_path / "absent.sock"), timeout=0.5)


def test_a_phone_behind_a_nat_shows_where_its_registration_came_from() -> None:
    nated = contact("sip:2001@10.1.2.3:5060", 120)
    nated["Contact"]["Received"] = "sip:203.0.113.5:40123"  # type: ignore[index]
    direct = contact("sip:2002@127.0.0.1:5090", 120)
    direct["Contact"]["Received"] = "[not set]"  # type: ignore[index]
    reply = {"result": {"Domains": [{"Domain": {"AoRs": [
        {"Info": {"AoR": "2001", "Contacts": [nated]}},
        {"Info": {"AoR": "2002", "Contacts": [direct]}}]}}]}}
    assert [r.received for r in parse_dump(reply)] == ["sip:203.0.113.5:40123", ""]
