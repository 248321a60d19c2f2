"""Accounts in the ``users`` table (migration 0006), passwords hashed with scrypt.

Passwords are stored as ``scrypt$N$r$p$<salt>$<key>`` (RFC 7914 parameters,
hashlib.scrypt); verification is constant-time. There is no default account:
the first admin is created by ``appliancectl users add NAME --role admin``.
Accounts are disabled, never deleted, so the audit log keeps naming them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass, field

import sqlite_utils

from appliance.auth.roles import PERMISSIONS, ROLES, permissions_of

# RFC 7914 §2 cost parameters: N=2^14, r=8, p=1 (16 MiB, tens of milliseconds)
SCRYPT_N = 1 << 14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
MIN_PASSWORD = 10
# SEC-2 lockout: this many wrong passwords in a row lock the account for LOCKOUT_S seconds
# (OWASP ASVS 4.0 §2.2.1 "anti-automation"); an admin may unlock it sooner (audited)
LOCKOUT_AFTER = 5
LOCKOUT_S = 15 * 60.0
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")


class AuthError(Exception):
    """A refused account operation or login, with a message an operator can act on."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float
    disabled_at: float | None = None
    last_login: float | None = None
    locked_until: float | None = None
    grants: tuple[str, ...] = ()
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "role": self.role, "active": self.active,
            "created_at": self.created_at, "disabled_at": self.disabled_at,
            "last_login": self.last_login, "locked_until": self.locked_until,
            "grants": list(self.grants),
        }


