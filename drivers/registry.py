"""Device addresses and the lazy backend registry (the driver seam).

An address is ``scheme:rest`` in the manner of pyserial's ``serial_for_url``:
the scheme picks the backend, ``rest`` and an optional ``?key=value&...``
query are handed to it. Backends are named as ``"module:Class"`` strings and
imported only when first asked for, so a missing vendor library breaks only
that backend, with a clear error.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from drivers.errors import AddressError, DriverInitError


@dataclass(frozen=True)
class DeviceAddress:
    """A parsed device address: ``scheme:target?options``."""

    scheme: str
    target: str
    options: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> DeviceAddress:
        if not isinstance(text, str) or ":" not in text:
            raise AddressError(f"device address {text!r}: expected 'scheme:target', e.g. 'sim:'")
        scheme, _, rest = text.partition(":")
        if not scheme or not scheme.isidentifier():
            raise AddressError(f"device address {text!r}: scheme {scheme!r} is not a name")
        target, _, query = rest.partition("?")
        try:
            options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
        except ValueError as exc:
            raise AddressError(f"device address {text!r}: bad option query {query!r}") from exc
        return cls(scheme=scheme.lower(), target=target, options=options, text=text)

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)


class BackendRegistry:
    """Maps an address scheme to a lazily imported backend class for one device kind."""

    def __init__(self, kind: str, backends: Mapping[str, str]) -> None:
        self.kind = kind
        self._backends = dict(backends)

    @property
    def schemes(self) -> list[str]:
        return sorted(self._backends)

    def resolve(self, address: DeviceAddress) -> type:
        spec = self._backends.get(address.scheme)
        if spec is None:
            raise AddressError(
                f"{self.kind} address {address.text!r}: unknown scheme {address.scheme!r}; "
                f"known: {', '.join(self.schemes)}"
            )
        module_name, _, class_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise DriverInitError(
                f"{self.kind} backend {address.scheme!r} cannot load ({module_name}): {exc}"
            ) from exc
        backend: type = getattr(module, class_name)
        return backend

    def validate(self, text: str) -> DeviceAddress:
        """Parse ``text`` and check its scheme is known, without importing anything."""
        address = DeviceAddress.parse(text)
        if address.scheme not in self._backends:
            raise AddressError(
                f"{self.kind} address {text!r}: unknown scheme {address.scheme!r}; "
                f"known: {', '.join(self.schemes)}"
            )
        return address
