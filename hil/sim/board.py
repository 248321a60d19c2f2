"""The lifeline board on its I2C bus, register by register.

Chips (7-bit addresses as strapped on the board):

- 0x20 PCA9555/TCA9555 16-bit GPIO expander (NXP PCA9555 datasheet §6.2,
  Table 4: registers 0-1 input port, 2-3 output port, 4-5 polarity
  inversion, 6-7 configuration, 1 = input; power-on outputs 0xFF, config
  0xFF). Port 0 drives the lifeline relay coils (1 = energised = carrier line
  to the appliance; 0 = de-energised = carrier line straight to the analog
  phone). Port 1 reads the relays' auxiliary contacts (1 = energised) and the
  bypass-path loop-current detectors (1 = loop current = phone off-hook).
- 0x40 INA219 current/power monitor on the mains-fed input rail (TI INA219
  datasheet §8.6: 0 configuration (POR 0x399F), 1 shunt voltage (10 µV/LSB,
  signed), 2 bus voltage (bits 15-3, 4 mV/LSB; bit 1 CNVR, bit 0 OVF),
  3 power, 4 current, 5 calibration). Registers are 16-bit, MSB first.
- 0x48 LM75 temperature sensor (NXP LM75B datasheet §7.4: 0 temperature,
  11 bits in the top of 16, 0.125 °C/LSB (LM75A 9 bits, 0.5 °C), 1 config,
  2 THYST (POR 75 °C), 3 TOS (POR 80 °C)).
- 0x50 AT24C02 EEPROM, 256 bytes, 8-byte pages, 5 ms write cycle during
  which it does not acknowledge (Microchip AT24C02 datasheet §5, §6).

SMBus word transfers carry the low byte first (SMBus 3.0 §6.5.5), so a chip
whose registers are MSB first appears byte-swapped in ``read_word_data``;
the drivers swap, as on real hardware.

The relay coils are enabled through the hardware watchdog: while a
:class:`~hil.sim.watchdog.SimWatchdog` is attached and has expired, every
coil is de-energised whatever port 0 says (the board's fail-safe AND gate).
A relay can be made to stick (its contact stays where it is) to test the
readback check.

Fault injection: ``nack`` (addresses that do not acknowledge), ``bus_error``
(every transfer fails with EIO), ``stuck`` (relay indexes whose contact no
longer follows the coil).
"""

from __future__ import annotations

import errno
import json
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hil.sim.unix_server import ThreadedUnixServer

EREMOTEIO = getattr(errno, "EREMOTEIO", 121)


class Chip(Protocol):
    """A device on the simulated bus, seen as 8-bit registers of some width."""

    def read_register(self, register: int) -> bytes: ...

    def write_register(self, register: int, data: bytes) -> None: ...

    def busy(self) -> bool: ...


# ---- PCA9555 -------------------------------------------------------------------------------
@dataclass
class Pca9555:
    """16-bit I/O expander (PCA9555 §6.2). Pins read back their level when outputs."""

    output: list[int] = field(default_factory=lambda: [0xFF, 0xFF])
    polarity: list[int] = field(default_factory=lambda: [0x00, 0x00])
    config: list[int] = field(default_factory=lambda: [0xFF, 0xFF])
    external: list[int] = field(default_factory=lambda: [0xFF, 0xFF])  # levels driven from outside
    pin_override: Callable[[int, int], int] | None = None  # (port, level) -> level

    def levels(self, port: int) -> int:
        level = (self.output[port] & ~self.config[port]) | (self.external[port] & self.config[port])
        level &= 0xFF
        if self.pin_override is not None:
            level = self.pin_override(port, level) & 0xFF
        return level

    def _value(self, register: int) -> int:
        if register in (0, 1):
            return self.levels(register) ^ self.polarity[register]
        if register in (2, 3):
            return self.output[register - 2]
        if register in (4, 5):
            return self.polarity[register - 4]
        if register in (6, 7):
            return self.config[register - 6]
        raise OSError(EREMOTEIO, f"PCA9555: no register {register}")

    def read_register(self, register: int) -> bytes:
        # a read continues with the other register of the pair (PCA9555 §6.3 "reading")
        return bytes([self._value(register), self._value(register ^ 1)])

    def write_register(self, register: int, data: bytes) -> None:
        # consecutive bytes alternate within the register pair (PCA9555 §6.3 "writing to
        # the port registers": after the second byte the pointer toggles back)
        if register >= 8:
            raise OSError(EREMOTEIO, f"PCA9555: no register {register}")
        for i, value in enumerate(data):
            reg = register if i % 2 == 0 else register ^ 1
            if reg in (0, 1):
                continue  # input registers ignore writes
            bank = {
                2: self.output,
                3: self.output,
                4: self.polarity,
                5: self.polarity,
                6: self.config,
                7: self.config,
            }[reg]
            bank[reg % 2] = value & 0xFF

    def busy(self) -> bool:
        return False


