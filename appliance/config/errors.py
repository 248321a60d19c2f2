"""Configuration errors that name the file, the line and the key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigError:
    """One problem in a configuration file, printed as ``FILE:LINE: key.path: message``."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        key = f" {self.key}:" if self.key else ""
        return f"{self.file}:{self.line}:{key} {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "key": self.key, "message": self.message}


class ConfigErrors(Exception):
    """Every error found in one configuration file (never just the first)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.key))
        super().__init__("\n".join(str(e) for e in self.errors))
