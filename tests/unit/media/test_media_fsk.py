"""The FSK modem (Bell 202 / V.23) under caller ID: 8N1 UART framing both ways."""

from __future__ import annotations

import numpy as np

from appliance.media.dsp.fsk import BELL202, fsk_discriminate, fsk_modulate, uart_bits, uart_decode


def test_plain_uart_text_over_bell202() -> None:
    text = b"The quick brown fox 0123456789"
    samples = fsk_modulate(
        np.concatenate([np.ones(20, np.uint8), uart_bits(text), np.ones(4, np.uint8)]), BELL202
    )
    chars = uart_decode(fsk_discriminate(samples, BELL202), BELL202)
    assert bytes(c.value for c in chars) == text and all(c.framing_ok for c in chars)
