"""The simulator link of a sim analog port: a stalled simulator costs one warning, not one per frame."""

from __future__ import annotations

import logging
import socket

import numpy as np
import pytest

from drivers.analog.sim import _SimLink


def test_a_stalled_simulator_is_warned_once_and_the_drops_are_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    link = _SimLink(ours, "fxs1")
    audio = np.zeros(160, np.int16)
    with caplog.at_level(logging.WARNING, logger="drivers.analog.sim"):
        sent = 0
        while link.frames_dropped < 50:  # nobody reads "theirs": the socket fills up
            link.send(0, audio)
            sent += 1
        assert sent - link.frames_dropped > 0
        warnings = [r for r in caplog.records if "not reading" in r.getMessage()]
        assert len(warnings) == 1
    ours.close()
    theirs.close()


def test_after_a_stall_clears_the_next_stall_is_warned_again(
        caplog: pytest.LogCaptureFixture) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.setblocking(False)
    link = _SimLink(ours, "fxs1")
    audio = np.zeros(160, np.int16)
    with caplog.at_level(logging.WARNING, logger="drivers.analog.sim"):
        for _ in range(2):
            dropped = link.frames_dropped
            while link.frames_dropped < dropped + 3:
                link.send(0, audio)
            while True:
                try:
                    theirs.recv(4096)
                except BlockingIOError:
                    break
            link.send(0, audio)  # delivered: the stall is over
        assert len([r for r in caplog.records if "not reading" in r.getMessage()]) == 2
    ours.close()
    theirs.close()