# ---- INA219 --------------------------------------------------------------------------------
@dataclass
class Ina219:
    """Bus and shunt voltage monitor (INA219 §8.6.3); the rig sets ``bus_volts``."""

    bus_volts: float = 12.0
    current_amps: float = 0.8
    shunt_ohms: float = 0.1
    config: int = 0x399F
    calibration: int = 0

    def _word(self, register: int) -> int:
        if register == 0:
            return self.config
        if register == 1:
            raw = round(self.current_amps * self.shunt_ohms / 10e-6)  # 10 µV/LSB
            raw = max(-32000, min(32000, raw))
            return raw & 0xFFFF
        if register == 2:
            raw = max(0, min(8191, round(self.bus_volts / 0.004)))  # 4 mV/LSB, bits 15-3
            return (raw << 3) | 0x2  # CNVR set: a conversion is ready
        if register in (3, 4):
            if self.calibration == 0:
                return 0  # §8.5.1: power and current read 0 until calibrated
            current_lsb = 0.04096 / (self.calibration * self.shunt_ohms)
            current = round(self.current_amps / current_lsb)
            if register == 4:
                return current & 0xFFFF
            return max(0, round(self.current_amps * self.bus_volts / (20 * current_lsb))) & 0xFFFF
        if register == 5:
            return self.calibration
        raise OSError(EREMOTEIO, f"INA219: no register {register}")

    def read_register(self, register: int) -> bytes:
        return self._word(register).to_bytes(2, "big")

    def write_register(self, register: int, data: bytes) -> None:
        if len(data) < 2:
            return  # a pointer-only write: selects the register
        value = int.from_bytes(data[:2], "big")
        if register == 0:
            if value & 0x8000:  # RST bit: power-on values
                self.config, self.calibration = 0x399F, 0
            else:
                self.config = value
        elif register == 5:
            self.calibration = value & 0xFFFE  # bit 0 is always 0 (§8.6.3.6)

    def busy(self) -> bool:
        return False


# ---- LM75 ----------------------------------------------------------------------------------
@dataclass
class Lm75:
    """Temperature sensor (LM75B §7.4), 0.125 °C resolution in an 11-bit field."""

    celsius: float = 35.0
    config: int = 0
    thyst: int = 75 << 8
    tos: int = 80 << 8

    def read_register(self, register: int) -> bytes:
        if register == 0:
            raw = round(self.celsius / 0.125) & 0x7FF
            return (raw << 5).to_bytes(2, "big")
        if register == 1:
            return bytes([self.config])
        if register == 2:
            return self.thyst.to_bytes(2, "big")
        if register == 3:
            return self.tos.to_bytes(2, "big")
        raise OSError(EREMOTEIO, f"LM75: no register {register}")

    def write_register(self, register: int, data: bytes) -> None:
        if not data:
            return
        if register == 1:
            self.config = data[0]
        elif register in (2, 3) and len(data) >= 2:
            value = int.from_bytes(data[:2], "big") & 0xFF80
            if register == 2:
                self.thyst = value
            else:
                self.tos = value

    def busy(self) -> bool:
        return False


