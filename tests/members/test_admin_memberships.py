"""The staff's membership list: its filters, honorary people shown by name, a fixed number of
queries whatever the number of members, the renewal notices and the to-do panel."""

import datetime
import itertools

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import STAFF_GROUP
from members.models import (
    Category,
    EndReason,
    Membership,
    MembershipKind,
    MembershipStatus,
    RenewalAnswer,
    RenewalNotice,
    RepresentativeChange,
)
from members.regions import AFRICA, EUROPE, region_name, region_of
from tests import factories
from tests.budgets import SESSION_QUERIES
from tests.factories import with_totp

pytestmark = pytest.mark.django_db


# What the Staff role is granted on the lifecycle's models (the roles migration asked of the
# lead); granted here too, so that these tests read the screens as the Staff role will.
STAFF_READS = [
    "view_renewalnotice",
    "view_representativechange",
    "view_membershipevent",
    "view_membershiprenewal",
]


@pytest.fixture(autouse=True)
def _staff_reads_the_lifecycle(db):
    Group.objects.get(name=STAFF_GROUP).permissions.add(
        *Permission.objects.filter(content_type__app_label="members", codename__in=STAFF_READS)
    )


LIST = "/admin/members/membership/"

# User, two-factor check (twice), the user's group names, permissions (user and group),
# the countries for the country filter, the count, the voting rule check of the admin's menu,
# and the page of rows: no query per row.
LIST_QUERIES = 10  # and the session's, when it does not come from the cache


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


def today() -> datetime.date:
    return timezone.localdate()


def member(name: str, *, renews_in: int = 200, **fields) -> Membership:
    """A general member whose renewal date is ``renews_in`` days away."""
    period_end = today() + datetime.timedelta(days=renews_in - 1)
    organisation = fields.pop("organisation", None) or factories.OrganisationFactory(
        name=name,
        category=fields.pop("category", Category.CITY),
        country=fields.pop("country", "CA"),
    )
    return factories.MembershipFactory(
        organisation=organisation,
        started_on=period_end - datetime.timedelta(days=400),
        period_start=period_end - datetime.timedelta(days=364),
        period_end=period_end,
        **fields,
    )


def ended(name: str, reason: EndReason) -> Membership:
    return member(
        name,
        status=MembershipStatus.ENDED,
        ended_on=today() - datetime.timedelta(days=3),
        end_reason=reason,
    )


def honorary_person(first: str = "Irvin", last: str = "Waller") -> Membership:
    person = factories.UserFactory(first_name=first, last_name=last)
    return factories.MembershipFactory(
        organisation=None, person=person, kind=MembershipKind.HONORARY
    )


def names(response) -> list[str]:
    assert response.status_code == 200
    return sorted(m.holder_name for m in response.context["cl"].result_list)


# --- filters -----------------------------------------------------------------------------------


def test_the_list_opens_on_current_members_and_finds_ended_ones_by_why(staff_client):
    member("Current City")
    ended("Lapsed Institute", EndReason.NO_LONGER_QUALIFIES)
    ended("Resigned NGO", EndReason.RESIGNED)
    ended("Dismissed Company", EndReason.DISMISSED)

    assert names(staff_client.get(LIST)) == ["Current City"]
    assert names(staff_client.get(LIST + "?status=ended-disqualified")) == ["Lapsed Institute"]
    assert names(staff_client.get(LIST + "?status=ended-resigned")) == ["Resigned NGO"]
    assert names(staff_client.get(LIST + "?status=ended-dismissed")) == ["Dismissed Company"]
    assert len(names(staff_client.get(LIST + "?status=ended"))) == 3
    assert len(names(staff_client.get(LIST + "?status=all"))) == 4


def test_a_search_looks_through_ended_members_too(staff_client):
    ended("Resigned NGO", EndReason.RESIGNED)

    assert names(staff_client.get(LIST + "?q=resigned")) == ["Resigned NGO"]


