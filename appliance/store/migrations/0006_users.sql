-- Level 6: operator accounts and roles (ADM-2, SEC-1, SEC-2).
-- No account exists after installation (SEC-1: no default password); the
-- first admin is created with `appliancectl users add NAME --role admin`.
-- Accounts are never deleted, only disabled (revocation keeps the audit trail
-- readable); every change to them is written to audit_log by the caller.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'supervisor', 'engineer', 'viewer')),
    password_hash TEXT    NOT NULL,          -- 'scrypt$N$r$p$<salt hex>$<key hex>'
    created_at    REAL    NOT NULL,
    disabled_at   REAL,                      -- NULL while the account is active
    last_login    REAL,
    failed_logins INTEGER NOT NULL DEFAULT 0 -- consecutive failures since the last success
);

-- Permissions granted to one user on top of the role's layers
-- (e.g. 'customer.read' for an engineer who must see caller numbers).
CREATE TABLE user_grants (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission  TEXT    NOT NULL,
    granted_at  REAL    NOT NULL,
    PRIMARY KEY (user_id, permission)
);