# ---- AT24C02 -------------------------------------------------------------------------------
@dataclass
class At24:
    """Serial EEPROM: 8-bit word address, page writes wrap in the page (AT24C02 §6)."""

    size: int = 256
    page: int = 8
    write_cycle: float = 0.005
    now: Callable[[], float] = time.monotonic
    memory: bytearray = field(default_factory=lambda: bytearray(b"\xff" * 256))
    _busy_until: float = 0.0

    def read_register(self, register: int) -> bytes:
        # sequential read from the word address, rolling over (§7 "sequential read")
        return bytes(self.memory[(register + i) % self.size] for i in range(32))

    def write_register(self, register: int, data: bytes) -> None:
        if not data:
            return
        base = register - register % self.page
        for i, value in enumerate(data):
            self.memory[base + (register - base + i) % self.page] = value
        self._busy_until = self.now() + self.write_cycle

    def busy(self) -> bool:
        return self.now() < self._busy_until


# ---- bus -----------------------------------------------------------------------------------
@dataclass
class RelayPins:
    """Where one lifeline pair sits on the expander (bits of port 0 and port 1)."""

    coil: int  # port 0 bit
    contact: int  # port 1 bit (auxiliary contact: 1 = energised)
    hook: int  # port 1 bit (bypass-path loop current: 1 = off-hook)


