"""Accounts: roles in layers, scrypt hashes, login, revocation (ADM-2, SEC-1, SEC-2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from appliance.auth import AuthError, UserStore, permissions_of
from appliance.auth.roles import CALL_CENTRE_LAYER, MAINTENANCE_LAYER, VIEWER_LAYER
from appliance.auth.users import hash_password, verify_password
from appliance.store import open_database
from appliance.store.migrations import available

PASSWORD = "a long enough secret"


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(open_database(str(tmp_path / "a.db")), scrypt_n=1 << 10)


def test_layers() -> None:
    assert permissions_of("viewer") == VIEWER_LAYER
    engineer = permissions_of("engineer")
    assert engineer >= MAINTENANCE_LAYER and "customer.read" not in engineer
    supervisor = permissions_of("supervisor")
    assert supervisor >= CALL_CENTRE_LAYER and "spans.maintain" not in supervisor
    assert permissions_of("viewer") < permissions_of("admin")
    assert "customer.read" in permissions_of("engineer", ["customer.read"])
    with pytest.raises(ValueError, match="unknown role"):
        permissions_of("root")
    with pytest.raises(ValueError, match="unknown permission"):
        permissions_of("viewer", ["everything"])


def test_scrypt_hash_round_trip_and_salting() -> None:
    first = hash_password(PASSWORD, n=1 << 10)
    assert first.startswith("scrypt$1024$8$1$") and PASSWORD not in first
    assert first != hash_password(PASSWORD, n=1 << 10)
    assert verify_password(PASSWORD, first)
    assert not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "md5$abc")
    assert not verify_password(PASSWORD, "scrypt$x$8$1$zz$zz")


def test_no_account_until_the_first_admin_is_added(store: UserStore) -> None:
    assert not store.configured()
    store.add("ada", "admin", PASSWORD)
    assert store.configured()


def test_login_succeeds_fails_and_is_revoked(store: UserStore) -> None:
    store.add("ada", "admin", PASSWORD)
    store.add("eve", "engineer", PASSWORD)
    user = store.authenticate("eve", PASSWORD)
    assert user.can("spans.maintain") and not user.can("customer.read")
    assert user.last_login is not None
    with pytest.raises(AuthError, match="wrong user name or password"):
        store.authenticate("eve", "wrong password!")
    with pytest.raises(AuthError, match="wrong user name or password"):
        store.authenticate("nobody", PASSWORD)
    row = next(store.db.query("SELECT failed_logins FROM users WHERE name = 'eve'"))
    assert row["failed_logins"] == 1
    store.disable("eve")
    with pytest.raises(AuthError, match="disabled"):
        store.authenticate("eve", PASSWORD)
    store.enable("eve")
    assert store.authenticate("eve", PASSWORD).name == "eve"


def test_grants_and_the_last_admin(store: UserStore) -> None:
    store.add("ada", "admin", PASSWORD)
    store.add("eve", "engineer", PASSWORD)
    assert store.grant("eve", "customer.read").can("customer.read")
    assert not store.revoke("eve", "customer.read").can("customer.read")
    with pytest.raises(AuthError, match="has no grant"):
        store.revoke("eve", "customer.read")
    with pytest.raises(AuthError, match="unknown permission"):
        store.grant("eve", "root")
    with pytest.raises(AuthError, match="last active admin"):
        store.set_role("ada", "viewer")
    store.set_role("eve", "admin")
    assert store.disable("ada").active is False
    with pytest.raises(AuthError, match="no user 'zed'; known: ada, eve"):
        store.get("zed")


def test_migration_0006_alone_on_a_level_5_database(tmp_path: Path) -> None:
    """The SQL applies on top of 0001-0005 and enforces roles and unique names."""
    conn = sqlite3.connect(tmp_path / "m.db")
    for migration in available():
        conn.executescript(migration.sql)
    db = sqlite_utils.Database(conn)
    db.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES ('a', 'admin', 'x', 0)")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO users (name, role, password_hash, created_at) "
                   "VALUES ('b', 'root', 'x', 0)")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO users (name, role, password_hash, created_at) "
                   "VALUES ('a', 'viewer', 'x', 0)")


def test_five_wrong_passwords_lock_the_account_until_it_runs_out_or_is_unlocked(
        store: UserStore) -> None:
    from appliance.auth.users import LOCKOUT_AFTER, LOCKOUT_S

    store.add("bob", "viewer", PASSWORD)
    t0 = 1_800_000_000.0
    for attempt in range(LOCKOUT_AFTER - 1):
        with pytest.raises(AuthError, match=r"wrong user name or password$"):
            store.authenticate("bob", f"guess number {attempt}", now=t0 + attempt)
    with pytest.raises(AuthError, match="is now locked for 15 minutes"):
        store.authenticate("bob", "the fifth guess", now=t0 + 5)
    assert store.get("bob").locked_until == t0 + 5 + LOCKOUT_S
    with pytest.raises(AuthError, match=r"locked for 15 more minute\(s\).*users unlock bob"):
        store.authenticate("bob", PASSWORD, now=t0 + 6)  # even the right password, while locked
    with pytest.raises(AuthError, match="locked for 1 more minute"):
        store.authenticate("bob", PASSWORD, now=t0 + 5 + LOCKOUT_S - 30)
    assert store.authenticate("bob", PASSWORD, now=t0 + 5 + LOCKOUT_S + 1).name == "bob"
    assert store.get("bob").locked_until is None

    for attempt in range(LOCKOUT_AFTER):
        with pytest.raises(AuthError):
            store.authenticate("bob", f"again {attempt}", now=t0 + 10_000 + attempt)
    assert store.unlock("bob").locked_until is None  # an admin unlocks it at once
    assert store.authenticate("bob", PASSWORD, now=t0 + 10_010).name == "bob"
    with pytest.raises(AuthError, match="is not locked"):
        store.unlock("bob")


def test_a_right_password_between_wrong_ones_starts_the_count_again(store: UserStore) -> None:
    from appliance.auth.users import LOCKOUT_AFTER

    store.add("ann", "viewer", PASSWORD)
    for round_ in range(3):
        for attempt in range(LOCKOUT_AFTER - 1):
            with pytest.raises(AuthError, match=r"wrong user name or password$"):
                store.authenticate("ann", f"wrong {round_} {attempt}", now=100.0)
        store.authenticate("ann", PASSWORD, now=100.0)
    assert store.get("ann").locked_until is None
