"""The CSV export of members with their representatives: the list as filtered, streamed."""

import csv
import datetime
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Category, EndReason, MembershipKind, MembershipStatus, Qualification
from tests import factories
from tests.factories import with_totp

pytestmark = pytest.mark.django_db

EXPORT = "/admin/members/membership/export.csv"


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


def member(name: str, *, country: str = "FR", category: str = Category.CITY):
    membership = factories.MembershipFactory(
        organisation__name=name, organisation__country=country, organisation__category=category
    )
    factories.RepresentativeFactory(
        organisation=membership.organisation,
        user__first_name="Ana",
        user__last_name=f"Rep of {name}",
        user__email=f"rep-{name.lower().replace(' ', '-')}@example.org",
        title="Head of Prevention",
        qualification=Qualification.EMPLOYEE,
    )
    return membership


def rows(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_is_streamed_and_has_the_members_with_their_representatives(staff_client):
    membership = member("Lyon Safer City", category=Category.CITY)

    response = staff_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    [row] = rows(response)
    assert row["member"] == "Lyon Safer City"
    assert row["kind"] == "General member"
    assert row["status"] == "Active"
    assert row["country"] == "France"
    assert row["region"] == "Europe"
    assert row["member since"] == membership.started_on.isoformat()
    assert row["renews on"] == membership.renews_on.isoformat()
    assert row["representative"] == "Ana Rep of Lyon Safer City"
    assert row["representative's email"] == "rep-lyon-safer-city@example.org"
    assert row["representative's title"] == "Head of Prevention"
    assert row["representative's qualification"] == "Is a permanent employee"


def test_the_export_has_the_rows_the_filtered_list_has(staff_client):
    member("Paris NGO", category=Category.NGO)
    member("Dakar NGO", country="SN", category=Category.NGO)
    member("Lyon City", category=Category.CITY)
    factories.MembershipFactory(
        organisation__name="Resigned NGO",
        organisation__category=Category.NGO,
        status=MembershipStatus.ENDED,
        ended_on=datetime.date.today(),
        end_reason=EndReason.RESIGNED,
    )
    query = "?category=ngo&region=150"

    listing = staff_client.get(reverse("admin:members_membership_changelist") + query)
    exported = rows(staff_client.get(EXPORT + query))

    assert [r["member"] for r in exported] == ["Paris NGO"]
    assert [m.holder_name for m in listing.context["cl"].result_list] == ["Paris NGO"]
    ended = rows(staff_client.get(EXPORT + "?status=ended-resigned"))
    assert [(r["member"], r["reason it ended"]) for r in ended] == [("Resigned NGO", "Resigned")]


def test_the_list_links_to_the_export_of_what_it_shows(staff_client):
    page = staff_client.get(reverse("admin:members_membership_changelist") + "?category=ngo")

    assert f"{EXPORT}?category=ngo" in page.text


def test_an_honorary_person_is_exported_by_name(staff_client):
    person = factories.UserFactory(first_name="Irvin", last_name="Waller")
    factories.MembershipFactory(organisation=None, person=person, kind=MembershipKind.HONORARY)

    [row] = rows(staff_client.get(EXPORT))

    assert (row["member"], row["kind"], row["country"], row["representative"]) == (
        "Irvin Waller",
        "Honorary member",
        "",
        "",
    )


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(staff_client):
    member('=HYPERLINK("http://evil.example")')
    member("@SUM(A1)")
    member("+33 Cities")
    member("-1 Club")

    exported = {r["member"] for r in rows(staff_client.get(EXPORT))}

    assert exported == {
        '\'=HYPERLINK("http://evil.example")',
        "'@SUM(A1)",
        "'+33 Cities",
        "'-1 Club",
    }


def test_the_export_reads_the_rows_in_chunks_with_a_fixed_number_of_queries(staff_client):
    def queries(count: int) -> int:
        for n in range(count):
            member(f"Member {count}-{n}")
        cache.clear()  # the list's count, kept half a minute, would spare a query
        with CaptureQueriesContext(connection) as captured:
            exported = rows(staff_client.get(EXPORT))
        assert len(exported) >= count
        return len(captured)

    assert queries(3) == queries(30)


def test_a_director_without_staff_rights_cannot_export(client):
    director = factories.DirectorFactory()
    client.force_login(director)
    member("Lyon Safer City")

    response = client.get(EXPORT)

    assert response.status_code == 403
    listing = client.get(reverse("admin:members_membership_changelist"))
    assert listing.status_code == 200
    assert EXPORT not in listing.text


def test_someone_outside_the_admin_cannot_export(client, user):
    client.force_login(user)

    response = client.get(EXPORT)

    assert response.status_code == 302
    assert not isinstance(response, StreamingHttpResponse)