def test_filters_by_kind_category_country_and_region(staff_client):
    member("Dakar City", country="SN")
    member("Lyon NGO", country="FR", category=Category.NGO)
    member("Paris Business", country="FR", category=Category.PRIVATE, kind=MembershipKind.HONORARY)
    honorary_person()

    assert names(staff_client.get(LIST + "?kind=honorary")) == ["Irvin Waller", "Paris Business"]
    assert names(staff_client.get(LIST + "?category=ngo")) == ["Lyon NGO"]
    assert names(staff_client.get(LIST + "?category=person")) == ["Irvin Waller"]
    assert names(staff_client.get(LIST + "?country=FR")) == ["Lyon NGO", "Paris Business"]
    assert names(staff_client.get(LIST + f"?region={AFRICA}")) == ["Dakar City"]
    assert names(staff_client.get(LIST + f"?region={EUROPE}&category=ngo")) == ["Lyon NGO"]


def test_filter_by_renewal_due_within_30_60_or_90_days(staff_client):
    member("In 30", renews_in=30)
    member("In 31", renews_in=31)
    member("In 60", renews_in=60)
    member("In 90", renews_in=90)
    member("In 91", renews_in=91)
    honorary_person()

    assert names(staff_client.get(LIST + "?renews_within=30")) == ["In 30"]
    assert names(staff_client.get(LIST + "?renews_within=60")) == ["In 30", "In 31", "In 60"]
    assert names(staff_client.get(LIST + "?renews_within=90")) == [
        "In 30",
        "In 31",
        "In 60",
        "In 90",
    ]


def test_filter_by_an_unanswered_renewal_notice(staff_client):
    silent = member("Silent", renews_in=20)
    answered = member("Answered", renews_in=20)
    member("No notice yet", renews_in=20)
    RenewalNotice.objects.create(membership=silent, renews_on=silent.renews_on)
    RenewalNotice.objects.create(
        membership=answered,
        renews_on=answered.renews_on,
        answer=RenewalAnswer.CONFIRMED,
        answered_at=timezone.now(),
    )

    assert names(staff_client.get(LIST + "?notice=unanswered")) == ["Silent"]


def test_filter_by_flagged_or_resigning(staff_client, staff_user):
    member("Flagged", not_qualifying_since=today(), not_qualifying_reason="Dissolved.")
    member("Resigning", resigns_at_period_end=True)
    member("Fine")

    assert names(staff_client.get(LIST + "?ending=flagged")) == ["Flagged"]
    assert names(staff_client.get(LIST + "?ending=resigning")) == ["Resigning"]


def test_the_list_says_which_filters_are_in_use(staff_client):
    response = staff_client.get(LIST + "?renews_within=30")

    assert ("status", "Current") in response.context["filters_in_use"]
    assert ("renewal due", "within 30 days") in response.context["filters_in_use"]


# --- honorary people -------------------------------------------------------------------------


def test_an_honorary_person_shows_by_name_in_the_list_and_on_its_page(staff_client):
    membership = honorary_person()

    listing = staff_client.get(LIST)
    page = staff_client.get(reverse("admin:members_membership_change", args=[membership.pk]))

    assert "Irvin Waller" in listing.text
    assert page.status_code == 200
    assert "Irvin Waller" in page.text
    assert "no renewal" in page.text


def test_the_list_shows_the_region_and_the_flag(staff_client):
    flagged = member(
        "Flagged", country="SN", not_qualifying_since=today(), not_qualifying_reason="Dissolved."
    )

    listing = staff_client.get(LIST)

    assert region_name(region_of("SN")) in listing.text
    assert "no longer qualifies" in listing.text
    assert flagged.holder_name in listing.text


# --- the query budget ---------------------------------------------------------------------------


def fill(count: int) -> None:
    categories = itertools.cycle(Category.values)
    countries = itertools.cycle(["FR", "CA", "SN", "BR", "JP"])
    for n in range(count):
        membership = member(
            f"Member {n:03}",
            category=next(categories),
            country=next(countries),
            renews_in=10 + n,
        )
        factories.RepresentativeFactory(organisation=membership.organisation)
        RenewalNotice.objects.create(membership=membership, renews_on=membership.renews_on)
    for n in range(count // 3):
        honorary_person(first=f"Person{n}")


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "query",
    ["", "?status=all&region=150&renews_within=90&notice=unanswered", "?q=member"],
    ids=["default", "filtered", "search"],
)
def test_the_list_runs_a_fixed_number_of_queries(staff_client, django_assert_num_queries, query):
    fill(3)
    few = queries_for(staff_client, LIST + query)

    fill(30)
    cache.clear()  # the count kept from the first page would spare a query
    # The session too is no longer in the cache: it is read from the database.
    with django_assert_num_queries(LIST_QUERIES + 1):
        response = staff_client.get(LIST + query)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) > 3
    assert few == LIST_QUERIES + SESSION_QUERIES


