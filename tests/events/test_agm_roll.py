"""The roll of the Annual General Meeting: every general member in good standing on the day, who
registered for it, its one voting delegate; honorary members attend without a vote."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import roll, services
from events.models import Event, EventKind
from members.models import MembershipKind
from tests.events.conftest import DETAILS
from tests.factories import (
    ContactFactory,
    DirectorFactory,
    EventFactory,
    MembershipFactory,
    RepresentativeFactory,
    UserFactory,
    with_member_and_public_fees,
    with_totp,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agm(db) -> Event:
    return with_member_and_public_fees(EventFactory(kind=EventKind.AGM, capacity=None))


@pytest.fixture
def staff_client(client, centre_staff):
    client.force_login(with_totp(centre_staff))
    return client


def person(first: str, last: str):
    return UserFactory(first_name=first, last_name=last)


def member(name: str, *, kind: str = MembershipKind.GENERAL, **fields):
    membership = MembershipFactory(organisation__name=name, kind=kind, **fields)
    organisation = membership.organisation
    representative = RepresentativeFactory(
        organisation=organisation, user=person("Rep", f"of {name}")
    ).user
    return organisation, representative


def contact_of(organisation, first: str = "Colleague"):
    return ContactFactory(
        organisation=organisation, user=person(first, f"of {organisation.name}")
    ).user


def register(event: Event, user):
    return services.register(
        event=event,
        user=user,
        details={**DETAILS, "first_name": user.first_name, "last_name": user.last_name},
    )


def rows_by_name(the_roll: roll.Roll) -> dict[str, roll.RollRow]:
    return {row.name: row for row in [*the_roll.general, *the_roll.honorary]}


def test_a_member_with_two_registrants_counts_one_vote_through_its_representative(agm):
    alpha, alpha_rep = member("Alpha City")
    colleague = contact_of(alpha)
    register(agm, colleague)  # registered first, but the representative votes
    register(agm, alpha_rep)

    the_roll = roll.agm_roll(agm)

    [row] = the_roll.general
    assert [r.user for r in row.registrants] == [colleague, alpha_rep]
    assert row.delegate is not None and row.delegate.user == alpha_rep
    assert (the_roll.members_registered, the_roll.members_total) == (1, 1)
    assert the_roll.people_registered == 2


def test_without_its_representative_the_first_of_its_people_votes(agm):
    beta, _rep = member("Beta NGO")
    first, second = contact_of(beta, "First"), contact_of(beta, "Second")
    register(agm, first)
    register(agm, second)

    [row] = roll.agm_roll(agm).general

    assert row.delegate is not None and row.delegate.user == first


def test_the_roll_lists_every_general_member_and_the_honorary_ones_who_come(agm):
    alpha, alpha_rep = member("Alpha City")
    register(agm, alpha_rep)
    member("Gamma Institute")  # no one registered: on the roll all the same
    honorary_org, honorary_rep = member("Honorary Foundation", kind=MembershipKind.HONORARY)
    register(agm, honorary_rep)
    member("Silent Honorary", kind=MembershipKind.HONORARY)  # did not register: not listed
    honorary_person = person("Irvin", "Waller")
    MembershipFactory(organisation=None, person=honorary_person, kind=MembershipKind.HONORARY)
    register(agm, honorary_person)
    register(agm, UserFactory())  # the public: not on the roll

    the_roll = roll.agm_roll(agm)

    assert [row.name for row in the_roll.general] == ["Alpha City", "Gamma Institute"]
    assert [row.name for row in the_roll.honorary] == ["Honorary Foundation", "Irvin Waller"]
    for row in the_roll.honorary:
        assert row.registered and not row.votes and row.delegate is None
    assert (the_roll.members_registered, the_roll.members_total) == (1, 2)
    assert the_roll.quorum_line.startswith("1 of 2 general members registered; one vote per member")


def test_a_lapsed_member_is_not_on_the_roll_even_if_its_people_registered(agm):
    today = datetime.date.today()
    _org, lapsed_rep = member(
        "Lapsed Town",
        started_on=today - datetime.timedelta(days=800),
        period_start=today - datetime.timedelta(days=400),
        period_end=today - datetime.timedelta(days=36),
    )
    register(agm, lapsed_rep)
    member("Good Standing")

    the_roll = roll.agm_roll(agm)

    assert [row.name for row in the_roll.general] == ["Good Standing"]


def test_before_the_meeting_good_standing_is_read_today_as_renewals_come_by_themselves(agm):
    today = datetime.date.today()
    # Its period ends before the meeting's day (a month away): it renews itself before then.
    member("Renews Before The Meeting", period_end=today + datetime.timedelta(days=3))

    the_roll = roll.agm_roll(agm)

    assert [row.name for row in the_roll.general] == ["Renews Before The Meeting"]
    assert the_roll.on == today


def test_the_roll_page_shows_the_quorum_line_and_the_delegates(staff_client, agm):
    alpha, alpha_rep = member("Alpha City")
    register(agm, contact_of(alpha))
    register(agm, alpha_rep)
    member("Gamma Institute")
    _org, honorary_rep = member("Honorary Foundation", kind=MembershipKind.HONORARY)
    register(agm, honorary_rep)

    page = staff_client.get(reverse("admin:events_event_roll", args=[agm.pk]))

    assert page.status_code == 200
    assert "1 of 2 general members registered" in page.text
    assert "Rep of Alpha City" in page.text
    assert "Honorary Foundation" in page.text
    assert reverse("admin:events_event_roll_csv", args=[agm.pk]) in page.text
    assert reverse("admin:events_event_door", args=[agm.pk]) in page.text


def test_the_roll_export(staff_client, centre_staff, agm):
    alpha, alpha_rep = member("=Alpha City")
    colleague = contact_of(alpha)
    register(agm, colleague)
    delegate = register(agm, alpha_rep)
    services.mark_attendance(registration=delegate, by=centre_staff, arrived=True)
    member("Gamma Institute")
    honorary_person = person("Irvin", "Waller")
    MembershipFactory(organisation=None, person=honorary_person, kind=MembershipKind.HONORARY)
    register(agm, honorary_person)

    response = staff_client.get(reverse("admin:events_event_roll_csv", args=[agm.pk]))

    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["member"], r["votes"], r["voting delegate"]) for r in rows] == [
        ("'=Alpha City", "yes", "Rep of =Alpha City"),
        ("Gamma Institute", "yes", ""),
        ("Irvin Waller", "no", ""),
    ]
    assert rows[0]["registered"] == f"{colleague.get_full_name()}; Rep of =Alpha City"
    assert rows[0]["delegate arrived"] == "yes"
    assert rows[0]["kind"] == "General member"


def test_the_roll_reads_four_queries_whatever_the_number_of_members(agm, django_assert_num_queries):
    for n in range(12):
        organisation, representative = member(f"Member {n}")
        register(agm, representative)
        register(agm, contact_of(organisation))

    with django_assert_num_queries(4):
        the_roll = roll.agm_roll(agm)
        assert the_roll.people_registered == 24
        assert [row.delegate.full_name for row in the_roll.general if row.delegate]


def test_the_roll_page_has_a_fixed_number_of_queries(staff_client, agm):
    def queries(count: int) -> int:
        for n in range(count):
            organisation, representative = member(f"Member {count}-{n}")
            register(agm, representative)
            register(agm, contact_of(organisation))
        with CaptureQueriesContext(connection) as captured:
            page = staff_client.get(reverse("admin:events_event_roll", args=[agm.pk]))
        assert len(page.context["roll"].general) >= count
        return len(captured)

    queries(0)  # the first request reads the person's account, later ones keep it
    assert queries(3) == queries(12)


def test_the_roll_is_for_the_staff_only(client, agm):
    client.force_login(DirectorFactory())

    assert client.get(reverse("admin:events_event_roll", args=[agm.pk])).status_code == 403
