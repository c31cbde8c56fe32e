"""The renewal and retention report: its numbers on a known history, its page under the CSP."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import (
    Category,
    EndReason,
    Membership,
    MembershipKind,
    MembershipRenewal,
    MembershipStatus,
)
from members.reports import membership_report
from tests import factories
from tests.factories import with_totp

pytestmark = pytest.mark.django_db

REPORT = "/admin/members/membership/report/"
D = datetime.date


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


def general(name, *, country="FR", category=Category.CITY, **fields) -> Membership:
    return factories.MembershipFactory(
        organisation__name=name,
        organisation__country=country,
        organisation__category=category,
        **fields,
    )


def renewed(membership: Membership, start: D, end: D) -> None:
    MembershipRenewal.objects.create(membership=membership, period_start=start, period_end=end)


@pytest.fixture
def history():
    """Joins, renewals and exits from 2024 to 2026.

    2024: A, B and C join.
    2025: A and B renew; C, flagged, ends on its renewal date; D joins and is dismissed within its
          year; Irvin Waller is appointed an honorary member.
    2026: A renews; B, resigning at the end of its period, ends on its renewal date; F joins.
    """
    a = general(
        "A", started_on=D(2024, 2, 1), period_start=D(2026, 2, 1), period_end=D(2027, 1, 31)
    )
    renewed(a, D(2025, 2, 1), D(2026, 1, 31))
    renewed(a, D(2026, 2, 1), D(2027, 1, 31))
    b = general(
        "B",
        started_on=D(2024, 5, 10),
        period_start=D(2025, 5, 10),
        period_end=D(2026, 5, 9),
        status=MembershipStatus.ENDED,
        ended_on=D(2026, 5, 10),
        end_reason=EndReason.RESIGNED,
    )
    renewed(b, D(2025, 5, 10), D(2026, 5, 9))
    general(
        "C",
        started_on=D(2024, 9, 1),
        period_start=D(2024, 9, 1),
        period_end=D(2025, 8, 31),
        status=MembershipStatus.ENDED,
        ended_on=D(2025, 9, 1),
        end_reason=EndReason.NO_LONGER_QUALIFIES,
    )
    general(
        "D",
        started_on=D(2025, 1, 15),
        period_start=D(2025, 1, 15),
        period_end=D(2026, 1, 14),
        status=MembershipStatus.ENDED,
        ended_on=D(2025, 6, 1),
        end_reason=EndReason.DISMISSED,
    )
    factories.MembershipFactory(
        organisation=None,
        person=factories.UserFactory(first_name="Irvin", last_name="Waller"),
        kind=MembershipKind.HONORARY,
        started_on=D(2025, 3, 3),
        period_start=D(2025, 3, 3),
        period_end=D(2026, 3, 2),
    )
    general(
        "F",
        country="SN",
        category=Category.NGO,
        started_on=D(2026, 3, 1),
        period_start=D(2026, 3, 1),
        period_end=D(2027, 2, 28),
    )


def test_joins_renewals_exits_and_the_renewal_rate_per_year(history):
    report = membership_report()

    table = {
        row.year: (row.joins, row.renewals, row.exits, row.came_up, row.renewal_rate)
        for row in report.years
    }
    assert table == {
        2024: (3, 0, 0, 0, None),
        # C came up for renewal and ended; D left within its year and never came up.
        2025: (2, 2, 2, 3, 66.7),
        # B came up for renewal and ended, resigning.
        2026: (1, 1, 1, 2, 50.0),
    }
    exits_2025 = next(row for row in report.years if row.year == 2025).exits_by_reason
    assert exits_2025 == {"No longer meets the qualifications": 1, "Dismissed for cause": 1}


def test_members_by_status_category_and_region(history):
    report = membership_report()

    assert dict(report.by_status) == {
        "Current: General member": 2,
        "Current: Honorary member": 1,
        "Ended: Resigned": 1,
        "Ended: No longer meets the qualifications": 1,
        "Ended: Dismissed for cause": 1,
    }
    assert dict(report.by_category) == {
        str(Category.CITY.label): 1,
        str(Category.NGO.label): 1,
        str(Category.INSTITUTE.label): 0,
        str(Category.PRIVATE.label): 0,
        "Honorary members in their own name": 1,
    }
    assert dict(report.by_region) == {
        "Africa": 1,
        "Americas": 0,
        "Asia": 0,
        "Europe": 1,
        "Oceania": 0,
        "No region (a person, or Antarctica)": 1,
    }
    assert report.current_total == 3


def test_the_chart_draws_the_numbers_of_the_table(history):
    data = membership_report().chart_data()

    assert data["labels"] == ["2024", "2025", "2026"]
    assert [s["data"] for s in data["series"]] == [[3, 2, 1], [0, 2, 1], [0, 2, 1]]
    assert data["rate"]["data"] == [None, 66.7, 50.0]


def test_the_report_page_has_the_table_the_definition_and_a_chart_without_inline_script(
    staff_client, history
):
    response = staff_client.get(REPORT)

    assert response.status_code == 200
    page = response.text
    assert "66.7 %" in page and "50.0 %" in page
    assert "renewal rate of a year is its renewals divided by" in page
    assert 'id="membership-chart-data" type="application/json"' in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page
    assert "/static/js/membership-report.js" in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_the_report_is_in_french_under_fr(staff_client, history):
    response = staff_client.get("/fr" + REPORT)

    assert response.status_code == 200
    assert "Afrique" in response.text


def test_the_report_counts_in_a_fixed_number_of_queries(staff_client, history):
    staff_client.get(REPORT)  # the first request reads the person's account, later ones keep it
    with CaptureQueriesContext(connection) as few:
        staff_client.get(REPORT)
    for n in range(20):
        general(f"More {n}", country=["BR", "JP", "AU"][n % 3])

    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(REPORT)

    assert response.status_code == 200
    assert len(many) == len(few)


def test_the_report_is_linked_from_the_list_and_for_the_staff_only(staff_client, client):
    listing = staff_client.get(reverse("admin:members_membership_changelist"))
    assert REPORT in listing.text

    director = factories.DirectorFactory()
    client.force_login(director)
    assert client.get(REPORT).status_code == 403
