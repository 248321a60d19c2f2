"""Board driver (smbus2 methods) against the register-accurate board simulator."""

from __future__ import annotations

import errno
import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from drivers.board import BoardError, BoardInitError, LifelineBoard, open_board
from drivers.board.identity import BoardIdentity, PairPins, crc16_ccitt, decode, encode
from drivers.board.sim import SimBusClient
from hil.sim.board import BoardServer, RelayPins, SimBoard, program_identity
from hil.sim.watchdog import SimWatchdog


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def make(clock: Clock | None = None) -> tuple[SimBoard, LifelineBoard]:
    sim = SimBoard(now=clock or Clock())
    program_identity(sim, serial="SN-42")
    board = open_board("sim:", bus=sim, sleep=lambda s: None)
    return sim, board


def test_identity_and_safe_power_up() -> None:
    sim, board = make()
    # before open: the PCA9555 powers up with outputs 1 but pins as inputs: no coil driven
    assert not any(sim.coil_energised(i) for i in range(4))
    identity = board.open()
    assert identity.serial == "SN-42" and len(identity.pairs) == 4
    assert sim.expander.config[0] == 0xF0  # coils 0-3 outputs, the rest inputs
    assert sim.expander.output[0] == 0x00  # cleared before the pins became outputs
    assert not any(sim.relay_energised(i) for i in range(4))
    assert board.contacts() == [False] * 4


def test_relays_follow_commands_and_read_back() -> None:
    sim, board = make()
    board.open()
    board.set_relay(2, True)
    assert [sim.relay_energised(i) for i in range(4)] == [False, False, True, False]
    assert board.contacts() == [False, False, True, False]
    assert board.verify_relays() == []
    board.set_all(True)
    assert board.contacts() == [True] * 4
    board.set_all(False)
    assert board.contacts() == [False] * 4


def test_stuck_relay_is_detected_by_readback() -> None:
    sim, board = make()
    board.open()
    sim.stick(1, energised=False)
    board.set_all(True)
    assert board.verify_relays() == [1]
    with pytest.raises(BoardError, match="relay\\(s\\) 1 do not follow"):
        board.check_relays()


def test_hook_sense_reports_off_hook_pairs() -> None:
    sim, board = make()
    board.open()
    sim.off_hook.add(3)
    assert board.hooks() == [False, False, False, True]


def test_rail_and_temperature_readings() -> None:
    sim, board = make()
    board.open()
    sim.set_rail(12.34, 1.25)
    rail = board.read_rail()
    assert rail.volts == pytest.approx(12.34, abs=0.004)  # 4 mV LSB
    assert rail.amps == pytest.approx(1.25, abs=0.001)  # 10 µV / 0.1 Ω LSB
    sim.set_rail(0.0, 0.0)
    assert board.read_rail().volts == 0.0
    sim.lm75.celsius = -12.625
    assert board.temperature() == -12.625
    sim.lm75.celsius = 41.5
    assert board.temperature() == 41.5


def test_ina219_register_map_is_msb_first() -> None:
    sim = SimBoard()
    sim.set_rail(16.0)
    word = sim.read_word_data(0x40, 2)
    raw = ((word & 0xFF) << 8) | (word >> 8)
    assert raw >> 3 == 4000 and raw & 0x2  # 16 V / 4 mV, CNVR set
    assert sim.read_word_data(0x40, 0) == 0x9F39  # 0x399F swapped by SMBus


def test_nack_and_bus_error_raise_board_errors_naming_the_chip() -> None:
    sim, board = make()
    board.open()
    sim.nack.add(0x40)
    with pytest.raises(BoardError, match=r"INA219 at 0x40.*no acknowledge") as info:
        board.read_rail()
    assert info.value.error_code == 121
    sim.nack.clear()
    sim.bus_error = True
    with pytest.raises(BoardError, match=r"PCA9555 at 0x20.*bus error") as info:
        board.set_relay(0, True)
    assert info.value.error_code == errno.EIO


def test_transient_nack_is_retried() -> None:
    sim, board = make()
    board.open()
    calls = {"n": 0}
    real = sim.read_byte_data

    def flaky(addr: int, reg: int, force: bool | None = None) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(121, "Remote I/O error")
        return real(addr, reg)

    sim.read_byte_data = flaky  # type: ignore[method-assign]
    assert board.contacts() == [False] * 4
    assert calls["n"] == 2


def test_eeprom_page_write_with_write_cycle_and_readback() -> None:
    clock = Clock()
    _, board = make(clock)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.t += seconds

    board._sleep = sleep
    ident = BoardIdentity("NEW-1", "LIFELINE-2", 3, (PairPins(0, 0, 4), PairPins(1, 1, 5)))
    board.write_identity(ident)
    image = encode(ident)
    assert len(image) == 47
    assert board.read_eeprom(0, len(image)) == image
    assert decode(board.read_eeprom(0, 65)) == ident
    assert len(waits) == 6  # 47 bytes in 8-byte pages, t_WR after each


