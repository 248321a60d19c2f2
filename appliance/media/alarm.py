"""The lost-audio alarm: raised while too many frames are lost, cleared when it stops.

Every frame the engine concealed (no input at its tick) or that slipped in or out
(appliance/media/slip.py) is audio a caller did not hear as sent. Counted alone,
they are easy to miss; above ``threshold`` parts per thousand of all channel-ticks
over the last ``window`` seconds, telephonyd raises ``media.alarm`` on the event bus
and says so in its log and status, as a span raises a slip alarm (G.823 budgets
controlled slips in slips per day; here the budget is a share of the frames).
"""

from __future__ import annotations

from collections import deque


class LostAudioAlarm:
    """Fed the engine's running totals; says when the alarm is raised or cleared."""

    def __init__(self, threshold_permille: float, window: float = 60.0) -> None:
        self.threshold = threshold_permille / 1000.0
        self.window = window
        self.raised = False
        self.share = 0.0  # lost / channel-ticks over the window, at the last update
        self._samples: deque[tuple[float, int, int]] = deque()  # (time, lost, channel-ticks)

    def update(self, now: float, lost: int, channel_ticks: int) -> bool | None:
        """Take the totals at ``now``; True: just raised, False: just cleared, None: as was."""
        self._samples.append((now, lost, channel_ticks))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window:
            self._samples.popleft()
        _, lost0, ticks0 = self._samples[0]
        done = channel_ticks - ticks0
        self.share = (lost - lost0) / done if done > 0 else 0.0
        above = self.threshold > 0 and self.share > self.threshold
        if above == self.raised:
            return None
        self.raised = above
        return above
