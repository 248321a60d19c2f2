"""What the back-end reads from an INVITE's text (appliance/signalling/sip/message.py)."""

from __future__ import annotations

import pytest

from appliance.signalling.sip.message import header, number_of, request_user

INVITE = (
    "INVITE sip:4008001000@127.0.0.1:5070;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    'From: "Customer" <sip:13912345678@carrier.example>;tag=1\r\n'
    "x-appliance-trunk: carrier\r\n"
    "P-Asserted-Identity: <sip:+8613912345678@carrier.example>,\r\n"
    " <tel:+8613912345678>\r\n"
    "Content-Length: 22\r\n"
    "\r\n"
    "X-Appliance-Trunk: fake\r\n"  # the body is not a header
)


def test_the_request_uri_user_is_the_did() -> None:
    assert request_user(INVITE) == "4008001000"
    assert request_user("garbage") == ""


def test_headers_by_name_in_any_case_unfolded_and_never_from_the_body() -> None:
    assert header(INVITE, "X-Appliance-Trunk") == "carrier"
    assert header(INVITE, "p-asserted-identity") == (
        "<sip:+8613912345678@carrier.example>, <tel:+8613912345678>")
    assert header(INVITE, "Reason") is None


@pytest.mark.parametrize(("uri", "number"), [
    ("<sip:+8613912345678@carrier.example>", "+8613912345678"),
    ('"Customer" <sip:13912345678@carrier.example>;tag=1', "13912345678"),
    ("<tel:+4930123456>", "+4930123456"),
    ("<sip:anonymous@anonymous.invalid>", ""),  # withheld: no number
    ("<sip:" + "1" * 5000 + "@x>", ""),  # no number is that long (E.164 §6)
    (None, ""),
])
def test_a_callers_number_or_nothing(uri: str | None, number: str) -> None:
    assert number_of(uri) == number