def test_eeprom_busy_during_write_cycle_does_not_acknowledge() -> None:
    clock = Clock()
    sim = SimBoard(now=clock)
    sim.write_i2c_block_data(0x50, 0, [1, 2, 3])
    with pytest.raises(OSError) as info:
        sim.read_i2c_block_data(0x50, 0, 3)
    assert info.value.errno == 121
    clock.t += 0.006
    assert sim.read_i2c_block_data(0x50, 0, 3) == [1, 2, 3]


def test_blank_or_corrupt_eeprom_refuses_to_open() -> None:
    sim = SimBoard()
    board = open_board("sim:", bus=sim, sleep=lambda s: None)
    with pytest.raises(BoardInitError, match="no identity"):
        board.open()
    program_identity(sim)
    sim.eeprom.memory[10] ^= 0xFF
    with pytest.raises(BoardInitError, match="checksum"):
        board.open()


def test_crc16_ccitt_check_value() -> None:
    assert crc16_ccitt(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value


def test_watchdog_expiry_drops_every_coil() -> None:
    clock = Clock()
    dog = SimWatchdog(2.0, now=clock)
    sim = SimBoard(now=clock, watchdog=dog)
    program_identity(sim)
    board = open_board("sim:", bus=sim, sleep=lambda s: None)
    board.open()
    dog.open()
    board.set_all(True)
    clock.t += 1.5
    dog.write(b"\0")
    assert board.contacts() == [True] * 4
    clock.t += 2.5
    assert board.contacts() == [False] * 4
    assert not any(sim.relay_energised(i) for i in range(4))
    assert board.verify_relays() == [0, 1, 2, 3]  # commanded on, contacts off


def test_same_driver_over_the_simulator_socket() -> None:
    sim = SimBoard([RelayPins(0, 0, 4), RelayPins(1, 1, 5)])
    program_identity(sim)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "board.sock")
        server = BoardServer(sim, path)
        try:
            board = open_board(f"sim:{path}")
            assert board.open().pairs[1] == PairPins(1, 1, 5)
            board.set_relay(1, True)
            assert sim.relay_energised(1) and board.contacts() == [False, True]
            sim.nack.add(0x48)
            with pytest.raises(BoardError, match="LM75 at 0x48"):
                board.temperature()
            board.close()
            assert not sim.relay_energised(1)  # close de-energises
        finally:
            server.close()


def test_simulator_socket_absent_is_an_init_error() -> None:
    with pytest.raises(BoardInitError, match="cannot connect"):
        SimBusClient("/nonexistent/board.sock")


def test_transfers_from_several_threads_do_not_mix_over_the_socket() -> None:
    sim = SimBoard()
    program_identity(sim)
    sim.set_rail(12.0, 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        server = BoardServer(sim, os.path.join(tmp, "board.sock"))
        try:
            board = open_board(f"sim:{server.path}")
            board.open()
            board.set_relay(0, True)
            wrong: list[object] = []

            def hammer(kind: str) -> None:
                for _ in range(150):
                    if kind == "relays":
                        value: object = board.contacts()
                        if value != [True, False, False, False]:
                            wrong.append(value)
                    else:
                        value = board.read_rail().volts
                        if value != 12.0:
                            wrong.append(value)

            threads = [threading.Thread(target=hammer, args=(k,))
                       for k in ("relays", "rail", "relays", "rail")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert wrong == []
            board.close()
        finally:
            server.close()


def test_absent_i2c_adapter_is_an_init_error() -> None:
    with pytest.raises(BoardInitError, match="/dev/i2c-99: cannot open"):
        open_board("i2c:/dev/i2c-99")


def test_pca9555_register_pairs_toggle() -> None:
    sim = SimBoard()
    sim.write_i2c_block_data(0x20, 3, [0x11, 0x22, 0x33])  # 3, then 2, then 3 again
    assert sim.expander.output == [0x22, 0x33]
    assert sim.read_i2c_block_data(0x20, 6, 4) == [0xFF, 0xFF, 0xFF, 0xFF]  # config POR
    sim.write_byte_data(0x20, 4, 0x0F)  # polarity inversion on port 0 pins 0-3
    sim.write_byte_data(0x20, 6, 0xFF)
    assert sim.read_byte_data(0x20, 0) == 0xF0  # inputs float high, four inverted
    with pytest.raises(OSError):
        sim.write_byte_data(0x20, 9, 0)


def test_wrong_chip_at_the_ina219_address_is_refused() -> None:
    sim, board = make()

    class NotAnIna219:
        def read_register(self, register: int) -> bytes:
            return b"\x12\x34"

        def write_register(self, register: int, data: bytes) -> None:
            return None

        def busy(self) -> bool:
            return False

    sim.chips[0x40] = NotAnIna219()
    with pytest.raises(BoardInitError, match="reads back 0x1234"):
        board.open()


def test_closing_the_sim_bus_after_the_simulator_went_away_is_quiet(tmp_path: Path) -> None:
    """Ctrl-C stops the rig with the daemons: powerd's close must not trace back."""
    path = str(tmp_path / "board.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    bus = SimBusClient(path)
    peer, _ = server.accept()
    peer.close()
    server.close()
    with pytest.raises(OSError, match="board simulator"):
        bus.write_i2c_block_data(0x20, 2, [0xFF])  # stays buffered: the flush failed
    bus.close()  # used to raise BrokenPipeError flushing it again
