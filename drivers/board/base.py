"""The lifeline board contract: relays, their readback, hook sense, input rail, temperature.

The board is a handful of I2C chips reached through any object offering the
smbus2 ``SMBus`` methods used here (``smbus2.SMBus`` on hardware, the
simulator's bus otherwise). See hil/sim/board.py for the chips and their
datasheet clauses; the layout of the EEPROM identity is in
drivers/board/identity.py.

Fail-safe: a de-energised relay connects the carrier line to the analog phone
(lifeline). At open the expander's output register is cleared *before* the
coil pins are made outputs, because the PCA9555 powers up with outputs at 1
(PCA9555 §6.2.2, Table 6: output port POR 0xFF) and would otherwise energise
every coil for an instant.

Every I2C failure (OSError from the bus: NACK, bus error) is retried a few
times, then raised as :class:`BoardError` naming the chip, its address and
the register.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from drivers.board.errors import BoardError, BoardInitError, RelayStuckError
from drivers.board.identity import BoardIdentity, decode, encode, encoded_length

log = logging.getLogger("drivers.board")

T = TypeVar("T")

# PCA9555 registers (§6.2 Table 4)
PCA_INPUT0, PCA_INPUT1, PCA_OUTPUT0, PCA_OUTPUT1 = 0, 1, 2, 3
PCA_POLARITY0, PCA_POLARITY1, PCA_CONFIG0, PCA_CONFIG1 = 4, 5, 6, 7
# INA219 registers (§8.6.2 Table 2)
INA_CONFIG, INA_SHUNT, INA_BUS, INA_POWER, INA_CURRENT, INA_CALIBRATION = 0, 1, 2, 3, 4, 5
INA_CONFIG_DEFAULT = 0x399F  # 32 V range, ±320 mV PGA, 12-bit, continuous shunt and bus
# LM75 registers (§7.4)
LM75_TEMP = 0


class SMBusLike(Protocol):
    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int: ...

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None: ...

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int: ...

    def write_word_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None: ...

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]: ...

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: Sequence[int], force: bool | None = None
    ) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RailReading:
    volts: float
    amps: float


def swap16(word: int) -> int:
    """SMBus words are low byte first (SMBus 3.0 §6.5.5); these chips send MSB first."""
    return ((word & 0xFF) << 8) | ((word >> 8) & 0xFF)


class LifelineBoard:
    """The board's chips on one bus. Call :meth:`open` before anything else."""

    def __init__(
        self,
        bus: SMBusLike,
        *,
        expander: int = 0x20,
        ina: int = 0x40,
        lm75: int = 0x48,
        eeprom: int = 0x50,
        shunt_ohms: float = 0.1,
        retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bus = bus
        self.addresses = {"PCA9555": expander, "INA219": ina, "LM75": lm75, "AT24": eeprom}
        self.shunt_ohms = shunt_ohms
        self.retries = retries
        self._sleep = sleep
        self._coils = 0  # shadow of output port 0
        # callers may run in several threads (asyncio.to_thread): one transfer at a time,
        # and read-modify-write of the relay port as one step
        self._lock = threading.RLock()
        self.identity: BoardIdentity | None = None
        self._closed = False

    # ---- transfer with retry --------------------------------------------------------------
    def _xfer(self, chip: str, register: int, what: str, op: Callable[[], T]) -> T:
        with self._lock:
            return self._xfer_locked(chip, register, what, op)

    def _xfer_locked(self, chip: str, register: int, what: str, op: Callable[[], T]) -> T:
        last: OSError | None = None
        for attempt in range(self.retries + 1):
            try:
                return op()
            except OSError as exc:
                last = exc
                if attempt < self.retries:
                    self._sleep(0.002 * (attempt + 1))
        assert last is not None
        kind = "no acknowledge" if last.errno in (errno.ENXIO, 121) else "bus error"
        raise BoardError(
            f"{chip} at 0x{self.addresses[chip]:02x}: {what} register {register} failed "
            f"({kind}: {last.strerror or last}) after {self.retries + 1} tries",
            error_code=last.errno,
        ) from last

    def _read_byte(self, chip: str, register: int) -> int:
        addr = self.addresses[chip]
        return self._xfer(chip, register, "read", lambda: self.bus.read_byte_data(addr, register))

    def _write_byte(self, chip: str, register: int, value: int) -> None:
        addr = self.addresses[chip]
        self._xfer(chip, register, "write",
                   lambda: self.bus.write_byte_data(addr, register, value & 0xFF))

    def _read_be16(self, chip: str, register: int) -> int:
        addr = self.addresses[chip]
        word = self._xfer(chip, register, "read", lambda: self.bus.read_word_data(addr, register))
        return swap16(word)

    def _write_be16(self, chip: str, register: int, value: int) -> None:
        addr = self.addresses[chip]
        self._xfer(chip, register, "write",
                   lambda: self.bus.write_word_data(addr, register, swap16(value & 0xFFFF)))

    # ---- lifecycle -----------------------------------------------------------------------
    def open(self) -> BoardIdentity:
        """Read the identity, put every relay de-energised (lifeline), calibrate the INA219."""
        try:
            self.identity = decode(self.read_eeprom(0, encoded_length(8)))
        except BoardError as exc:
            raise BoardInitError(f"board EEPROM unreadable: {exc}") from exc
        try:
            self._coils = 0
            self._write_byte("PCA9555", PCA_OUTPUT0, 0x00)  # before config: POR output is 0xFF
            self._write_byte("PCA9555", PCA_POLARITY1, 0x00)
            self._write_byte("PCA9555", PCA_CONFIG1, 0xFF)  # port 1: contact and hook inputs
            self._write_byte("PCA9555", PCA_CONFIG0, (~self._coil_mask()) & 0xFF)
            self._write_be16("INA219", INA_CONFIG, INA_CONFIG_DEFAULT)
            config = self._read_be16("INA219", INA_CONFIG)
        except BoardError as exc:
            raise BoardInitError(f"board setup failed: {exc}") from exc
        if config != INA_CONFIG_DEFAULT:
            raise BoardInitError(
                f"INA219 at 0x{self.addresses['INA219']:02x}: configuration reads back "
                f"0x{config:04x}, wrote 0x{INA_CONFIG_DEFAULT:04x} (wrong chip at that address?)"
            )
        return self.identity

    def close(self) -> None:
        """De-energise every relay (best effort) and release the bus; safe twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.set_all(False)
        except BoardError as exc:
            log.error("board: could not de-energise relays on close: %s", exc)
        self.bus.close()

    # ---- relays --------------------------------------------------------------------------
    @property
    def pairs(self) -> int:
        return len(self._pins().pairs)

    def _pins(self) -> BoardIdentity:
        if self.identity is None:
            raise BoardError("board not opened (identity unknown)")
        return self.identity

    def _coil_mask(self) -> int:
        mask = 0
        for pair in self._pins().pairs:
            mask |= 1 << pair.coil
        return mask

    def set_relay(self, pair: int, energised: bool) -> None:
        pins = self._pins().pairs[pair]
        with self._lock:
            coils = self._coils | (1 << pins.coil) if energised else self._coils & ~(1 << pins.coil)
            self._write_byte("PCA9555", PCA_OUTPUT0, coils)
            self._coils = coils

    def set_all(self, energised: bool) -> None:
        with self._lock:
            coils = self._coil_mask() if energised else 0
            self._write_byte("PCA9555", PCA_OUTPUT0, coils)
            self._coils = coils

    def commanded(self, pair: int) -> bool:
        return bool(self._coils & (1 << self._pins().pairs[pair].coil))

    def contacts(self) -> list[bool]:
        """Auxiliary contact per pair: True = energised (appliance path)."""
        level = self._read_byte("PCA9555", PCA_INPUT1)
        return [bool(level & (1 << p.contact)) for p in self._pins().pairs]

    def hooks(self) -> list[bool]:
        """Loop current on each bypass path: True = the analog phone is off-hook."""
        level = self._read_byte("PCA9555", PCA_INPUT1)
        return [bool(level & (1 << p.hook)) for p in self._pins().pairs]

    def verify_relays(self) -> list[int]:
        """Pairs whose contact disagrees with the coil command (stuck relays)."""
        return [i for i, c in enumerate(self.contacts()) if c != self.commanded(i)]

    def check_relays(self) -> None:
        stuck = self.verify_relays()
        if stuck:
            raise RelayStuckError(
                f"lifeline relay(s) {', '.join(str(i) for i in stuck)} do not follow their coil "
                "(contact readback disagrees): check the relay and its driver"
            )

    # ---- sensors -------------------------------------------------------------------------
    def read_rail(self) -> RailReading:
        """Input rail (INA219): bus voltage (§8.6.3.2), current from the shunt (§8.6.3.1)."""
        bus = self._read_be16("INA219", INA_BUS)
        if bus & 0x1:
            raise BoardError("INA219: math overflow flag set (OVF): rail reading unreliable")
        shunt = self._read_be16("INA219", INA_SHUNT)
        if shunt & 0x8000:
            shunt -= 0x10000
        return RailReading(volts=round((bus >> 3) * 0.004, 3),
                           amps=round(shunt * 10e-6 / self.shunt_ohms, 4))

    def temperature(self) -> float:
        """Board temperature, °C (LM75 §7.4.2: two's complement, 11 bits, 0.125 °C)."""
        raw = self._read_be16("LM75", LM75_TEMP)
        if raw & 0x8000:
            raw -= 0x10000
        return (raw >> 5) * 0.125

    # ---- EEPROM --------------------------------------------------------------------------
    def read_eeprom(self, offset: int, length: int) -> bytes:
        out = bytearray()
        addr = self.addresses["AT24"]
        while len(out) < length:
            start = offset + len(out)
            n = min(32, length - len(out))
            chunk = self._xfer("AT24", start, "read", _block_reader(self.bus, addr, start, n))
            out += bytes(chunk)
        return bytes(out)

    def write_eeprom(self, offset: int, data: bytes, page: int = 8) -> None:
        """Page writes with acknowledge polling through the write cycle (AT24C02 §6, §8)."""
        addr = self.addresses["AT24"]
        pos = 0
        while pos < len(data):
            start = offset + pos
            n = min(page - start % page, len(data) - pos)
            chunk = list(data[pos : pos + n])
            self._xfer("AT24", start, "write", _block_writer(self.bus, addr, start, chunk))
            pos += n
            self._sleep(0.005)  # t_WR, 5 ms max

    def write_identity(self, identity: BoardIdentity) -> None:
        self.write_eeprom(0, encode(identity))


def _block_reader(bus: SMBusLike, addr: int, start: int, n: int) -> Callable[[], list[int]]:
    return lambda: bus.read_i2c_block_data(addr, start, n)


def _block_writer(bus: SMBusLike, addr: int, start: int, data: list[int]) -> Callable[[], None]:
    return lambda: bus.write_i2c_block_data(addr, start, data)
