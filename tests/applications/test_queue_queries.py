"""The staff queue costs the same number of queries whatever the number of applications."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import Status
from tests.applications.conftest import SubmittedApplicationFactory
from tests.budgets import SESSION_QUERIES

pytestmark = pytest.mark.django_db

QUEUE = "/admin/applications/application/"

# Session, two-factor check (twice), permissions (user and group), the count, the voting rule
# check of the admin's menu, the page of rows, and the countries for the country filter (the
# person's account is kept after their first request: accounts.backends).
QUEUE_QUERIES = SESSION_QUERIES + 8


def fill_queue(count: int) -> None:
    statuses = itertools.cycle([Status.SUBMITTED, Status.INFO_REQUESTED, Status.WITH_BOARD])
    categories = itertools.cycle(["city", "ngo", "institute", "private"])
    countries = itertools.cycle(["FR", "CA", "SN", "BR", "JP"])
    now = timezone.now()
    for days in range(count):
        SubmittedApplicationFactory(
            status=next(statuses),
            category=next(categories),
            country=next(countries),
            submitted_at=now - datetime.timedelta(days=days),
        )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "?status=all&category=ngo"], ids=["queue", "filtered"])
def test_the_queue_runs_a_fixed_number_of_queries(staff_client, django_assert_num_queries, query):
    fill_queue(3)
    staff_client.get(QUEUE + query)  # the first request reads the person's account
    few = queries_for(staff_client, QUEUE + query)

    fill_queue(27)
    with django_assert_num_queries(QUEUE_QUERIES):
        response = staff_client.get(QUEUE + query)

    assert response.status_code == 200
    assert few == QUEUE_QUERIES


def test_the_queue_shows_every_row_it_counted(staff_client):
    fill_queue(30)

    response = staff_client.get(QUEUE)

    assert len(response.context["cl"].result_list) == 30
