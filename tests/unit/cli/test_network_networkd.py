"""First-boot network settings: validation and the systemd-networkd file."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.network import (
    NetworkError,
    parse_settings,
    read_network_file,
    render_network_file,
    write_network_file,
)


def test_static_address_renders_a_networkd_file() -> None:
    settings = parse_settings("eth0", "192.0.2.10", "255.255.255.0", "192.0.2.1",
                              "192.0.2.53, 198.51.100.53")
    assert render_network_file(settings).splitlines()[1:] == [
        "[Match]", "Name=eth0", "", "[Network]", "Address=192.0.2.10/24",
        "Gateway=192.0.2.1", "DNS=192.0.2.53", "DNS=198.51.100.53",
    ]


def test_prefix_forms_and_dhcp() -> None:
    assert str(parse_settings("eth0", "10.1.2.3/16").address) == "10.1.2.3/16"
    assert str(parse_settings("eth0", "10.1.2.3", "/8").address) == "10.1.2.3/8"
    dhcp = parse_settings("enp1s0", dhcp=True, dns="9.9.9.9")
    assert "DHCP=ipv4" in render_network_file(dhcp) and "Address" not in render_network_file(dhcp)


@pytest.mark.parametrize(("args", "field", "words"), [
    (("eth0", "192.0.2.300", "24"), "address", "not an IPv4 address"),
    (("eth0", "192.0.2.0", "24"), "address", "network or broadcast"),
    (("eth0", "192.0.2.255", "255.255.255.0"), "address", "network or broadcast"),
    (("eth0", "127.0.0.5", "8"), "address", "cannot be a host address"),
    (("eth0", "192.0.2.10", "255.0.255.0"), "mask", "not a netmask"),
    (("eth0", "192.0.2.10", ""), "mask", "missing"),
    (("eth0", "192.0.2.10", "33"), "mask", "1..32"),
    (("eth0", "192.0.2.10", "24", "198.51.100.1"), "gateway", "not in the local network"),
    (("eth0", "192.0.2.10", "24", "192.0.2.10"), "gateway", "own address"),
    (("eth0", "192.0.2.10", "24", "", "8.8.8"), "dns", "not an IPv4 address"),
    (("eth 0", "192.0.2.10", "24"), "interface", "not an interface name"),
])
def test_each_bad_field_is_named(args: tuple[str, ...], field: str, words: str) -> None:
    with pytest.raises(NetworkError) as caught:
        parse_settings(*args)
    assert words in caught.value.problems[field]


def test_write_is_atomic_and_reads_back(tmp_path: Path) -> None:
    settings = parse_settings("eth0", "192.0.2.10", "24", "192.0.2.1", "192.0.2.53")
    path = write_network_file(settings, str(tmp_path / "network"))
    assert path.endswith("network/10-appliance-eth0.network")
    assert [p.name for p in (tmp_path / "network").iterdir()] == ["10-appliance-eth0.network"]
    assert read_network_file(path) == {"address": "192.0.2.10", "mask": "255.255.255.0",
                                       "gateway": "192.0.2.1", "dns": "192.0.2.53", "dhcp": ""}
