"""The appliancectl tests' rig: fixture daemons on real sockets and a configuration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from conftest import minimal_config
from console_fixtures import FixtureDaemons, appliancectl, running_fixtures

from appliance.store import open_database


@dataclass
class Rig:
    root: Path
    config: Path
    daemons: FixtureDaemons

    def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            appliancectl(), ["--config", str(self.config), *args], input=input, env=env,
            catch_exceptions=False,
        )

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def audit_rows(self) -> list[dict[str, Any]]:
        db = open_database(str(self.root / "state" / "appliance.db"))
        return list(db.query("SELECT * FROM audit_log ORDER BY id"))


@contextmanager
def make_rig(tmp_path: Path, **options: Any) -> Iterator[Rig]:
    config = minimal_config(tmp_path)
    with running_fixtures(str(tmp_path / "run"), **options) as daemons:
        yield Rig(tmp_path, config, daemons)


def rig_without_daemons(tmp_path: Path) -> Rig:
    return Rig(tmp_path, minimal_config(tmp_path), FixtureDaemons(str(tmp_path / "unused")))
