"""Time conditions: weekly opening hours plus holiday calendars (IVR-4).

A time is *holiday* when its local date is in one of the schedule's
calendars, else *open* when it falls in one of that weekday's ranges
``HH:MM-HH:MM`` (start inclusive, end exclusive; ``24:00`` ends at midnight),
else *closed*.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.config.sections.ivr import HolidayCalendar, ScheduleEntry

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]|24):([0-5][0-9])")
_DATE = re.compile(r"(?:(\d{4})-)?(\d{2})-(\d{2})")


class ScheduleError(ValueError):
    pass


def parse_range(text: str) -> tuple[int, int]:
    """'08:30-17:00' -> (510, 1020) minutes of the day."""
    m = _RANGE.fullmatch(text)
    if m is None:
        raise ScheduleError(f"{text!r} is not a range HH:MM-HH:MM")
    start = int(m[1]) * 60 + int(m[2])
    end = int(m[3]) * 60 + int(m[4])
    if end > 24 * 60:
        raise ScheduleError(f"{text!r} ends after 24:00")
    if end <= start:
        raise ScheduleError(f"{text!r} ends before it starts; split a night into two ranges")
    return start, end


def parse_date(text: str) -> tuple[int | None, int, int]:
    m = _DATE.fullmatch(text)
    if m is None:
        raise ScheduleError(f"{text!r} is not a date YYYY-MM-DD or MM-DD")
    year = int(m[1]) if m[1] else None
    month, day = int(m[2]), int(m[3])
    try:
        dt.date(year or 2000, month, day)  # 2000: a leap year, so 02-29 is allowed yearly
    except ValueError as exc:
        raise ScheduleError(f"{text!r}: {exc}") from None
    return year, month, day


class Schedule:
    """One schedule ready to answer open / closed / holiday for an instant."""

    def __init__(self, entry: ScheduleEntry, calendars: dict[str, HolidayCalendar]) -> None:
        self.name = entry.name
        try:
            self.zone = ZoneInfo(entry.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"schedule {entry.name}: unknown time zone {entry.timezone!r}"
            ) from None
        self.hours: dict[int, list[tuple[int, int]]] = {i: [] for i in range(7)}
        for weekday, ranges in entry.hours.items():
            if weekday not in DAYS:
                raise ScheduleError(
                    f"schedule {entry.name}: {weekday!r} is not one of {', '.join(DAYS)}"
                )
            self.hours[DAYS.index(weekday)] = [parse_range(r) for r in ranges]
        self.dated: set[dt.date] = set()
        self.yearly: set[tuple[int, int]] = set()
        for cal_name in entry.holidays:
            if cal_name not in calendars:
                raise ScheduleError(
                    f"schedule {entry.name}: holiday calendar {cal_name!r} is not defined"
                )
            for text in calendars[cal_name].dates:
                year, month, day = parse_date(text)
                if year is None:
                    self.yearly.add((month, day))
                else:
                    self.dated.add(dt.date(year, month, day))

    def state(self, at: float) -> str:
        """'open', 'closed' or 'holiday' at Unix time ``at``."""
        local = dt.datetime.fromtimestamp(at, self.zone)
        date = local.date()
        if date in self.dated or (date.month, date.day) in self.yearly:
            return "holiday"
        minute = local.hour * 60 + local.minute
        for start, end in self.hours[local.weekday()]:
            if start <= minute < end:
                return "open"
        return "closed"