def test_the_list_keeps_its_count_half_a_minute_and_never_its_rows(staff_client):
    fill(3)
    staff_client.get("/admin/")  # the first request reads the person's account
    first = queries_for(staff_client, LIST)
    fill(2)

    with CaptureQueriesContext(connection) as captured:
        response = staff_client.get(LIST)

    assert len(captured) == first - 1  # no COUNT this time
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"]]
    # The rows are read afresh: the two new ones are on the page.
    assert len(response.context["cl"].result_list) == Membership.objects.current().count()


# --- renewal notices ----------------------------------------------------------------------------


def test_renewal_notices_are_read_only_and_filtered_by_answer(staff_client):
    silent = member("Silent", renews_in=20)
    answered = member("Answered", renews_in=20)
    RenewalNotice.objects.create(membership=silent, renews_on=silent.renews_on)
    RenewalNotice.objects.create(
        membership=answered,
        renews_on=answered.renews_on,
        answer=RenewalAnswer.CONFIRMED,
        answered_at=timezone.now(),
    )
    url = reverse("admin:members_renewalnotice_changelist")

    response = staff_client.get(url + "?answered=no")

    assert [n.membership.holder_name for n in response.context["cl"].result_list] == ["Silent"]
    notice = RenewalNotice.objects.get(membership=silent)
    page = staff_client.get(reverse("admin:members_renewalnotice_change", args=[notice.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text


# --- the staff's to-do panel -------------------------------------------------------------------


def test_the_to_do_panel_lists_what_waits_in_the_memberships(staff_client):
    silent = member("Silent Soon", renews_in=10)
    RenewalNotice.objects.create(membership=silent, renews_on=silent.renews_on)
    later = member("Silent Later", renews_in=60)
    RenewalNotice.objects.create(membership=later, renews_on=later.renews_on)
    member("Resigning Soon", renews_in=15, resigns_at_period_end=True)
    member("Resigning Later", renews_in=80, resigns_at_period_end=True)
    member("Flagged Member", not_qualifying_since=today(), not_qualifying_reason="Dissolved.")
    representative = factories.RepresentativeFactory(organisation__name="Changing Org")
    RepresentativeChange.objects.create(
        organisation=representative.organisation,
        requested_by=representative.user,
        first_name="Nadia",
        last_name="Benali",
        email="nadia@example.org",
        title="Mayor",
        qualification="elected",
    )

    page = staff_client.get(reverse("admin:index")).text

    def section(anchor: str) -> str:
        start = page.index(f'id="{anchor}"')
        return page[start : page.index("</table>", start)]

    assert "Silent Soon" in section("todo-notices")
    assert "Silent Later" not in section("todo-notices")
    assert "Resigning Soon" in section("todo-resigning")
    assert "Resigning Later" not in section("todo-resigning")
    assert "Flagged Member" in section("todo-flagged")
    assert "Changing Org" in section("todo-changes")
    assert reverse("admin:members_membership_report") in page


def test_a_director_without_staff_rights_sees_no_membership_to_do(client):
    director = factories.DirectorFactory()
    client.force_login(director)
    member("Flagged Member", not_qualifying_since=today(), not_qualifying_reason="Dissolved.")

    page = client.get(reverse("admin:index"))

    assert page.status_code == 200
    assert 'id="todo-flagged"' not in page.text
    assert reverse("admin:members_membership_report") not in page.text


def test_the_country_filter_offers_the_countries_organisations_are_in(staff_client):
    member("Dakar City", country="SN")
    member("Lyon NGO", country="FR")
    member("Paris NGO", country="FR")

    response = staff_client.get(LIST)

    [spec] = [s for s in response.context["cl"].filter_specs if s.title == "country"]
    assert spec.lookup_choices == [("FR", "France"), ("SN", "Senegal")]
