"""What a SIP phone may dial (appliance/signalling/sip/calls.py ``dial_plan``), and SIP URIs."""

from __future__ import annotations

import pytest

from appliance.config.load import load_config_text
from appliance.signalling.analog.dialplan import Match
from appliance.signalling.sip.calls import dial_plan
from appliance.signalling.sip.message import user_of

CONFIG = """
[rig]
[[rig.ports]]
name = "fxs1"
kind = "fxs"
address = "sim:/tmp/fxs1.sock"
extension = "201"

[sip]
enabled = true
[sip.extensions.2001]
password = "secret-2001"
"""


@pytest.mark.parametrize(("dialled", "destination"), [
    ("201", "201"),  # an FXS phone's extension
    ("2001", "2001"),  # a SIP extension
    ("913800138000", "external:13800138000"),  # 9 + number: the outbound route
    ("*511001", "feature:agent-login"), ("*52", "feature:agent-logout"),
])
def test_a_sip_phone_dials_extensions_outside_numbers_and_feature_codes(
        dialled: str, destination: str) -> None:
    plan = dial_plan(load_config_text(CONFIG))
    verdict, rule = plan.match(dialled)
    assert verdict in (Match.COMPLETE, Match.AMBIGUOUS) and rule is not None
    assert (rule.target if rule.target.startswith("feature:")
            else rule.destination(dialled)) == destination


@pytest.mark.parametrize("dialled", ["555", "20", "9", ""])
def test_anything_else_is_not_a_number(dialled: str) -> None:
    verdict, _ = dial_plan(load_config_text(CONFIG)).match(dialled)
    assert verdict not in (Match.COMPLETE, Match.AMBIGUOUS)


@pytest.mark.parametrize(("uri", "user"), [
    ('"Agent" <sip:2001@appliance.local>', "2001"), ("sip:*511001@appliance.local", "*511001"),
    ("<sips:2001@10.0.0.1:5061;transport=tls>", "2001"), ("sip:appliance.local", ""),
])
def test_the_user_part_of_a_uri(uri: str, user: str) -> None:
    assert user_of(uri) == user
