"""Paris calendar arithmetic for the dates Vigie watches: local mornings, midnights, working days."""

import datetime
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone

LOCAL = ZoneInfo(settings.TIME_ZONE)
REMINDER_HOUR = 8  # date-based reminders go out at 08:00, Paris time, not at midnight


def morning(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(REMINDER_HOUR), tzinfo=LOCAL)


def midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=LOCAL)


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, LOCAL).date()


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """Same local time, `days` working days later: weekends and French public holidays skipped."""
    local = timezone.localtime(start, LOCAL)
    day = local.date()
    public_holidays = holidays.country_holidays("FR", years=range(day.year, day.year + 2))
    counted = 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in public_holidays:
            counted += 1
    return datetime.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LOCAL)
