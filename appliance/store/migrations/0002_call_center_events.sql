-- Level 2: the call-center event log (in the spirit of Asterisk's queue_log),
-- call detail records and IVR node visits. These append-only tables are the
-- source of truth for every statistic (docs/database.md documents each field).

CREATE TABLE queue_log (
    id       INTEGER PRIMARY KEY,
    at       REAL    NOT NULL,          -- event time, Unix epoch seconds
    call_id  TEXT    NOT NULL DEFAULT '',   -- '' for agent-only events (login, pause)
    queue    TEXT    NOT NULL DEFAULT '',
    agent    TEXT    NOT NULL DEFAULT '',
    event    TEXT    NOT NULL,          -- ENTERQUEUE, CONNECT, COMPLETEAGENT, ... (docs/database.md)
    data1    TEXT    NOT NULL DEFAULT '',
    data2    TEXT    NOT NULL DEFAULT '',
    data3    TEXT    NOT NULL DEFAULT '',
    data4    TEXT    NOT NULL DEFAULT '',
    data5    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX queue_log_queue_at ON queue_log (queue, at);
CREATE INDEX queue_log_agent_at ON queue_log (agent, at);
CREATE INDEX queue_log_event_at ON queue_log (event, at);
CREATE INDEX queue_log_call ON queue_log (call_id);

CREATE TABLE cdr (
    id            INTEGER PRIMARY KEY,
    call_id       TEXT    NOT NULL UNIQUE,
    direction     TEXT    NOT NULL,        -- 'inbound', 'outbound', 'internal'
    trunk         TEXT    NOT NULL DEFAULT '',   -- span or port name the call used
    channel       TEXT    NOT NULL DEFAULT '',   -- e.g. 'span1/5', 'fxo2', 'sip/alice-0001'
    caller        TEXT    NOT NULL DEFAULT '',
    caller_name   TEXT    NOT NULL DEFAULT '',
    presentation  TEXT    NOT NULL DEFAULT 'allowed',  -- 'allowed' or 'restricted' (CLIR)
    callee        TEXT    NOT NULL DEFAULT '',   -- dialled number (DNIS/DID)
    start         REAL    NOT NULL,        -- first signal (SETUP, ring, off-hook)
    answer        REAL,                    -- appliance or far end answered; NULL if never
    end           REAL    NOT NULL,        -- release
    duration      REAL    NOT NULL,        -- end - start
    billsec       REAL    NOT NULL,        -- end - answer, 0 if unanswered
    disposition   TEXT    NOT NULL,        -- ANSWERED, NO ANSWER, BUSY, FAILED, ABANDONED, REJECTED
    cause         INTEGER NOT NULL DEFAULT 16,  -- ITU-T Q.850 cause value
    queue         TEXT    NOT NULL DEFAULT '',
    agent         TEXT    NOT NULL DEFAULT '',
    ivr_path      TEXT    NOT NULL DEFAULT '',  -- node names visited, '>'-separated
    satisfaction  INTEGER,                 -- survey answer (1 satisfied, 0 not), NULL if not surveyed
    resolved      INTEGER                  -- first-call resolution marked by the agent (1/0), NULL if unmarked
);
CREATE INDEX cdr_start ON cdr (start);
CREATE INDEX cdr_queue_start ON cdr (queue, start);
CREATE INDEX cdr_agent_start ON cdr (agent, start);
CREATE INDEX cdr_trunk_start ON cdr (trunk, start);
CREATE INDEX cdr_caller ON cdr (caller);

CREATE TABLE ivr_visits (
    id       INTEGER PRIMARY KEY,
    at       REAL    NOT NULL,
    call_id  TEXT    NOT NULL,
    flow     TEXT    NOT NULL,
    node     TEXT    NOT NULL,
    result   TEXT    NOT NULL DEFAULT ''   -- digit pressed, branch taken, 'timeout', 'invalid'
);
CREATE INDEX ivr_visits_node_at ON ivr_visits (flow, node, at);
CREATE INDEX ivr_visits_call ON ivr_visits (call_id);
