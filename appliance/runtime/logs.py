"""Logging to the journal with structured fields, or to stderr outside systemd.

Call sites pass structured fields through ``extra``::

    log.warning("D-channel down", extra={"span": "span1", "cause": 38})

Under systemd they become journal fields (``SPAN=span1``, ``CAUSE=38``) next to
``MESSAGE``, ``PRIORITY`` and ``SYSLOG_IDENTIFIER``; on stderr they are
appended as ``span=span1 cause=38``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Literal

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "taskName"}

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO + 5,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
logging.addLevelName(LEVELS["notice"], "NOTICE")


def structured_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields a call site attached to ``record``."""
    return {
        k: v
        for k, v in record.__dict__.items()
        if k not in _STANDARD_ATTRS and not k.startswith("_")
    }


class FieldsFormatter(logging.Formatter):
    """``LEVEL logger: message key=value ...`` for stderr."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        fields = structured_fields(record)
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JournalFieldsHandler(logging.Handler):
    """Sends each record to journald with its structured fields (sd_journal_send)."""

    def __init__(self, identifier: str) -> None:
        super().__init__()
        import systemd.journal  # only needed under systemd

        self._send = systemd.journal.send
        self._identifier = identifier

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {k.upper(): str(v) for k, v in structured_fields(record).items()}
            if record.exc_info:
                fields["EXCEPTION"] = logging.Formatter().formatException(record.exc_info)
            self._send(
                record.getMessage(),
                PRIORITY=str(_journal_priority(record.levelno)),
                SYSLOG_IDENTIFIER=self._identifier,
                LOGGER=record.name,
                CODE_FILE=record.pathname,
                CODE_LINE=str(record.lineno),
                CODE_FUNC=record.funcName,
                **fields,
            )
        except Exception:  # logging must never take the daemon down
            self.handleError(record)


def _journal_priority(levelno: int) -> int:
    # syslog(3) priorities as journald expects them
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= LEVELS["notice"]:
        return 5
    if levelno >= logging.INFO:
        return 6
    return 7


def under_systemd(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("JOURNAL_STREAM") or env.get("INVOCATION_ID"))


def setup_logging(
    identifier: str,
    level: str = "info",
    target: Literal["auto", "journal", "stderr"] = "auto",
) -> logging.Handler:
    """Route the ``appliance`` loggers (and ``drivers``, ``hil``) to the journal or stderr."""
    use_journal = target == "journal" or (target == "auto" and under_systemd())
    handler: logging.Handler
    if use_journal:
        handler = JournalFieldsHandler(identifier)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(FieldsFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS.get(level, logging.INFO))
    return handler
