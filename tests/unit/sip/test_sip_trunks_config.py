"""``[sip.trunks]`` (issue 16.5): IP peers, validated alone and against the rest."""

from __future__ import annotations

import pytest

from appliance.config.errors import ConfigErrors
from appliance.config.load import load_config_text

BASE = """
[rig]
[[rig.spans]]
name = "e1a"
address = "sim:/tmp/e1a.sock"
[[rig.ports]]
name = "fxo1"
kind = "fxo"
address = "sim:/tmp/fxo1.sock"

[sip]
enabled = true
listen_port = 5060
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(BASE + text)
    return [str(error) for error in caught.value.errors]


def test_a_trunk_is_an_address_and_a_call_ceiling() -> None:
    config = load_config_text(BASE + """
[sip.trunks.carrier]
host = "192.0.2.10"
[calls]
outbound_trunks = ["carrier", "e1a", "sip", "analog"]
""")
    trunk = config.sip.trunks["carrier"]
    assert (trunk.host, trunk.port, trunk.max_calls) == ("192.0.2.10", 5060, 30)
    assert config.calls.outbound_trunks[0] == "carrier"


@pytest.mark.parametrize(("table", "where"), [
    ('[sip.trunks.carrier]\nhost = "carrier.example"', "sip.trunks.carrier.host"),
    ('[sip.trunks.carrier]\nhost = "192.0.2.300"', "sip.trunks.carrier.host"),
    ('[sip.trunks.carrier]\nhost = "192.0.2.1"\nmax_calls = 0', "sip.trunks.carrier.max_calls"),
    ('[sip.trunks.Carrier]\nhost = "192.0.2.1"', "sip.trunks"),
    ('[sip.trunks.e1a]\nhost = "192.0.2.1"', "sip.trunks.e1a"),  # a span's name
    ('[sip.trunks.me]\nhost = "127.0.0.1"', "sip.trunks.me"),  # the edge itself
    ('[sip.trunks.a]\nhost = "192.0.2.1"\n[sip.trunks.b]\nhost = "192.0.2.1"', "sip.trunks.b"),
    ('[calls]\noutbound_trunks = ["nosuch"]', "calls.outbound_trunks[0]"),
])
def test_bad_trunks_are_named_where_they_are(table: str, where: str) -> None:
    found = errors_of(table)
    assert any(where in error for error in found), found
