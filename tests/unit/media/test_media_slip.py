"""The slip buffer's one-frame path keeps the same FIFO and slip count as the vectorised
one (G.704/G.823 controlled slips): a port's or a SIP leg's frame takes the cheap path."""

from __future__ import annotations

import numpy as np

from appliance.media.slip import SlipBuffer


def frame(value: int) -> np.ndarray:
    return np.full(160, value, np.int16)


def test_one_frame_pushes_queue_and_slip_as_the_vectorised_push_does() -> None:
    one, many = SlipBuffer(4, depth=3), SlipBuffer(4, depth=3)
    slips_one = slips_many = 0
    for value in range(1, 6):  # five frames into a three-frame FIFO: two over-run slips
        slips_one += one.push_one(2, frame(value))
        slips_many += many.push(np.array([2], np.intp), frame(value)[None, :])
    assert slips_one == slips_many == 2 and one.slips[2] == 2
    for _ in range(3):
        got_one, got_many = np.zeros((4, 160), np.int16), np.zeros((4, 160), np.int16)
        assert one.pop_into(got_one).tolist() == many.pop_into(got_many).tolist() == [2]
        assert got_one[2, 0] == got_many[2, 0]
    assert got_one[2, 0] == 5 and one.queued(2) == 0  # oldest dropped, newest kept, in order
