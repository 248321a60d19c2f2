-- Level 3: power events (PWR-1, PWR-2, PWR-3). appliance-powerd appends one row
-- for every transition of the power policy (mains, on battery, low battery,
-- shutdown...) and of the lifeline (engaged, released). Append-only: the
-- history shown by `appliancectl power history` is read from here.

CREATE TABLE power_events (
    id        INTEGER PRIMARY KEY,
    at        REAL    NOT NULL,              -- event time, Unix epoch seconds
    state     TEXT    NOT NULL,              -- state entered: 'mains', 'on_battery', 'low_battery',
                                             -- 'shutdown_pending', 'shutdown', 'lifeline_engaged', ...
    previous  TEXT    NOT NULL DEFAULT '',   -- state left ('' for the first event after start)
    reason    TEXT    NOT NULL DEFAULT '',   -- why: 'ups-on-battery', 'input-rail-lost', 'fsd', ...
    detail    TEXT    NOT NULL DEFAULT '{}'  -- JSON object: charge, runtime, rail voltage, pairs...
);
CREATE INDEX power_events_at ON power_events (at);
CREATE INDEX power_events_state_at ON power_events (state, at);
