"""Megatec (Q1) UPS on a serial line, through pyserial.

Address: ``serial:/dev/ttyS1?protocol=megatec`` with options ``cells=N``
(battery cells in series; default from the F reply's nominal voltage / 2 V),
``cell_low=1.75``, ``cell_high=2.25`` (volts per cell at 0 % and 100 %),
``runtimecal=240,100,720,50`` (seconds at a load %, twice: the same form as
NUT's nutdrv_qx option) and ``timeout=1.0`` (seconds to wait for a reply).

Protocol ("Megatec UPS Protocol"): 2400 8N1, CR-terminated.
Q1 -> ``(MMM.M NNN.N PPP.P QQQ RR.R S.SS TT.T b7..b0``; F -> ``#MMM.M QQQ SS.SS RR.R``;
I -> ``#company(15) model(10) version(10)``. For on-line units the battery
voltage is per cell (S.SS), for standby units it is the whole string (SS.S).

The UPS does not report charge or runtime: charge is estimated from the
battery voltage (linear between ``cell_low`` and ``cell_high`` per cell), and
runtime from the calibration: two (runtime, load) points fix a law
``runtime = r1 * (l1 / load) ** k``, scaled by the charge.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import serial

from drivers.registry import DeviceAddress
from drivers.ups.base import Ups, UpsReading
from drivers.ups.errors import UpsInitError, UpsOperationError, UpsProtocolError, UpsTimeoutError

# NUT instant command -> Megatec command (Megatec protocol, commands T, TL, S, C, CT)
COMMANDS = {
    "test.battery.start.quick": "T",
    "test.battery.start.deep": "TL",
    "test.battery.stop": "CT",
    "shutdown.return": "S.5R0001",
    "shutdown.stayoff": "S.5",
    "shutdown.stop": "C",
    "beeper.toggle": "Q",
}


def parse_q1(reply: str) -> dict[str, Any]:
    """Fields of a Q1 reply (without CR); raises UpsProtocolError naming what is wrong."""
    if not reply.startswith("("):
        raise UpsProtocolError(f"Q1 reply {reply[:60]!r} does not start with '('")
    fields = reply[1:].split()
    if len(fields) != 8:
        raise UpsProtocolError(
            f"Q1 reply {reply[:60]!r} has {len(fields)} fields, expected 8 (truncated?)"
        )
    names = ("input_voltage", "input_fault_voltage", "output_voltage", "load", "frequency",
             "battery_voltage", "temperature")
    out: dict[str, Any] = {}
    for name, text in zip(names, fields[:7], strict=True):
        if name == "temperature" and text.strip("-.") == "":
            out[name] = None  # '--.-': no sensor
            continue
        try:
            value = float(text)
        except ValueError as exc:
            raise UpsProtocolError(f"Q1 reply field {name} {text!r} is not a number") from exc
        if not math.isfinite(value) or value < 0:
            raise UpsProtocolError(f"Q1 reply field {name} {text!r} is out of range")
        out[name] = value
    bits = fields[7]
    if len(bits) != 8 or set(bits) - {"0", "1"}:
        raise UpsProtocolError(f"Q1 status bits {bits!r} are not 8 binary digits")
    flag_names = ("utility_fail", "battery_low", "avr", "ups_failed", "standby", "test",
                  "shutdown", "beeper")
    out.update({n: b == "1" for n, b in zip(flag_names, bits, strict=True)})
    return out


def parse_runtimecal(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        r1, l1, r2, l2 = (float(p) for p in parts)
    except ValueError as exc:
        raise UpsInitError(f"runtimecal {text!r}: expected 'seconds,load%,seconds,load%'") from exc
    if not (r1 > 0 and r2 > 0 and 0 < l1 <= 100 and 0 < l2 <= 100 and l1 != l2):
        raise UpsInitError(f"runtimecal {text!r}: runtimes must be > 0 and loads distinct 1-100")
    return r1, l1, r2, l2


class MegatecUps(Ups):
    """A UPS speaking Megatec Q1 on a serial port."""

    def __init__(
        self,
        port: str,
        *,
        cells: int | None = None,
        cell_low: float = 1.75,
        cell_high: float = 2.25,
        runtimecal: tuple[float, float, float, float] = (240.0, 100.0, 720.0, 50.0),
        timeout: float = 1.0,
        now: Callable[[], float] = time.monotonic,
        serial_factory: Callable[..., Any] = serial.Serial,
    ) -> None:
        super().__init__(f"megatec:{port}", now=now)
        if cell_high <= cell_low:
            raise UpsInitError(f"cell_high {cell_high} must be above cell_low {cell_low}")
        self.port = port
        self.cells = cells
        self.cell_low = cell_low
        self.cell_high = cell_high
        self.runtimecal = runtimecal
        self.timeout = timeout
        self._factory = serial_factory
        self._serial: Any = None

    @classmethod
    def from_address(cls, address: DeviceAddress, **kwargs: Any) -> MegatecUps:
        protocol = address.option("protocol", "megatec")
        if protocol not in ("megatec", "q1"):
            raise UpsInitError(f"UPS address {address.text!r}: protocol {protocol!r} unsupported")
        try:
            cells = address.option("cells")
            opts: dict[str, Any] = {
                "cells": int(cells) if cells else None,
                "cell_low": float(address.option("cell_low", "1.75") or 1.75),
                "cell_high": float(address.option("cell_high", "2.25") or 2.25),
                "timeout": float(address.option("timeout", "1.0") or 1.0),
            }
        except ValueError as exc:
            raise UpsInitError(f"UPS address {address.text!r}: bad option: {exc}") from exc
        cal = address.option("runtimecal")
        if cal:
            opts["runtimecal"] = parse_runtimecal(cal)
        opts.update(kwargs)
        return cls(address.target, **opts)

    # ---- I/O -----------------------------------------------------------------------------
    def _connect(self) -> None:
        try:
            self._serial = self._factory(self.port, baudrate=2400, bytesize=8, parity="N",
                                         stopbits=1, timeout=self.timeout)
        except (OSError, serial.SerialException) as exc:
            raise UpsInitError(f"serial port {self.port}: cannot open: {exc}") from exc
        try:
            self._serial.reset_input_buffer()
            rating = self._query("F")
            ident = self._query("I")
            self._parse_rating(rating)
        except UpsTimeoutError:
            self._close_quietly()
            raise
        except (UpsOperationError, UpsInitError) as exc:
            self._close_quietly()
            raise UpsInitError(f"UPS on {self.port} does not speak Megatec: {exc}") from exc
        if ident.startswith("#") and len(ident) >= 37:
            self.identity.update(
                manufacturer=ident[1:16].strip(), model=ident[17:27].strip(),
                firmware=ident[28:38].strip(),
            )

    def _close_quietly(self) -> None:
        try:
            self._disconnect()
        except UpsOperationError:
            self._serial = None

    def _parse_rating(self, rating: str) -> None:
        fields = rating[1:].split() if rating.startswith("#") else []
        if len(fields) != 4:
            raise UpsInitError(f"UPS on {self.port}: F reply {rating[:40]!r} is malformed")
        try:
            nominal = float(fields[2])
        except ValueError as exc:
            raise UpsInitError(f"UPS on {self.port}: F battery voltage {fields[2]!r}") from exc
        self.identity.update(voltage_nominal=fields[0], battery_voltage_nominal=fields[2])
        if self.cells is None:
            self.cells = max(1, round(nominal / 2.0))

    def _query(self, command: str) -> str:
        try:
            self._serial.write(command.encode("ascii") + b"\r")
            raw: bytes = self._serial.read_until(b"\r")
        except (OSError, serial.SerialException) as exc:
            raise UpsOperationError(f"serial port {self.port}: {exc}") from exc
        if not raw:
            raise UpsTimeoutError(
                f"UPS on {self.port} did not answer {command!r} within {self.timeout} s "
                "(cable, baud rate, UPS off?)"
            )
        if not raw.endswith(b"\r"):
            raise UpsProtocolError(f"UPS on {self.port}: reply to {command!r} truncated: {raw!r}")
        text = raw[:-1].decode("ascii", "replace")
        if text == command:
            raise UpsOperationError(f"UPS on {self.port} does not know the command {command!r}")
        return text

    def _send(self, command: str) -> None:
        """A command without a reply (T, TL, S, C...): an echo means refused."""
        try:
            self._serial.reset_input_buffer()
            self._serial.write(command.encode("ascii") + b"\r")
            saved = self._serial.timeout
            self._serial.timeout = min(0.3, self.timeout)
            try:
                raw: bytes = self._serial.read_until(b"\r")
            finally:
                self._serial.timeout = saved
        except (OSError, serial.SerialException) as exc:
            raise UpsOperationError(f"serial port {self.port}: {exc}") from exc
        if raw.rstrip(b"\r").decode("ascii", "replace") == command:
            raise UpsOperationError(f"UPS on {self.port} refused the command {command!r}")

    def _poll(self) -> UpsReading:
        q1 = parse_q1(self._query("Q1"))
        status: set[str] = set()
        status.add("OB" if q1["utility_fail"] else "OL")
        if q1["battery_low"]:
            status.add("LB")
        if q1["avr"]:
            status.add("BOOST" if q1["input_voltage"] < q1["output_voltage"] else "TRIM")
        if q1["ups_failed"]:
            status.add("ALARM")
        if q1["test"]:
            status.add("CAL")
        if q1["shutdown"]:
            status.add("FSD")
        charge = self.estimate_charge(q1["battery_voltage"])
        if q1["utility_fail"]:
            status.add("DISCHRG")
        elif charge < 99.0:
            status.add("CHRG")
        load = q1["load"]
        return UpsReading(
            status=frozenset(status), charge=charge, runtime=self.estimate_runtime(charge, load),
            input_voltage=q1["input_voltage"], battery_voltage=q1["battery_voltage"], load=load,
            stale=False,
        )

    def estimate_charge(self, battery_voltage: float) -> float:
        """Charge % from the battery voltage (per cell if under 3 V, else the whole string)."""
        cells = self.cells or 1
        per_cell = battery_voltage if battery_voltage < 3.0 else battery_voltage / cells
        fraction = (per_cell - self.cell_low) / (self.cell_high - self.cell_low)
        return round(100.0 * min(1.0, max(0.0, fraction)), 1)

    def estimate_runtime(self, charge: float, load: float) -> float:
        """Seconds left from the calibration law, scaled by the charge."""
        r1, l1, r2, l2 = self.runtimecal
        k = math.log(r2 / r1) / math.log(l1 / l2)
        runtime: float = r1 * (l1 / max(load, 1.0)) ** k * charge / 100.0
        return round(runtime, 1)

    def _command(self, name: str) -> None:
        code = COMMANDS.get(name)
        if code is None:
            raise UpsOperationError(
                f"UPS {self.name}: no command {name!r}; known: {', '.join(sorted(COMMANDS))}"
            )
        self._send(code)

    def _disconnect(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (OSError, serial.SerialException) as exc:
                raise UpsOperationError(f"serial port {self.port}: close: {exc}") from exc
            finally:
                self._serial = None
