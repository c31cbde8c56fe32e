"""The Board's fixtures (seven sitting directors, the rule in force, a staff member), for the
members' motions and the lifecycle's votes; and a way to say what day it is."""

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from tests.board.conftest import board, rule, staff  # noqa: F401 - fixtures


@pytest.fixture
def today_is(monkeypatch) -> Callable[[datetime.date], None]:
    """Make ``timezone.localdate()`` answer ``day``, for tests whose dates are written out (a
    notice for 10 March 2026 awaits an answer only before then), whatever day the suite runs.
    ``timezone.localdate(value)`` still converts ``value``."""
    real = timezone.localdate

    def freeze(day: datetime.date) -> None:
        def localdate(value=None, timezone=None):
            return day if value is None else real(value, timezone)

        monkeypatch.setattr("django.utils.timezone.localdate", localdate)

    return freeze
