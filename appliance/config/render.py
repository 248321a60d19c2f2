"""Write a plain configuration tree back as TOML (for ``config show``)."""

from __future__ import annotations

import json
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON-compatible
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise ValueError("TOML has no null")
    raise TypeError(f"cannot render {type(value).__name__} as TOML")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def render_toml(tree: dict[str, Any], prefix: str = "") -> str:
    """TOML text for ``tree``; keys whose value is None are left out (meaning 'unset')."""
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    for key, value in tree.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_scalar(value)}")
    out = "\n".join(lines)
    for key, value in nested:
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        if isinstance(value, dict):
            body = render_toml(value, name)
            out += f"\n\n[{name}]\n{body}" if not body.startswith("\n") else f"\n\n[{name}]{body}"
        else:
            for item in value:
                body = render_toml(item, name)
                out += f"\n\n[[{name}]]\n{body}"
    return out.strip("\n") + "\n" if not prefix else out
