"""Time conditions at their boundaries, across DST and on holidays (IVR-4)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appliance.config.sections.ivr import HolidayCalendar, ScheduleEntry
from appliance.ivr.schedule import Schedule, ScheduleError

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


@pytest.fixture
def office() -> Schedule:
    entry = ScheduleEntry(
        name="office",
        timezone="Europe/Berlin",
        hours={
            "mon": ["08:00-12:00", "13:00-17:30"],
            "fri": ["08:00-14:00"],
            "sat": ["10:00-24:00"],
        },
        holidays=["de"],
    )
    calendars = {"de": HolidayCalendar(name="de", dates=["12-25", "2026-11-24"])}
    return Schedule(entry, calendars)


def test_opening_is_inclusive_and_closing_exclusive(office: Schedule) -> None:
    # 2026-11-23 is a Monday
    assert office.state(at("2026-11-23T07:59:59")) == "closed"
    assert office.state(at("2026-11-23T08:00:00")) == "open"
    assert office.state(at("2026-11-23T11:59:59")) == "open"
    assert office.state(at("2026-11-23T12:00:00")) == "closed"
    assert office.state(at("2026-11-23T13:00:00")) == "open"
    assert office.state(at("2026-11-23T17:29:59")) == "open"
    assert office.state(at("2026-11-23T17:30:00")) == "closed"


def test_days_without_hours_are_closed_and_24_00_reaches_midnight(office: Schedule) -> None:
    assert office.state(at("2026-11-25T10:00:00")) == "closed"  # Wednesday: no hours
    assert office.state(at("2026-11-28T23:59:59")) == "open"  # Saturday until 24:00
    assert office.state(at("2026-11-29T00:00:00")) == "closed"  # Sunday


def test_holidays_yearly_and_dated(office: Schedule) -> None:
    assert office.state(at("2026-11-24T09:00:00")) == "holiday"  # dated, a Tuesday
    assert office.state(at("2027-11-24T09:00:00")) == "closed"  # only that year (a Wednesday)
    assert office.state(at("2028-12-25T09:00:00")) == "holiday"  # every year (a Monday)
    assert office.state(at("2028-12-18T09:00:00")) == "open"  # the Monday before


def test_local_time_follows_daylight_saving(office: Schedule) -> None:
    # Friday 2026-03-27 (CET, UTC+1) and Friday 2026-04-03 (CEST, UTC+2): 08:00 local opens
    assert office.state(dt.datetime(2026, 3, 27, 7, 0, tzinfo=dt.UTC).timestamp()) == "open"
    assert office.state(dt.datetime(2026, 4, 3, 6, 0, tzinfo=dt.UTC).timestamp()) == "open"
    assert office.state(dt.datetime(2026, 4, 3, 5, 59, tzinfo=dt.UTC).timestamp()) == "closed"


@pytest.mark.parametrize(
    ("hours", "holidays", "message"),
    [
        ({"mon": ["17:00-08:00"]}, [], "ends before it starts"),
        ({"mon": ["8-17"]}, [], "not a range"),
        ({"monday": ["08:00-17:00"]}, [], "'monday' is not one of"),
        ({}, ["nowhere"], "calendar 'nowhere' is not defined"),
    ],
)
def test_bad_schedules_are_refused_with_a_clear_message(hours, holidays, message) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule(ScheduleEntry(name="s", hours=hours, holidays=holidays), {})


def test_bad_holiday_date_is_refused() -> None:
    with pytest.raises(ScheduleError, match="02-30"):
        Schedule(
            ScheduleEntry(name="s", holidays=["x"]),
            {"x": HolidayCalendar(name="x", dates=["02-30"])},
        )
