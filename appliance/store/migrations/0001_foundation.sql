-- Level 1: the audit log and daemon lifecycle events.
-- Times are REAL Unix epoch seconds (UTC). Tables are append-only.

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      REAL    NOT NULL,          -- when the change was made
    actor   TEXT    NOT NULL,          -- user name, or 'system'
    origin  TEXT    NOT NULL,          -- 'cli', 'console', 'api', 'daemon'
    action  TEXT    NOT NULL,          -- e.g. 'config.apply', 'db.restore', 'agent.pause'
    target  TEXT    NOT NULL DEFAULT '',
    outcome TEXT    NOT NULL DEFAULT 'ok',   -- 'ok' or 'refused: <reason>'
    detail  TEXT    NOT NULL DEFAULT '{}'    -- JSON object
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE service_events (
    id      INTEGER PRIMARY KEY,
    at      REAL    NOT NULL,
    daemon  TEXT    NOT NULL,          -- 'telephonyd', 'powerd'
    event   TEXT    NOT NULL,          -- 'start', 'ready', 'reload', 'reload-refused', 'stop'
    detail  TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX service_events_at ON service_events (at);
