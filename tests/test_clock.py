"""The test clock itself: one aware session instant in Paris, time flowing from it, naive travel refused."""

import datetime
import os

import pytest
import time_machine
from django.utils import timezone

from tests import clock


def test_the_session_runs_on_the_pinned_instant_in_paris(pytestconfig):
    instant = clock.parse_instant(os.environ[clock.ENV])
    now = timezone.now()
    assert instant <= now < instant + datetime.timedelta(hours=3)  # flowing from it, for the session's length
    assert clock.today() == timezone.localtime(now, clock.PARIS).date()
    assert datetime.datetime.now(clock.PARIS) - now < datetime.timedelta(seconds=5)  # every clock agrees


def test_time_flows_from_the_session_instant():
    before = timezone.now()
    while timezone.now() == before:
        pass
    assert timezone.now() > before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-01-01T00:30:00+01:00", clock.paris(2027, 1, 1, 0, 30)),
        ("2027-01-01T00:30", clock.paris(2027, 1, 1, 0, 30)),  # no offset: Paris local time
        ("2027-06-30T21:45:00+00:00", clock.paris(2027, 6, 30, 23, 45)),
        ("2027-10-31T02:30:00+01:00", datetime.datetime(2027, 10, 31, 1, 30, tzinfo=datetime.UTC)),  # 2nd 02:30
    ],
)
def test_the_session_instant_is_read_as_paris_time(value, expected):
    instant = clock.parse_instant(value)
    # compared in UTC: PEP 495 makes the second 02:30 of October unequal to any other zone's time
    assert instant.astimezone(datetime.UTC) == expected.astimezone(datetime.UTC) and instant.tzinfo is clock.PARIS


@pytest.mark.parametrize("value", ["2027-03-28T02:30", "demain", "2027-02-29T12:00"])
def test_an_impossible_session_instant_is_refused(value):
    with pytest.raises(ValueError):
        clock.parse_instant(value)


@pytest.mark.parametrize(
    "destination",
    [
        datetime.datetime(2027, 1, 1, 11),
        datetime.date(2027, 1, 1),
        "2027-01-01T11:00:00",
        lambda: datetime.datetime(2027, 1, 1, 11),
    ],
    ids=["naive datetime", "date", "naive string", "callable giving a naive datetime"],
)
def test_naive_travel_fails_loudly(destination):
    with pytest.raises(clock.NaiveTravelError):
        time_machine.travel(destination)
    with pytest.raises(clock.NaiveTravelError), time_machine.travel(clock.paris(2027, 1, 1, 11)) as traveller:
        traveller.move_to(destination)


def test_aware_travel_goes_there_and_comes_back():
    before = timezone.now()
    with time_machine.travel(clock.paris(2028, 2, 29, 23, 59), tick=False):
        assert clock.today() == datetime.date(2028, 2, 29)
        with time_machine.travel("2028-03-01T00:30:00+01:00", tick=False):
            assert clock.today() == datetime.date(2028, 3, 1)
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1), tick=False):
            assert clock.today() == datetime.date(2028, 3, 1)  # Paris, though the destination was UTC
    assert before <= timezone.now() < before + datetime.timedelta(minutes=5)


def test_a_fixtures_story_never_happens_after_now():
    now = timezone.localtime(timezone.now(), clock.PARIS)
    assert clock.on_day(now.date()) <= timezone.now()
    yesterday = clock.on_day(clock.days_ago(1))
    assert yesterday.tzinfo is clock.PARIS and yesterday < timezone.now()
    with pytest.raises(ValueError):
        clock.on_day(clock.days_ahead(1))
