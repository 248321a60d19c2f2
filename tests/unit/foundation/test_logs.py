"""Structured log fields reach stderr as key=value and the journal as FIELD=value."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from appliance.runtime import logs


def test_stderr_lines_carry_structured_fields(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup_logging("test", "info", "stderr")
    logging.getLogger("appliance.pri").warning(
        "D-channel down", extra={"span": "span1", "cause": 38}
    )
    assert capsys.readouterr().err == "WARNING appliance.pri: D-channel down cause=38 span=span1\n"


def test_journal_handler_sends_fields_priority_and_identifier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    handler = logs.JournalFieldsHandler("appliance-telephonyd")
    monkeypatch.setattr(handler, "_send", lambda message, **fields: sent.append((message, fields)))
    logger = logging.getLogger("appliance.test.journal")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.error("span alarm", extra={"span": "span2", "alarms": "red"})
        logger.log(logs.LEVELS["notice"], "lifeline engaged", extra={"reason": "mains"})
    finally:
        logger.removeHandler(handler)
    (message, fields), (_, notice) = sent
    assert message == "span alarm"
    assert fields["PRIORITY"] == "3"
    assert fields["SYSLOG_IDENTIFIER"] == "appliance-telephonyd"
    assert fields["SPAN"] == "span2" and fields["ALARMS"] == "red"
    assert fields["LOGGER"] == "appliance.test.journal"
    assert notice["PRIORITY"] == "5" and notice["REASON"] == "mains"


def test_journal_is_chosen_under_systemd_only() -> None:
    assert logs.under_systemd({"INVOCATION_ID": "abc"})
    assert logs.under_systemd({"JOURNAL_STREAM": "8:123"})
    assert not logs.under_systemd({})
