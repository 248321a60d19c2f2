"""``[sip]`` validation (issue 16): extension numbers and digest passwords."""

from __future__ import annotations

from appliance.config.sections.sip import SipSection
from appliance.config.validate import Problem, build, dotted


def problems_of(data: dict[str, object]) -> list[Problem]:
    problems: list[Problem] = []
    build(SipSection, data, ("sip",), problems)
    return problems


def test_defaults_listen_on_loopback_only() -> None:
    section = build(SipSection, {}, ("sip",), [])
    assert section.listen_host == "127.0.0.1"
    assert section.max_calls == 32


def test_extension_numbers_must_be_digits() -> None:
    found = problems_of({"extensions": {"20a": {"password": "long-enough"}}})
    assert [dotted(p.path) for p in found] == ["sip.extensions"]
    assert "20a" in found[0].message


def test_a_bad_password_is_refused_without_echoing_it() -> None:
    found = problems_of({"extensions": {"201": {"password": 'sh"rt$'}}})
    assert [dotted(p.path) for p in found] == ["sip.extensions.201.password"]
    assert 'sh"rt$' not in found[0].message


def test_max_calls_has_a_ceiling_for_a_pjproject_built_with_more() -> None:
    assert problems_of({"max_calls": 512}) == []  # a build with PJSUA_MAX_CALLS raised
    assert [dotted(p.path) for p in problems_of({"max_calls": 513})] == ["sip.max_calls"]
    assert [dotted(p.path) for p in problems_of({"max_calls": 0})] == ["sip.max_calls"]
