-- Level 5: the recordings index (REC-1, REC-2), QA samples and scores (REC-3).
-- Unlike the event tables, `recordings` is an index of files: a row is written
-- when a recording starts (status 'recording'), completed when it stops, and
-- deleted together with its file (retention, `appliancectl rec delete`, SEC-3).
-- docs/database.md "Level 5" documents every column.

CREATE TABLE recordings (
    id         INTEGER PRIMARY KEY,
    call_id    TEXT    NOT NULL,
    segment    INTEGER NOT NULL DEFAULT 1,      -- 1, 2, ... for on-demand start/stop in one call
    agent      TEXT    NOT NULL DEFAULT '',
    extension  TEXT    NOT NULL DEFAULT '',
    queue      TEXT    NOT NULL DEFAULT '',
    caller     TEXT    NOT NULL DEFAULT '',
    dnis       TEXT    NOT NULL DEFAULT '',
    start      REAL    NOT NULL,                -- first frame, Unix epoch seconds
    duration   REAL    NOT NULL DEFAULT 0,      -- seconds of audio in the file
    size       INTEGER NOT NULL DEFAULT 0,      -- bytes of the whole file
    checksum   TEXT    NOT NULL DEFAULT '',     -- SHA-256 of the whole file, hex; '' while recording
    path       TEXT    NOT NULL UNIQUE,         -- relative to the recordings folder, YYYY/MM/DD/...
    format     TEXT    NOT NULL,                -- 'pcm16' or 'alaw'
    channels   INTEGER NOT NULL,                -- 2: caller left, agent right; 1: both mixed
    policy     TEXT    NOT NULL DEFAULT '',     -- why it was recorded: all, queue, agent, number, demand
    status     TEXT    NOT NULL DEFAULT 'recording',  -- recording, complete, recovered, disk-full, lost
    ended      REAL                             -- when the file was closed; NULL while recording
);
CREATE INDEX recordings_start ON recordings (start);
CREATE INDEX recordings_call ON recordings (call_id);
CREATE INDEX recordings_agent_start ON recordings (agent, start);
CREATE INDEX recordings_extension_start ON recordings (extension, start);
CREATE INDEX recordings_queue_start ON recordings (queue, start);
CREATE INDEX recordings_caller ON recordings (caller);

CREATE TABLE qa_samples (
    id            INTEGER PRIMARY KEY,
    recording_id  INTEGER NOT NULL UNIQUE REFERENCES recordings (id) ON DELETE CASCADE,
    agent         TEXT    NOT NULL,
    period        TEXT    NOT NULL,             -- the sampling period, e.g. '2026-11-23' or '2026-11'
    sampled_at    REAL    NOT NULL
);
CREATE INDEX qa_samples_agent ON qa_samples (agent, period);

CREATE TABLE qa_evaluations (
    id            INTEGER PRIMARY KEY,
    recording_id  INTEGER REFERENCES recordings (id) ON DELETE SET NULL,
    call_id       TEXT    NOT NULL,
    agent         TEXT    NOT NULL,
    scorecard     TEXT    NOT NULL,             -- [recording.qa.scorecards] name
    scorer        TEXT    NOT NULL,
    scored_at     REAL    NOT NULL,
    score         REAL    NOT NULL,             -- weighted percentage 0..100
    comment       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX qa_evaluations_agent ON qa_evaluations (agent, scored_at);

CREATE TABLE qa_answers (
    evaluation_id INTEGER NOT NULL REFERENCES qa_evaluations (id) ON DELETE CASCADE,
    item          TEXT    NOT NULL,
    points        REAL    NOT NULL,
    max_points    REAL    NOT NULL,
    weight        REAL    NOT NULL,
    PRIMARY KEY (evaluation_id, item)
);

-- Statistics (appliance.stats, docs/statistics.md): a covering index so queue reports read
-- only the index, in queue and time order, never the table (bench/stats.py).
CREATE INDEX queue_log_stats ON queue_log (queue, at, event, agent, data1, data2, data3, data4);