class SimBoard:
    """The board's I2C bus with its chips; offers the smbus2 ``SMBus`` methods the drivers use.

    Errors are raised as ``OSError`` with the errno the Linux i2c-dev layer
    gives: EREMOTEIO (121) for a NACK, EIO for a bus error.
    """

    EXPANDER, INA, LM75, EEPROM = 0x20, 0x40, 0x48, 0x50

    def __init__(
        self,
        pairs: Sequence[RelayPins] = (
            RelayPins(0, 0, 4),
            RelayPins(1, 1, 5),
            RelayPins(2, 2, 6),
            RelayPins(3, 3, 7),
        ),
        *,
        now: Callable[[], float] = time.monotonic,
        watchdog: WatchdogLike | None = None,
    ) -> None:
        self.pairs = list(pairs)
        self.now = now
        self.watchdog = watchdog
        self.expander = Pca9555(pin_override=self._pins)
        self.ina = Ina219()
        self.lm75 = Lm75()
        self.eeprom = At24(now=now)
        self.chips: dict[int, Chip] = {
            self.EXPANDER: self.expander,
            self.INA: self.ina,
            self.LM75: self.lm75,
            self.EEPROM: self.eeprom,
        }
        self.nack: set[int] = set()
        self.bus_error = False
        self.stuck: set[int] = set()
        self.off_hook: set[int] = set()
        self._contacts = [False] * len(self.pairs)  # contact position (True = energised)
        self.transactions = 0
        self.lock = threading.RLock()
        self.closed = False

    # ---- the physical side ----------------------------------------------------------------
    def coil_energised(self, index: int) -> bool:
        """The coil of pair ``index`` is powered (port 0 output high and the watchdog alive)."""
        exp = self.expander
        pin = self.pairs[index].coil
        driven = bool(exp.output[0] & (1 << pin)) and not (exp.config[0] & (1 << pin))
        return driven and not self.watchdog_expired()

    def watchdog_expired(self) -> bool:
        return self.watchdog is not None and self.watchdog.expired()

    def relay_energised(self, index: int) -> bool:
        """The relay contact of pair ``index`` (False = lifeline: carrier line to the phone)."""
        if index not in self.stuck:
            self._contacts[index] = self.coil_energised(index)
        return self._contacts[index]

    def stick(self, index: int, energised: bool | None = None) -> None:
        """Weld the contact of pair ``index`` where it is (or at ``energised``)."""
        if energised is not None:
            self._contacts[index] = energised
        else:
            self.relay_energised(index)
        self.stuck.add(index)

    def _pins(self, port: int, level: int) -> int:
        if port == 0:
            return level if not self.watchdog_expired() else level & ~self._coil_mask()
        for i, pair in enumerate(self.pairs):
            contact_bit, hook_bit = 1 << pair.contact, 1 << pair.hook
            level = (level | contact_bit) if self.relay_energised(i) else (level & ~contact_bit)
            level = (level | hook_bit) if i in self.off_hook else (level & ~hook_bit)
        return level

    def _coil_mask(self) -> int:
        mask = 0
        for pair in self.pairs:
            mask |= 1 << pair.coil
        return mask

    def set_rail(self, volts: float, amps: float | None = None) -> None:
        self.ina.bus_volts = volts
        if amps is not None:
            self.ina.current_amps = amps

    # ---- SMBus (smbus2.SMBus subset) ------------------------------------------------------
    def _chip(self, address: int) -> Chip:
        if self.closed:
            raise OSError(errno.EBADF, "bus closed")
        self.transactions += 1
        if self.bus_error:
            raise OSError(errno.EIO, "I2C bus error (SDA held low?)")
        chip = self.chips.get(address)
        if chip is None or address in self.nack or chip.busy():
            raise OSError(EREMOTEIO, f"no acknowledge from 0x{address:02x}")
        return chip

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        with self.lock:
            return self._chip(i2c_addr).read_register(register)[0]

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        with self.lock:
            self._chip(i2c_addr).write_register(register, bytes([value & 0xFF]))

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        with self.lock:
            data = self._chip(i2c_addr).read_register(register)
            data = (data + b"\xff")[:2] if len(data) < 2 else data[:2]
            return data[0] | (data[1] << 8)  # SMBus: first byte on the wire is the low byte

    def write_word_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        with self.lock:
            self._chip(i2c_addr).write_register(
                register, bytes([value & 0xFF, (value >> 8) & 0xFF])
            )

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        if not 0 < length <= 32:
            raise ValueError("Desired block length over 32 bytes")
        with self.lock:
            data = self._chip(i2c_addr).read_register(register)
            return list((data * (length // max(1, len(data)) + 1))[:length])

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: Sequence[int], force: bool | None = None
    ) -> None:
        if len(data) > 32:
            raise ValueError("Data length cannot exceed 32 bytes")
        with self.lock:
            self._chip(i2c_addr).write_register(register, bytes(v & 0xFF for v in data))

    def close(self) -> None:
        self.closed = True

    def reopen(self) -> None:
        self.closed = False


class WatchdogLike(Protocol):
    def expired(self) -> bool: ...


# ---- provisioning and the socket server ---------------------------------------------------
def program_identity(board: SimBoard, serial: str = "HIL-0001", model: str = "LIFELINE-4") -> None:
    """Write the identity block into the simulated EEPROM as the factory would."""
    from drivers.board.identity import BoardIdentity, PairPins, encode

    image = encode(
        BoardIdentity(
            serial, model, 1, tuple(PairPins(p.coil, p.contact, p.hook) for p in board.pairs)
        )
    )
    board.eeprom.memory[: len(image)] = image


_OPS = frozenset(
    {
        "read_byte_data",
        "write_byte_data",
        "read_word_data",
        "write_word_data",
        "read_i2c_block_data",
        "write_i2c_block_data",
    }
)


class BoardServer(ThreadedUnixServer):
    """Serves a :class:`SimBoard`'s bus on a UNIX socket (protocol in drivers/board/sim.py)."""

    def __init__(self, board: SimBoard, path: str) -> None:
        self.board = board
        super().__init__(path, "sim-board")

    def serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            try:
                for line in stream:
                    if self.stopping:
                        break
                    stream.write(json.dumps(self._answer(line)).encode() + b"\n")
                    stream.flush()
            except OSError:
                return  # the driver's process went away (killed): its transfers end here

    def _answer(self, line: bytes) -> dict[str, object]:
        try:
            request = json.loads(line)
            op = request["op"]
            if op not in _OPS:
                raise ValueError(f"unknown op {op!r}")
            return {"ok": getattr(self.board, op)(*request["args"])}
        except OSError as exc:
            return {"errno": exc.errno, "error": exc.strerror or str(exc)}
        except (ValueError, KeyError, TypeError) as exc:
            return {"errno": errno.EINVAL, "error": f"bad request: {exc}"}
