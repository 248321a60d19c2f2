"""State and history: one SQLite database in WAL mode (DESIGN "Data")."""

from appliance.store.db import SCHEMA_APPLICATION_ID, StoreError, open_database
from appliance.store.migrations import latest_level, migrate, schema_level

__all__ = [
    "SCHEMA_APPLICATION_ID",
    "StoreError",
    "latest_level",
    "migrate",
    "open_database",
    "schema_level",
]