def hash_password(password: str, *, n: int = SCRYPT_N, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    key = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES,
        maxmem=64 * 1024 * 1024,
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(key)
        actual = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def check_password_quality(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password too short: at least {MIN_PASSWORD} characters")
    if password.strip() != password:
        raise AuthError("password must not start or end with white space")


class UserStore:
    """Reads and changes accounts; the caller writes the audit row."""

    def __init__(self, db: sqlite_utils.Database, *, scrypt_n: int = SCRYPT_N) -> None:
        self.db = db
        self.scrypt_n = scrypt_n

    def _row(self, name: str) -> dict[str, object]:
        rows = list(self.db.query("SELECT * FROM users WHERE name = ?", [name]))
        if not rows:
            known = [r["name"] for r in self.db.query("SELECT name FROM users ORDER BY name")]
            hint = f"; known: {', '.join(known)}" if known else "; no accounts exist yet"
            raise AuthError(f"no user {name!r}{hint}")
        return rows[0]

    def _user(self, row: dict[str, object]) -> User:
        grants = tuple(
            r["permission"] for r in self.db.query(
                "SELECT permission FROM user_grants WHERE user_id = ? ORDER BY permission",
                [row["id"]],
            )
        )
        role = str(row["role"])
        return User(
            name=str(row["name"]), role=role, created_at=float(row["created_at"]),  # type: ignore[arg-type]
            disabled_at=row["disabled_at"], last_login=row["last_login"],  # type: ignore[arg-type]
            locked_until=row.get("locked_until"),  # type: ignore[arg-type]
            grants=grants, permissions=permissions_of(role, grants),
        )

    def configured(self) -> bool:
        """True once at least one active account exists (the console then asks for a login)."""
        row = self.db.execute("SELECT count(*) FROM users WHERE disabled_at IS NULL").fetchone()
        return bool(row[0])

    def list(self) -> list[User]:
        return [self._user(r) for r in self.db.query("SELECT * FROM users ORDER BY name")]

    def get(self, name: str) -> User:
        return self._user(self._row(name))

    def add(self, name: str, role: str, password: str) -> User:
        if not NAME_PATTERN.match(name):
            raise AuthError(
                f"bad user name {name!r}: lower-case letters, digits, '.', '_', '-', "
                "starting with a letter, at most 32 characters"
            )
        if role not in ROLES:
            raise AuthError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        check_password_quality(password)
        if list(self.db.query("SELECT id FROM users WHERE name = ?", [name])):
            raise AuthError(f"user {name!r} already exists")
        self.db.table("users").insert({
            "name": name, "role": role, "password_hash": hash_password(password, n=self.scrypt_n),
            "created_at": time.time(), "failed_logins": 0,
        })
        return self.get(name)

    def set_password(self, name: str, password: str) -> User:
        row = self._row(name)
        check_password_quality(password)
        self.db.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0 WHERE id = ?",
            [hash_password(password, n=self.scrypt_n), row["id"]],
        )
        return self.get(name)

    def set_role(self, name: str, role: str) -> User:
        row = self._row(name)
        if role not in ROLES:
            raise AuthError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if row["role"] == "admin" and role != "admin":
            self._keep_one_admin(name)
        self.db.execute("UPDATE users SET role = ? WHERE id = ?", [role, row["id"]])
        return self.get(name)

    def disable(self, name: str) -> User:
        """Revoke access at once (SEC-2: staff who leave)."""
        row = self._row(name)
        if row["disabled_at"] is not None:
            raise AuthError(f"user {name!r} is already disabled")
        if row["role"] == "admin":
            self._keep_one_admin(name)
        self.db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", [time.time(), row["id"]])
        return self.get(name)

    def enable(self, name: str) -> User:
        row = self._row(name)
        if row["disabled_at"] is None:
            raise AuthError(f"user {name!r} is already active")
        self.db.execute(
            "UPDATE users SET disabled_at = NULL, failed_logins = 0 WHERE id = ?", [row["id"]]
        )
        return self.get(name)

    def grant(self, name: str, permission: str) -> User:
        row = self._row(name)
        if permission not in PERMISSIONS:
            raise AuthError(
                f"unknown permission {permission!r}; known: {', '.join(sorted(PERMISSIONS))}"
            )
        self.db.execute(
            "INSERT OR IGNORE INTO user_grants (user_id, permission, granted_at) VALUES (?, ?, ?)",
            [row["id"], permission, time.time()],
        )
        return self.get(name)

    def revoke(self, name: str, permission: str) -> User:
        row = self._row(name)
        cursor = self.db.execute(
            "DELETE FROM user_grants WHERE user_id = ? AND permission = ?", [row["id"], permission]
        )
        if cursor.rowcount == 0:
            raise AuthError(f"user {name!r} has no grant {permission!r}")
        return self.get(name)

    def _keep_one_admin(self, name: str) -> None:
        others = self.db.execute(
            "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND name != ?",
            [name],
        ).fetchone()[0]
        if not others:
            raise AuthError(f"{name!r} is the last active admin; add another admin first")

    def unlock(self, name: str) -> User:
        """End a lockout (and the count of failed logins) before its time."""
        row = self._row(name)
        if not row.get("locked_until") and not row.get("failed_logins"):
            raise AuthError(f"user {name!r} is not locked")
        self.db.execute("UPDATE users SET locked_until = NULL, failed_logins = 0 WHERE id = ?",
                        [row["id"]])
        return self.get(name)

    def authenticate(self, name: str, password: str, *, now: float | None = None) -> User:
        """The user if ``password`` is right and the account active and not locked; AuthError
        otherwise. The :data:`LOCKOUT_AFTER`-th wrong password in a row locks the account for
        :data:`LOCKOUT_S` seconds; while locked even the right password is refused.

        The message never says which of name or password was wrong.
        """
        at = time.time() if now is None else now
        rows = list(self.db.query("SELECT * FROM users WHERE name = ?", [name]))
        if not rows:
            hash_password(password, n=self.scrypt_n)  # same cost whether or not the name exists
            raise AuthError("login refused: wrong user name or password")
        row = rows[0]
        locked_until = row.get("locked_until")
        if isinstance(locked_until, float | int) and locked_until > at:
            hash_password(password, n=self.scrypt_n)
            minutes = max(1, round((locked_until - at) / 60))
            raise AuthError(f"login refused: account {name!r} is locked for {minutes} more "
                            f"minute(s) after {LOCKOUT_AFTER} wrong passwords; an admin can "
                            f"unlock it: appliancectl users unlock {name}")
        if not verify_password(password, str(row["password_hash"])):
            failed = int(row.get("failed_logins") or 0) + 1
            lock = at + LOCKOUT_S if failed >= LOCKOUT_AFTER else None
            self.db.execute(
                "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                [0 if lock else failed, lock, row["id"]],
            )
            if lock:
                raise AuthError(f"login refused: wrong user name or password; account {name!r} "
                                f"is now locked for {LOCKOUT_S / 60:g} minutes")
            raise AuthError("login refused: wrong user name or password")
        if row["disabled_at"] is not None:
            raise AuthError(f"login refused: account {name!r} is disabled")
        self.db.execute(
            "UPDATE users SET last_login = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
            [at, row["id"]],
        )
        return self.get(name)
