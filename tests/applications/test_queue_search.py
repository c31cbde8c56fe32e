"""The staff queue opens on what is not yet decided, but a search looks through every application
(unless a status was chosen), and the page says which filters narrow the list."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import Status
from tests.applications.conftest import SubmittedApplicationFactory

pytestmark = pytest.mark.django_db

QUEUE = "/admin/applications/application/"


@pytest.fixture
def decided():
    return SubmittedApplicationFactory(
        org_name="Harbour Watch", status=Status.APPROVED, decided_at=timezone.now()
    )


@pytest.fixture
def waiting():
    return SubmittedApplicationFactory(org_name="Harbour Youth Forum", status=Status.SUBMITTED)


def listed(response) -> set[str]:
    assert response.status_code == 200
    return {application.org_name for application in response.context["cl"].result_list}


def filters_notice(response) -> str:
    match = re.search(r'<p id="filters-in-use"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    assert match, "the page does not say which filters are in use"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def selected_status(response) -> str:
    """The choice the status filter shows as selected in the sidebar."""
    html = response.content.decode()
    block = re.search(r"By status\s*</summary>(.*?)</details>", html, re.S)
    assert block, "no status filter on the page"
    chosen = re.search(r'<li class="selected">\s*<a[^>]*>(.*?)</a>', block.group(1), re.S)
    assert chosen
    return unescape(chosen.group(1)).strip()


def test_a_search_finds_an_application_that_has_been_decided(staff_client, decided, waiting):
    response = staff_client.get(QUEUE, {"q": "Harbour"})

    assert listed(response) == {"Harbour Watch", "Harbour Youth Forum"}
    assert selected_status(response) == "All"


def test_a_search_by_reference_finds_a_withdrawn_application(staff_client):
    withdrawn = SubmittedApplicationFactory(status=Status.WITHDRAWN)

    response = staff_client.get(QUEUE, {"q": withdrawn.reference})

    assert listed(response) == {withdrawn.org_name}


def test_a_search_keeps_a_status_chosen_explicitly(staff_client, decided, waiting):
    in_queue = staff_client.get(QUEUE, {"q": "Harbour", "status": "queue"})
    approved = staff_client.get(QUEUE, {"q": "Harbour", "status": "approved"})

    assert listed(in_queue) == {"Harbour Youth Forum"}
    assert listed(approved) == {"Harbour Watch"}
    assert selected_status(approved) == "Approved"


def test_without_a_search_the_queue_still_opens_on_undecided_applications(
    staff_client, decided, waiting
):
    response = staff_client.get(QUEUE)

    assert listed(response) == {"Harbour Youth Forum"}
    assert selected_status(response) == "In the queue (not yet decided)"


def test_the_page_says_the_default_filter_is_on(staff_client, decided, waiting):
    response = staff_client.get(QUEUE)

    assert filters_notice(response) == "Filters in use: Status: In the queue (not yet decided) ."


def test_the_page_says_a_search_is_not_narrowed_by_status(staff_client, decided, waiting):
    response = staff_client.get(QUEUE, {"q": "Harbour"})

    assert filters_notice(response) == "No filter in use: the search looks through the whole list."


def test_the_page_names_every_filter_chosen(staff_client, decided, waiting):
    response = staff_client.get(
        QUEUE, {"status": "approved", "category__exact": "ngo", "age": "week"}
    )

    assert filters_notice(response) == (
        "Filters in use: Status: Approved ; "
        "Statutory category: National or international non-governmental organisation ; "
        "Waiting time: less than a week ."
    )
    assert listed(response) == {"Harbour Watch"}


def test_a_lookup_written_into_the_address_is_named_too(staff_client, decided, waiting):
    response = staff_client.get(QUEUE, {"status": "all", "org_name": "Harbour Watch"})

    assert filters_notice(response) == "Filters in use: Org_name: Harbour Watch ."
    assert listed(response) == {"Harbour Watch"}


def test_showing_all_statuses_is_not_called_a_filter(staff_client, decided, waiting):
    response = staff_client.get(QUEUE, {"status": "all"})

    assert filters_notice(response) == "No filter in use."
    assert listed(response) == {"Harbour Watch", "Harbour Youth Forum"}


def test_a_search_costs_a_fixed_number_of_queries(staff_client, django_assert_num_queries):
    for _ in range(3):
        SubmittedApplicationFactory(org_name="Harbour Watch", status=Status.APPROVED)
    staff_client.get(QUEUE)  # the first request reads the person's account, later ones keep it
    with CaptureQueriesContext(connection) as few:
        staff_client.get(QUEUE, {"q": "Harbour"})

    for _ in range(20):
        SubmittedApplicationFactory(org_name="Harbour Watch", status=Status.REJECTED)
    with django_assert_num_queries(len(few.captured_queries)):
        response = staff_client.get(QUEUE, {"q": "Harbour"})

    assert len(response.context["cl"].result_list) == 23
