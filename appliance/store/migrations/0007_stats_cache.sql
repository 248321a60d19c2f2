-- Level 7: a derived, rebuildable cache of queue statistics over closed hours
-- (docs/statistics.md "Hourly cache"). Nothing here is a source of truth: every
-- row is computed FROM queue_log by appliance.stats.cache.refresh_queue_cache()
-- and both tables may be emptied at any time (the reports then read queue_log).

-- Partial sums of the queue figures of the events that happened in one closed
-- hour (event_hour) for calls that entered the queue in enter_hour, per queue
-- and per pair of thresholds (service level, short abandon) they were counted with.
CREATE TABLE stats_queue_hour (
    sl_seconds        REAL    NOT NULL,
    short_abandon     REAL    NOT NULL,
    queue             TEXT    NOT NULL,
    enter_hour        INTEGER NOT NULL,   -- epoch seconds of the entry hour (UTC)
    label_hour        INTEGER NOT NULL,   -- the hour SQLite's date functions label that entry
                                          -- with (they round to the millisecond: an entry
                                          -- < 0.5 ms before an hour is labelled the next hour)
    event_hour        INTEGER NOT NULL,   -- epoch seconds of the hour the events happened
    offered           INTEGER NOT NULL,
    answered          INTEGER NOT NULL,
    answered_in_sl    INTEGER NOT NULL,
    abandoned         INTEGER NOT NULL,
    abandoned_counted INTEGER NOT NULL,
    timeouts          INTEGER NOT NULL,
    exit_key          INTEGER NOT NULL,
    exit_empty        INTEGER NOT NULL,
    overflowed        INTEGER NOT NULL,
    rona              INTEGER NOT NULL,
    completed         INTEGER NOT NULL,
    wait_answered_s   REAL    NOT NULL,
    ring_answered_s   REAL    NOT NULL,
    wait_abandoned_s  REAL    NOT NULL,
    talk_s            REAL    NOT NULL,
    longest_wait      REAL    NOT NULL,
    PRIMARY KEY (sl_seconds, short_abandon, queue, enter_hour, label_hour, event_hour)
) WITHOUT ROWID;

-- What the cache holds for one pair of thresholds: every queue_log event with
-- at < closed_until, as the log stood when its id was at most max_id.
CREATE TABLE stats_queue_cache (
    sl_seconds    REAL    NOT NULL,
    short_abandon REAL    NOT NULL,
    closed_until  REAL    NOT NULL,
    max_id        INTEGER NOT NULL,
    PRIMARY KEY (sl_seconds, short_abandon)
);
