"""Kamailio's own SQLite database: the extensions' digest credentials and usrloc (issue 16).

Two things must outlive a change of configuration without Kamailio restarting or
forgetting: who may log in, and who is registered.

* **Credentials** live in the ``creds`` htable, loaded from this database's
  ``htable`` table: each SIP extension's HA1 = MD5(user ":" realm ":" password)
  (RFC 2617 §3.2.2.2, as RFC 3261 §22.4 uses it), never the password itself.
  :func:`write_credentials` replaces them from ``[sip] extensions`` and
  :func:`reload_credentials` has Kamailio reload the table (``htable.reload``):
  an extension added, removed or given a new password takes effect at once and no
  phone's registration is touched.
* **Registrations** (usrloc) are written through to the ``location`` table
  (``db_mode`` 1), so a restart of the edge (a new trunk, the watchdog) finds the
  phones still registered.

The schema is Kamailio's own (``/usr/share/kamailio/db_sqlite``, from Debian's
``kamailio``), created on first use. The file is 0640: HA1s are secrets for their
realm. All of this is blocking file work: callers run it off the event loop.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from appliance.config.sections.sip import SipSection
from appliance.signalling.sip.kamailio import CREDENTIALS_TABLE
from appliance.signalling.sip.registrations import RegistrationsError, call

SCHEMA_DIR = Path("/usr/share/kamailio/db_sqlite")
SCHEMAS = ("standard", "htable", "usrloc")  # the version table first
DB_NAME = "kamailio.db"


class EdgeDatabaseError(Exception):
    """Kamailio's database cannot be prepared or written."""


def db_path(state_dir: str) -> Path:
    return Path(state_dir) / "sip" / DB_NAME


def ha1(user: str, realm: str, password: str) -> str:
    """RFC 2617 §3.2.2.2: H(A1) = MD5(username ":" realm ":" password), in hex."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def prepare(path: Path) -> None:
    """Create the database with Kamailio's schema if it has none yet (0640, folder 0750)."""
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    try:
        with sqlite3.connect(path) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'version'").fetchone():
                return
            for name in SCHEMAS:
                db.executescript((SCHEMA_DIR / f"{name}-create.sql").read_text("utf-8"))
    except (OSError, sqlite3.Error) as exc:
        raise EdgeDatabaseError(f"Kamailio's database {path}: {exc}") from exc
    finally:
        if path.exists():
            os.chmod(path, 0o640)


def write_credentials(path: Path, section: SipSection) -> int:
    """Replace the ``creds`` rows with the HA1 of every ``[sip]`` extension, in one
    transaction (Kamailio never reads half a change); how many were written."""
    prepare(path)
    rows = [(number, ha1(number, section.domain, ext.password))
            for number, ext in sorted(section.extensions.items())]
    try:
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM htable")
            db.executemany("INSERT INTO htable (key_name, key_type, value_type, key_value) "
                           "VALUES (?, 0, 0, ?)", rows)  # a name/value pair, a string
    except sqlite3.Error as exc:
        raise EdgeDatabaseError(f"Kamailio's credentials in {path}: {exc}") from exc
    return len(rows)


def reload_credentials(rpc_path: str) -> None:
    """Have the running Kamailio reload the ``creds`` htable from the database."""
    reply = call(rpc_path, "htable.reload", [CREDENTIALS_TABLE])
    if "error" in reply:
        raise RegistrationsError(f"Kamailio refused to reload the credentials: "
                                 f"{reply['error'].get('message')}")
