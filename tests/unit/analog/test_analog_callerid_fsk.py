"""FSK caller ID on the analog ports, through the air: what FXS sends, what FXO hears.

Physical layer per ETSI EN 300 659-1 §6.1 (V.23) and Telcordia GR-30-CORE §3
(Bell 202): channel seizure, mark signal, 8N1 characters; data link per EN 300
659-3 §5 (SDMF/MDMF, checksum). The same sender (``callerid_tx``) and receiver
(``receivers.FskCallerIdReceiver``) the ports use; minimodem and multimon-ng
check them from outside in tests/integration/media/test_media_external_tools.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from appliance.media.dsp.fsk import FskModem, fsk_modulate, uart_bits
from appliance.signalling.analog.callerid import CallerId, build_mdmf, build_sdmf, parse_fsk
from appliance.signalling.analog.callerid_tx import MARK_BITS, SEIZURE_BITS, fsk_burst
from appliance.signalling.analog.listen import CallerIdBurst, CallerIdGarbled, ListenEvent
from appliance.signalling.analog.receivers import MODEMS, FskCallerIdReceiver

FULL = CallerId(number="01062345678", name="ZHANG SAN", datetime="11231015")


def heard(samples: np.ndarray, standard: str = "v23") -> ListenEvent:
    return FskCallerIdReceiver(MODEMS[standard]).decode(samples)


def number_heard(samples: np.ndarray, standard: str = "v23") -> CallerId:
    event = heard(samples, standard)
    assert isinstance(event, CallerIdBurst), event
    return parse_fsk(event.message)


def stream(samples: np.ndarray, standard: str = "v23") -> list[ListenEvent]:
    """Frame by frame, as an FXO port between rings."""
    receiver = FskCallerIdReceiver(MODEMS[standard])
    receiver.enabled = True
    n = len(samples) // 160 * 160
    return [e for frame in samples[:n].reshape(-1, 160) for e in receiver.listen(frame)]


@pytest.mark.parametrize("standard", ["bell202", "v23"])
@pytest.mark.parametrize("build", [build_mdmf, build_sdmf])
def test_what_fxs_sends_fxo_hears(standard: str, build: object) -> None:
    message = build(FULL)  # type: ignore[operator]
    got = number_heard(fsk_burst(message, standard), standard)
    assert got.number == FULL.number and got.datetime == FULL.datetime


def test_a_corrupted_octet_is_garbled_never_a_wrong_number() -> None:
    message = bytearray(build_mdmf(FULL))
    message[10] ^= 0x01  # one digit of the number changes
    event = heard(fsk_burst(bytes(message), "v23"))
    assert isinstance(event, CallerIdGarbled) and "checksum" in event.reason


def test_a_truncated_burst_and_silence_are_garbled() -> None:
    burst = fsk_burst(build_mdmf(FULL), "v23")
    assert isinstance(heard(burst[: len(burst) * 2 // 3]), CallerIdGarbled)
    silence = heard(np.zeros(4000, np.int16))
    assert isinstance(silence, CallerIdGarbled) and "without readable" in silence.reason


def test_20_db_snr_at_minus_30_dbm0_decodes() -> None:
    rng = np.random.default_rng(11)
    burst = fsk_burst(build_mdmf(FULL), "v23", dbm0=-30).astype(float)
    noisy = (burst + rng.normal(0, burst.std() / 10, len(burst))).astype(np.int16)
    assert number_heard(noisy) == FULL


def _burst_with(modem: FskModem, message: bytes) -> np.ndarray:
    bits = np.concatenate([np.tile(np.array([0, 1], np.uint8), SEIZURE_BITS // 2),
                           np.ones(MARK_BITS["v23"], np.uint8), uart_bits(message),
                           np.ones(8, np.uint8)])
    return fsk_modulate(bits, modem)


@pytest.mark.parametrize("rate_error", [-0.01, 0.01])
def test_bit_rate_within_one_percent_decodes(rate_error: float) -> None:
    # EN 300 659-1 §6.1.1 / V.23: 1200 baud +/- 1 %
    v23 = MODEMS["v23"]
    modem = FskModem("v23", v23.mark_hz, v23.space_hz, 1200 * (1 + rate_error))
    assert number_heard(_burst_with(modem, build_mdmf(FULL))) == FULL


@pytest.mark.parametrize("shift", [-0.015, 0.015])
def test_carrier_frequencies_off_by_1_5_percent_decode(shift: float) -> None:
    v23 = MODEMS["v23"]
    modem = FskModem("v23", v23.mark_hz * (1 + shift), v23.space_hz * (1 + shift))
    assert number_heard(_burst_with(modem, build_mdmf(FULL))) == FULL


def test_between_rings_one_burst_is_heard_and_a_ring_trip_click_is_not() -> None:
    silence = np.zeros(8000, np.int16)
    click = np.full(160, 8000, np.int16)  # a ring-trip transient: too short to be caller ID
    burst = fsk_burst(build_mdmf(FULL), "bell202", dbm0=-38.0)  # near the -40 dBm0 floor
    events = stream(np.concatenate([silence, burst, silence]), "bell202")
    assert [parse_fsk(e.message) for e in events if isinstance(e, CallerIdBurst)] == [FULL]
    clicks = stream(np.concatenate([silence, click, silence]), "bell202")
    assert all(isinstance(e, CallerIdGarbled) for e in clicks)


def test_below_minus_40_dbm0_is_no_carrier_at_all() -> None:
    burst = fsk_burst(build_mdmf(FULL), "bell202", dbm0=-50.0)
    assert stream(np.concatenate([np.zeros(4000, np.int16), burst]), "bell202") == []
