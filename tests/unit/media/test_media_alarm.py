"""The lost-audio alarm (appliance/media/alarm.py): a share of frames over a minute."""

from __future__ import annotations

from appliance.media.alarm import LostAudioAlarm

CHANNELS = 60
TICKS_PER_S = 50


def test_raised_above_the_share_over_the_window_and_cleared_when_loss_stops() -> None:
    alarm = LostAudioAlarm(5.0, window=60.0)  # 5 per thousand
    lost = ticks = 0
    changes = []
    for second in range(0, 300, 5):
        ticks += 5 * TICKS_PER_S * CHANNELS
        if 60 <= second < 120:
            lost += 5 * TICKS_PER_S * CHANNELS // 100  # 1 % lost: ten times the budget
        elif second < 60:
            lost += 5 * TICKS_PER_S * CHANNELS // 1000  # 0.1 %: within it
        changes.append((second, alarm.update(float(second), lost, ticks)))
    raised = [s for s, c in changes if c is True]
    cleared = [s for s, c in changes if c is False]
    # 1 % from second 60: the minute's share passes 5 per thousand after about 27 s of it
    assert len(raised) == 1 and 80 <= raised[0] <= 90, changes
    assert len(cleared) == 1 and 120 <= cleared[0] <= 180, changes
    assert not alarm.raised and alarm.share == 0.0


def test_zero_never_raises() -> None:
    alarm = LostAudioAlarm(0.0)
    assert alarm.update(0.0, 0, 0) is None
    assert alarm.update(10.0, 10_000, 10_000) is None and not alarm.raised
