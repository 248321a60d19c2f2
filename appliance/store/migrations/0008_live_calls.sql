-- Level 8: the journal of calls in progress (docs/database.md ``live_calls``).
-- One row per call from its first signal to its CDR; a row left at start-up is
-- a call the daemon lost in a crash, closed by appliance/calls/recovery.py.

CREATE TABLE live_calls (
    call_id    TEXT    PRIMARY KEY,
    direction  TEXT    NOT NULL,
    trunk      TEXT    NOT NULL DEFAULT '',
    channel    TEXT    NOT NULL DEFAULT '',
    legs       TEXT    NOT NULL DEFAULT '',   -- channel names of every leg, ',' separated
    caller     TEXT    NOT NULL DEFAULT '',
    callee     TEXT    NOT NULL DEFAULT '',
    queue      TEXT    NOT NULL DEFAULT '',
    agent      TEXT    NOT NULL DEFAULT '',
    start      REAL    NOT NULL,
    answer     REAL,
    updated    REAL    NOT NULL              -- last time the daemon journaled this call alive
);
