"""Every class of configuration error is reported with its file, line and key, all at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from appliance.config import ConfigErrors, load_config, load_config_text
from appliance.config.render import render_toml
from appliance.config.validate import to_plain


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(text, "site.toml")
    return [str(e) for e in caught.value.errors]


def test_empty_file_gives_every_default() -> None:
    config = load_config_text("")
    assert config.paths.state_dir == "/var/lib/appliance"
    assert config.paths.database_path == "/var/lib/appliance/appliance.db"
    assert config.control_socket("telephonyd") == "/run/appliance/telephonyd.sock"
    assert config.rig.spans == []


def test_malformed_toml_names_the_line() -> None:
    (error,) = errors_of('[paths]\nstate_dir = "/x"\nrun_dir = \n')
    assert error.startswith("site.toml:3:")
    assert "TOML syntax" in error


def test_unknown_key_with_suggestion() -> None:
    (error,) = errors_of("[paths]\n\nstate_dri = '/x'\n")
    assert error == "site.toml:3: paths.state_dri: unknown key; did you mean 'state_dir'?"


def test_unknown_table() -> None:
    (error,) = errors_of("[nonsense]\nx = 1\n")
    assert error.startswith("site.toml:1: nonsense: unknown key")


def test_wrong_type() -> None:
    (error,) = errors_of("[telephonyd]\nstop_timeout = 'soon'\n")
    assert error == "site.toml:2: telephonyd.stop_timeout: expected a number, got string"


def test_value_out_of_range() -> None:
    (error,) = errors_of("[powerd]\nstop_timeout = 99\n")
    assert error == "site.toml:2: powerd.stop_timeout: 99.0 is above the maximum 30.0"


def test_choice_not_allowed() -> None:
    (error,) = errors_of("[logging]\nlevel = 'loud'\n")
    assert error.startswith("site.toml:2: logging.level: 'loud' is not allowed; choose one of")


def test_bad_device_address_in_array_of_tables() -> None:
    text = (
        "[[rig.spans]]\nname = 'span1'\naddress = 'sim:/a'\n\n"
        "[[rig.spans]]\nname = 'span2'\naddress = 'carrier-pigeon'\n"
    )
    (error,) = errors_of(text)
    assert error.startswith("site.toml:7: rig.spans[1].address: device address 'carrier-pigeon'")


def test_duplicate_span_names() -> None:
    text = "[[rig.spans]]\nname = 'a'\naddress = 'sim:/1'\n[[rig.spans]]\nname = 'a'\naddress = 'sim:/2'\n"
    assert errors_of(text) == [
        "site.toml:2: rig.spans[0].name: duplicate name 'a'",
        "site.toml:5: rig.spans[1].name: duplicate name 'a'",
    ]


def test_missing_required_key() -> None:
    (error,) = errors_of("[[rig.ports]]\nname = 'fxo1'\naddress = 'sim:/p'\n")
    assert error == "site.toml:1: rig.ports[0].kind: required key is missing"


def test_every_error_is_reported_not_just_the_first() -> None:
    text = (
        "[logging]\nlevel = 3\ntarget = 'paper'\n\n[telephonyd]\nwatchdog_fraction = 2\nbogus = 1\n"
    )
    lines = [e.split(":")[1] for e in errors_of(text)]
    assert lines == ["2", "3", "6", "7"]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_config(str(tmp_path / "absent.toml"))
    assert str(caught.value) == f"{tmp_path}/absent.toml:0: cannot read: No such file or directory"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"[paths]\n# caf\xe9\n")
    with pytest.raises(ConfigErrors) as caught:
        load_config(str(path))
    assert ":2: not UTF-8" in str(caught.value)


def test_show_renders_toml_that_loads_back_to_the_same_configuration() -> None:
    text = (
        "[paths]\nstate_dir = '/srv/a'\n[[rig.spans]]\nname = 's1'\naddress = 'dahdi:1'\n"
        "[[rig.ports]]\nname = 'fxs1'\nkind = 'fxs'\naddress = 'sim:/p \"q\"'\n"
    )
    config = load_config_text(text)
    rendered = render_toml(to_plain(config))
    assert tomllib.loads(rendered) == to_plain(config)
    assert load_config_text(rendered) == config
