"""The call core imports no channel technology (DESIGN "The call core", issue 12).

PRI, analog and SIP plug in through appliance.calls.technology; the core
(appliance.calls, appliance.ivr, appliance.acd) must never import them back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CORE = ("appliance/calls", "appliance/ivr", "appliance/acd")
TECHNOLOGIES = ("appliance.signalling", "appliance.sip", "drivers")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def is_technology(module: str) -> bool:
    return any(module == t or module.startswith(f"{t}.") for t in TECHNOLOGIES)


def core_modules() -> list[Path]:
    return sorted(p for folder in CORE for p in (ROOT / folder).rglob("*.py"))


def test_the_core_has_modules_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in core_modules()}
    assert {"appliance/calls/model.py", "appliance/acd/engine.py",
            "appliance/ivr/engine.py"} <= names


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_core_module_imports_no_technology(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [f"line {line}: {module}" for line, module in imported_modules(tree)
           if is_technology(module)]
    assert not bad, f"{path.relative_to(ROOT)} imports a channel technology: {bad}"


def test_the_check_catches_a_technology_import() -> None:
    tree = ast.parse("from appliance.signalling.pri.calls import PriLeg\nimport drivers.span\n")
    assert [m for _, m in imported_modules(tree) if is_technology(m)] == [
        "appliance.signalling.pri.calls", "drivers.span"]
