"""The representative's Membership page: what it shows, to whom, and at what cost."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from members import services
from members.models import (
    EndReason,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    MembershipRenewal,
    Qualification,
    RenewalNotice,
)
from tests import factories
from tests.budgets import SESSION_QUERIES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _february_2026(today_is):
    """The dates below are written out: the member's period runs to 9 March 2026, and today
    is 20 February 2026, eighteen days before it renews."""
    today_is(datetime.date(2026, 2, 20))


PAGE = reverse("members:membership")
JOINED = datetime.date(2025, 3, 10)  # its period: 10 March 2025 to 9 March 2026


def member(
    representative: User | None = None,
    *,
    on: datetime.date = JOINED,
    kind: MembershipKind = MembershipKind.GENERAL,
    name: str = "Observatoire de la sécurité urbaine",
    by: User | None = None,
) -> Membership:
    """A member admitted on ``on``, with its representative designated, as the services do."""
    organisation = factories.OrganisationFactory(name=name)
    membership = services.start_membership(
        organisation=organisation, kind=kind, on=on, by=by, reason="Approved by the Board."
    )
    services.designate_representative(
        organisation=organisation,
        user=representative or factories.UserFactory(),
        title="Executive Director",
        qualification=Qualification.DIRECTOR,
        on=on,
        by=by,
    )
    return membership


def signed_in(client, user: User):
    client.force_login(user)
    return client


def page_of(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_someone_without_a_membership_is_told_so_and_shown_how_to_apply(client, user):
    page = page_of(signed_in(client, user))

    assert "You do not hold a membership" in page
    assert reverse("applications:apply") in page


def test_the_representative_sees_status_period_renewal_representative_and_history(client, user):
    membership = member(user)

    page = page_of(signed_in(client, user))

    assert "Observatoire de la sécurité urbaine" in page
    assert "General member" in page
    assert "Active" in page
    assert "10 March 2025 – 9 March 2026" in page
    assert "Next renewal" in page and "10 March 2026" in page
    assert str(user) in page
    assert "Executive Director · Holds a directorial position" in page
    assert "Became a member (General member)" in page
    assert f"{user} designated as representative" in page
    assert reverse("members:resign", args=[membership.pk]) in page
    assert reverse("members:change_representative", args=[membership.pk]) in page
    assert "You do not hold a membership" not in page


def test_someone_elses_membership_is_neither_shown_nor_reachable(client, user):
    other = member(name="Ville de Lyon")
    membership = member(user)

    page = page_of(signed_in(client, user))

    assert "Ville de Lyon" not in page
    assert client.get(reverse("members:resign", args=[other.pk])).status_code == 404
    assert client.get(reverse("members:change_representative", args=[other.pk])).status_code == 404
    response = client.post(reverse("members:withdraw_resignation", args=[other.pk]))
    assert response.status_code == 404
    assert client.get(reverse("members:resign", args=[membership.pk])).status_code == 200


def test_the_old_representative_loses_access_once_a_new_one_is_designated(client, user):
    membership = member(user)
    notice = RenewalNotice.objects.create(
        membership=membership, renews_on=datetime.date(2026, 3, 10)
    )
    services.designate_representative(
        organisation=membership.organisation,
        user=factories.UserFactory(),
        title="Mayor",
        qualification=Qualification.ELECTED,
        on=timezone.localdate(),
    )

    page = page_of(signed_in(client, user))

    assert "You do not hold a membership" in page
    assert "Observatoire de la sécurité urbaine" not in page
    assert client.get(reverse("members:resign", args=[membership.pk])).status_code == 404
    answer = client.post(
        reverse("members:answer_notice", args=[notice.pk]), {"answer": "confirmed"}
    )
    assert answer.status_code == 404
    notice.refresh_from_db()
    assert not notice.is_answered


def test_a_former_member_sees_when_and_why_it_ended_and_how_to_apply_again(client, user):
    membership = member(user)
    services.end_membership(
        membership=membership,
        reason=EndReason.NO_LONGER_QUALIFIES,
        note="The association was dissolved in June.",
        on=datetime.date(2025, 7, 1),
        by=factories.StaffFactory(),
        tell=False,
    )

    page = page_of(signed_in(client, user))

    assert "The membership ended on 1 July 2025." in page
    assert "No longer meets the qualifications" in page
    assert "The association was dissolved in June." in page
    assert "Applying again" in page
    assert reverse("applications:apply") in page
    assert reverse("members:resign", args=[membership.pk]) not in page
    assert "Next renewal" not in page


def test_a_membership_flagged_as_no_longer_qualifying_says_when_it_ends_and_why(client, user):
    membership = member(user)
    Membership.objects.filter(pk=membership.pk).update(
        not_qualifying_since=datetime.date(2025, 11, 1),
        not_qualifying_reason="The representative left the organisation.",
    )

    page = page_of(signed_in(client, user))

    assert "The membership ends on 10 March 2026 instead of renewing." in page
    assert "The representative left the organisation." in page
    assert "Next renewal" not in page


def test_an_honorary_member_in_their_own_name_sees_their_membership(client, user):
    membership = services.start_membership(
        person=user,
        kind=MembershipKind.HONORARY,
        on=JOINED,
        by=None,
        reason="Appointed an honorary member by the Board.",
    )

    page = page_of(signed_in(client, user))

    assert "Honorary member" in page
    assert "An honorary membership needs no renewal." in page
    assert reverse("members:change_representative", args=[membership.pk]) not in page
    resign_page = client.get(reverse("members:resign", args=[membership.pk])).content.decode()
    assert 'value="now"' in resign_page
    assert 'value="period_end"' not in resign_page


def test_the_history_merges_every_change_newest_first_naming_the_member_and_the_centre(
    client, user
):
    staff = factories.StaffFactory(first_name="Sonia", last_name="Staffer")
    membership = member(user, by=staff)
    now = timezone.now()
    MembershipRenewal.objects.create(
        membership=membership,
        period_start=datetime.date(2026, 3, 10),
        period_end=datetime.date(2027, 3, 9),
        renewed_at=now + datetime.timedelta(days=1),
    )
    MembershipEvent.objects.create(
        membership=membership,
        kind=MembershipEventKind.RESIGNATION,
        by=user,
        note="Our budget was cut.",
        at=now + datetime.timedelta(days=2),
    )

    page = page_of(signed_in(client, user))

    history = page[page.index("membership-history") :]
    order = [
        history.index("Resigned with effect at the end of the period"),
        history.index("Renewed for the period 10 March 2026 – 9 March 2027"),
        history.index("Became a member"),
    ]
    assert order == sorted(order)
    assert "Our budget was cut." in history
    assert "Automatically" in history  # the yearly job renewed it
    assert "The Centre" in history  # the staff admitted it
    assert "Sonia Staffer" not in page
    assert str(user) in history


def test_the_menu_links_to_the_page_for_members_only(client, user):
    assert 'href="/members/membership/"' not in signed_in(client, user).get("/").content.decode()

    member(user)

    assert 'href="/members/membership/"' in client.get("/").content.decode()


def test_the_account_page_leads_each_current_representative_to_the_membership_page(client, user):
    membership = member(user)

    page = signed_in(client, user).get(reverse("accounts:profile")).content.decode()

    assert f'href="{PAGE}#membership-{membership.pk}"' in page


def test_the_page_is_served_in_french(client, user):
    member(user)
    signed_in(client, user)

    response = client.get("/fr" + PAGE)

    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


# --- the query budget ---------------------------------------------------------------------------

# Session, verified email, the menu's membership check, the memberships, their status changes,
# renewals, events and notices, the representatives and their history, the changes of
# representative asked, the open dismissal votes and the responses sent (the account is kept
# after the person's first request: accounts.backends).
QUERIES = SESSION_QUERIES + 12


def queries_for_page(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE).status_code == 200
    return len(captured)


def add_history(membership: Membership, rows: int) -> None:
    now = timezone.now()
    for number in range(rows):
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.NOTICE_SENT,
            at=now + datetime.timedelta(minutes=number),
        )
        start = datetime.date(2026 + number, 3, 10)
        MembershipRenewal.objects.create(
            membership=membership, period_start=start, period_end=start.replace(year=start.year + 1)
        )
        services.designate_representative(
            organisation=membership.organisation,
            user=membership.organisation.representatives.get(ended_on__isnull=True).user,
            title=f"Title {number}",
            qualification=Qualification.ELECTED,
            on=timezone.localdate(),
        )


def test_the_page_costs_a_fixed_number_of_queries_whatever_the_history(
    client, user, django_assert_num_queries
):
    membership = member(user)
    signed_in(client, user)
    client.get(PAGE)  # content types and the like, read once per process

    with django_assert_num_queries(QUERIES):
        page = client.get(PAGE).content.decode()
    assert page.count("history-item") == 2

    add_history(membership, 8)
    other = member(user, name="Ville de Montréal")
    add_history(other, 3)
    RenewalNotice.objects.create(membership=membership, renews_on=datetime.date(2026, 3, 10))
    factories.DirectorFactory(is_board_president=True)
    for organisation in (membership.organisation, other.organisation):
        ballot = services.propose_dismissal(
            organisation=organisation,
            cause="Repeated breaches of the statutes.",
            deadline=timezone.now() + datetime.timedelta(days=7),
            by=factories.StaffFactory(),
        )
        for text in ("First answer.", "Second answer."):
            services.respond_to_dismissal(
                ballot=ballot, organisation=organisation, by=user, text=text
            )

    with django_assert_num_queries(QUERIES):
        page = client.get(PAGE).content.decode()
    # Each dismissal adds its proposal and two responses to the history.
    assert page.count("history-item") == 2 + 8 * 3 + 2 + 3 * 3 + 2 * 3
    assert "Ville de Montréal" in page
    assert page.count("Second answer.") == 2 * 2  # under the vote and in the history
    assert "please check" in page


def test_a_page_without_membership_costs_fewer_queries(client, user):
    signed_in(client, user)
    client.get(PAGE)

    assert queries_for_page(client) < QUERIES
