"""Checks for device addresses in the configuration (DESIGN "The driver seam")."""

from __future__ import annotations

from collections.abc import Callable

from drivers.errors import AddressError
from drivers.registry import DeviceAddress


def address_check(*schemes: str) -> Callable[[object], str | None]:
    """A field check accepting ``scheme:target`` addresses with one of ``schemes``."""

    def check(value: object) -> str | None:
        try:
            address = DeviceAddress.parse(str(value))
        except AddressError as exc:
            return str(exc)
        if address.scheme not in schemes:
            return f"address {value!r}: scheme must be one of {', '.join(schemes)}"
        return None

    return check
