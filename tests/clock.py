"""The test session's clock: one aware instant in Paris, dates relative to it, and travel that refuses naive times.

The root conftest fixes the instant once (``VIGIE_TEST_NOW``, ISO-8601; without an offset it is Paris local
time; unset, the real now) and travels there for the whole session with time-machine, time flowing on.
Everything in the tests is dated relative to ``timezone.localdate()`` / ``timezone.now()`` of that clock.
"""

import datetime
import os
import time
from collections.abc import Generator
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")
ENV = "VIGIE_TEST_NOW"


# --- the session instant ------------------------------------------------------------------------------


def parse_instant(value: str) -> datetime.datetime:
    """`VIGIE_TEST_NOW` as an aware Paris datetime; an offset-less value is Paris local time."""
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{ENV}={value!r} : date ISO-8601 attendue, par exemple 2027-01-01T00:30:00+01:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
        # a wall time skipped by the spring switch (02:30 on the last Sunday of March) does not exist
        if moment.astimezone(datetime.UTC).astimezone(PARIS).replace(tzinfo=None) != moment.replace(tzinfo=None):
            raise ValueError(f"{ENV}={value!r} : cette heure n'existe pas à Paris (passage à l'heure d'été)")
    return moment.astimezone(PARIS)


def real_now() -> datetime.datetime:
    """The machine's clock, whatever time-machine is doing."""
    hatch = time_machine.escape_hatch
    return datetime.datetime.fromtimestamp(hatch.time.time() if hatch.is_travelling() else time.time(), PARIS)


def session_instant() -> datetime.datetime:
    """The instant the session starts at (read from the environment, which the root conftest fills when unset)."""
    value = os.environ.get(ENV, "").strip()
    return parse_instant(value) if value else real_now()


# --- dates relative to the clock ---------------------------------------------------------------------


def paris(*args) -> datetime.datetime:
    """paris(2027, 3, 28, 3, 30) → that wall time in Paris, aware."""
    return datetime.datetime(*args, tzinfo=PARIS)


def today() -> datetime.date:
    """Today in Paris, by the test clock."""
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def days_ahead(days: int) -> datetime.date:
    return today() + datetime.timedelta(days=days)


def current_quarter() -> str:
    """ "2027Q1" for any day of January to March 2027 (Paris)."""
    day = today()
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def on_day(day: datetime.date, hour: int = 11) -> datetime.datetime:
    """`day` at `hour` o'clock in Paris, never later than now: the moment a fixture's story happened that day."""
    now = timezone.localtime(timezone.now(), PARIS)
    if day > now.date():
        raise ValueError(f"{day} est après aujourd'hui ({now.date()}) : voyagez-y d'abord dans le test")
    if day == now.date():
        return now
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=PARIS)


# --- travel only to aware destinations -----------------------------------------------------------------


class NaiveTravelError(TypeError):
    """time-machine would read a naive destination as UTC: an hour or two off in Paris, and a day at midnight."""


def require_aware(destination):
    """The destination itself if it names an unambiguous instant; NaiveTravelError otherwise."""
    if isinstance(destination, datetime.datetime):
        if destination.tzinfo is None or destination.utcoffset() is None:
            raise NaiveTravelError(
                f"time_machine.travel({destination!r}) : date naïve (lue comme UTC). "
                "Donnez un fuseau, par exemple tests.clock.paris(…) ou timezone.now() + timedelta(…)."
            )
    elif isinstance(destination, datetime.date):
        raise NaiveTravelError(
            f"time_machine.travel({destination!r}) : un jour n'est pas un instant (minuit UTC). "
            "Donnez une heure de Paris : tests.clock.paris(…)."
        )
    elif isinstance(destination, str):
        try:
            parsed = datetime.datetime.fromisoformat(destination)
        except ValueError as exc:
            raise NaiveTravelError(
                f"time_machine.travel({destination!r}) : date ISO-8601 avec fuseau attendue"
            ) from exc
        require_aware(parsed)
    return destination


def _resolved(destination):
    """Callables and generators give their destination now (time-machine reads them once, at construction)."""
    if isinstance(destination, Generator):
        return next(destination)
    if callable(destination):
        return destination()
    return destination


_original_travel = time_machine.travel
_original_traveller = time_machine.Traveller


class AwareTravel(_original_travel):
    """time_machine.travel that refuses a naive destination (installed in place of the original)."""

    def __init__(self, destination, *, tick: bool = True) -> None:
        super().__init__(require_aware(_resolved(destination)), tick=tick)


class AwareTraveller(_original_traveller):
    """The traveller of a `with` block: `move_to` refuses a naive destination too."""

    def move_to(self, destination, tick: bool | None = None) -> None:
        super().move_to(require_aware(_resolved(destination)), tick=tick)


def install_travel_guard() -> None:
    """Every `time_machine.travel(…)` from now on (tests, fixtures, the time_machine fixture) is checked."""
    time_machine.travel = AwareTravel
    time_machine.Traveller = AwareTraveller
