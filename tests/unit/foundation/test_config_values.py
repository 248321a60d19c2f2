"""Values that cannot hurt: finite numbers, bounded strings and nesting, regular files only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.config import ConfigErrors, load_config, load_config_text
from appliance.config.load import read_config_file


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(text, "site.toml")
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize("value", ["nan", "+nan", "-nan", "inf", "-inf", "+inf"])
def test_nan_and_infinities_are_refused_where_a_number_is_read(value: str) -> None:
    # TOML v1.0.0 §Float allows them; every range check passes for nan
    assert errors_of(f"[power]\n\nrail_min_volts = {value}\n") == [
        "site.toml:3: power.rail_min_volts: must be a finite number"
    ]


def test_nan_in_a_table_of_numbers_and_in_powerd_timers() -> None:
    assert errors_of("[power]\nwatchdog_interval = nan\n[stats]\nsl_seconds = inf\n") == [
        "site.toml:2: power.watchdog_interval: must be a finite number",
        "site.toml:4: stats.sl_seconds: must be a finite number",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000 + "]" * 100_000,
        "a = " + "{b = " * 20_000 + "1" + "}" * 20_000,
    ],
)
def test_deep_nesting_is_a_clear_error_not_a_recursion_traceback(text: str) -> None:
    assert errors_of(text) == ["site.toml:1: arrays or inline tables nested too deeply"]


def test_an_integer_of_thousands_of_digits_is_a_clear_error() -> None:
    (error,) = errors_of("[telephonyd]\nstop_timeout = " + "9" * 5000 + "\n")
    assert error.startswith("site.toml:1: TOML value: Exceeds the limit")


def test_strings_are_bounded_in_general_and_names_tighter() -> None:
    long_path = "/" + "x" * 5000
    assert errors_of(f"[paths]\nstate_dir = '{long_path}'\n") == [
        "site.toml:2: paths.state_dir: longer than 4096 characters"
    ]
    agent = "[[acd.agents]]\nid = '1001'\nname = '" + "A" * 65 + "'\n"
    assert errors_of(agent) == ["site.toml:3: acd.agents[0].name: longer than 64 characters"]
    route = "[[ivr.routes]]\nflow = 'main'\ndnis = '" + "4" * 18 + "'\n"
    assert "site.toml:3: ivr.routes[0].dnis: longer than 17 characters" in errors_of(route)


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "appliance.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigErrors) as caught:
        load_config(str(fifo))
    assert str(caught.value) == f"{fifo}:0: not a regular file (a FIFO); refused"


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "a character device"), ("/", "a directory")]
)
def test_devices_and_directories_are_refused(path: str, kind: str) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:0: not a regular file ({kind}); refused"


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * 2000 + b"\n")
    with pytest.raises(ConfigErrors) as caught:
        read_config_file(str(big), limit=1000)
    assert str(caught.value) == f"{big}:0: larger than 1000 bytes; refused"
    assert read_config_file(str(big), limit=4000).startswith(b"# x")


NESTED = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"


@pytest.mark.parametrize(
    "args",
    [["config", "validate", "{file}"], ["status"], ["config", "show"],
     ["queues", "add", "support", "--file", "{file}"]],
)
def test_every_appliancectl_command_reports_a_nested_file_without_a_traceback(
    tmp_path: Path, args: list[str]
) -> None:
    from click.testing import CliRunner

    from appliance.cli.main import cli

    site = tmp_path / "appliance.toml"
    site.write_text(NESTED)
    argv = ["--config", str(site), *(a.format(file=site) for a in args)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code != 0
    assert not isinstance(result.exception, RecursionError), result.output
    assert f"{site}:1: arrays or inline tables nested too deeply" in result.output


def test_config_validate_calls_a_nan_file_invalid(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from appliance.cli.main import cli

    site = tmp_path / "appliance.toml"
    site.write_text("[power]\nrail_min_volts = nan\nwatchdog_interval = nan\n")
    result = CliRunner().invoke(cli, ["config", "validate", str(site)])
    assert result.exit_code == 4
    assert f"{site}:2: power.rail_min_volts: must be a finite number" in result.output
    assert f"{site}:3: power.watchdog_interval: must be a finite number" in result.output
