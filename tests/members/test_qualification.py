"""Staff flag a member as no longer qualifying: it ends now, or on its renewal date unless the
flag is cleared first. Only the Centre's staff may do it."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import STAFF_GROUP
from members.models import (
    EndReason,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    MembershipStatus,
)
from members.services import staff
from tests import factories
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


REASON = "The association was dissolved by its general assembly in June."


def member(**fields) -> Membership:
    membership = factories.MembershipFactory(**fields)
    factories.RepresentativeFactory(
        organisation=membership.organisation, user__language="en", user__first_name="Ana"
    )
    return membership


def honorary_person() -> Membership:
    person = factories.UserFactory(first_name="Irvin", last_name="Waller", language="en")
    return factories.MembershipFactory(
        organisation=None, person=person, kind=MembershipKind.HONORARY
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_flagging_at_renewal_keeps_the_membership_until_its_renewal_date_and_tells_why(
    outbox, committed, staff_user
):
    membership = member()
    email = membership.organisation.representatives.get().user.email

    with committed():
        staff.flag_not_qualifying(
            membership=membership, by=staff_user, reason=REASON, end_now=False
        )

    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.not_qualifying_since == timezone.localdate()
    assert membership.not_qualifying_reason == REASON
    assert membership.ends_at_renewal
    event = MembershipEvent.objects.get(membership=membership)
    assert (event.kind, event.by, event.note) == (MembershipEventKind.FLAGGED, staff_user, REASON)
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == [email]
    assert "will not be renewed" in message.subject
    assert REASON in message.body
    renews = membership.renews_on
    assert renews is not None
    assert date_format(renews, "DATE_FORMAT") in message.body


def test_flagging_now_ends_the_membership_today_with_the_reason(outbox, committed, staff_user):
    membership = member()

    with committed():
        staff.flag_not_qualifying(membership=membership, by=staff_user, reason=REASON, end_now=True)

    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ENDED
    assert membership.ended_on == timezone.localdate()
    assert membership.end_reason == EndReason.NO_LONGER_QUALIFIES
    assert membership.end_note == REASON
    assert membership.status_changes.last().actor == staff_user
    assert len(outbox) == 1
    assert "has ended" in outbox[0].subject
    assert REASON in outbox[0].body


def test_an_honorary_membership_has_no_renewal_date_so_it_can_only_end_now(staff_user, outbox):
    membership = honorary_person()

    with pytest.raises(ValidationError) as refused:
        staff.flag_not_qualifying(
            membership=membership, by=staff_user, reason=REASON, end_now=False
        )
    assert "end_now" in refused.value.error_dict

    staff.flag_not_qualifying(membership=membership, by=staff_user, reason=REASON, end_now=True)
    membership.refresh_from_db()
    assert membership.end_reason == EndReason.NO_LONGER_QUALIFIES


def test_a_flag_needs_a_reason(staff_user):
    membership = member()

    with pytest.raises(ValidationError) as refused:
        staff.flag_not_qualifying(membership=membership, by=staff_user, reason="  ", end_now=False)

    assert "reason" in refused.value.error_dict
    membership.refresh_from_db()
    assert membership.not_qualifying_since is None


def test_an_ended_membership_cannot_be_flagged(staff_user):
    membership = member(
        status=MembershipStatus.ENDED,
        ended_on=datetime.date.today(),
        end_reason=EndReason.RESIGNED,
    )

    with pytest.raises(ValidationError):
        staff.flag_not_qualifying(
            membership=membership, by=staff_user, reason=REASON, end_now=False
        )


def test_clearing_the_flag_lets_the_membership_renew_and_tells_the_member(
    outbox, committed, staff_user
):
    membership = member()
    staff.flag_not_qualifying(membership=membership, by=staff_user, reason=REASON, end_now=False)

    with committed():
        staff.clear_not_qualifying(
            membership=membership, by=staff_user, note="New statutes were adopted in July."
        )

    membership.refresh_from_db()
    assert membership.not_qualifying_since is None
    assert membership.not_qualifying_reason == ""
    assert not membership.ends_at_renewal
    cleared = MembershipEvent.objects.filter(kind=MembershipEventKind.FLAG_CLEARED).get()
    assert (cleared.by, cleared.note) == (staff_user, "New statutes were adopted in July.")
    assert len(outbox) == 1
    assert "renewed as usual" in outbox[0].subject
    assert "New statutes were adopted in July." in outbox[0].body
    assert "withdrawn" in outbox[0].body


def test_a_membership_not_flagged_has_no_flag_to_clear(staff_user):
    with pytest.raises(ValidationError):
        staff.clear_not_qualifying(membership=member(), by=staff_user, note="")


def test_a_director_without_staff_rights_cannot_flag_nor_clear(director):
    membership = member()

    with pytest.raises(PermissionDenied):
        staff.flag_not_qualifying(membership=membership, by=director, reason=REASON, end_now=True)
    with pytest.raises(PermissionDenied):
        staff.clear_not_qualifying(membership=membership, by=director, note="")
    membership.refresh_from_db()
    assert membership.is_active


# --- the admin's pages -----------------------------------------------------------------------


def test_the_change_page_offers_the_flag_and_the_dismissal_to_staff(staff_client):
    membership = member()

    page = staff_client.get(reverse("admin:members_membership_change", args=[membership.pk]))

    assert page.status_code == 200
    assert reverse("admin:members_membership_flag", args=[membership.pk]) in page.text
    assert reverse("admin:members_membership_dismiss", args=[membership.pk]) in page.text
    assert reverse("admin:members_membership_clear_flag", args=[membership.pk]) not in page.text


def test_the_flag_form_posts_with_a_csrf_token_and_flags_the_member(staff_client, outbox):
    membership = member()
    url = reverse("admin:members_membership_flag", args=[membership.pk])

    form = staff_client.get(url)
    assert 'method="post"' in form.text
    assert "csrfmiddlewaretoken" in form.text
    response = staff_client.post(url, {"reason": REASON, "when": "at_renewal"})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_flagged_not_qualifying
    page = staff_client.get(reverse("admin:members_membership_change", args=[membership.pk]))
    assert reverse("admin:members_membership_clear_flag", args=[membership.pk]) in page.text
    assert reverse("admin:members_membership_flag", args=[membership.pk]) not in page.text
    # The history the staff read: what was done, by whom, why.
    assert "Flagged as no longer qualifying" in page.text
    assert REASON in page.text


def test_a_flag_without_a_reason_is_shown_next_to_the_field_and_keeps_the_choice(staff_client):
    membership = member()
    url = reverse("admin:members_membership_flag", args=[membership.pk])

    response = staff_client.post(url, {"reason": "", "when": "now"})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert 'class="form-row errors field-reason"' in response.text
    assert re.search(r'value="now"[^>]*checked', response.text)
    membership.refresh_from_db()
    assert membership.is_active and not membership.is_flagged_not_qualifying


def test_the_flag_on_an_honorary_membership_offers_only_to_end_now(staff_client):
    membership = honorary_person()
    url = reverse("admin:members_membership_flag", args=[membership.pk])

    page = staff_client.get(url)

    assert page.status_code == 200
    assert "Irvin Waller" in page.text
    assert 'value="at_renewal"' not in page.text


def test_clearing_from_the_admin(staff_client, staff_user):
    membership = member()
    staff.flag_not_qualifying(membership=membership, by=staff_user, reason=REASON, end_now=False)
    url = reverse("admin:members_membership_clear_flag", args=[membership.pk])

    assert REASON in staff_client.get(url).text
    response = staff_client.post(url, {"note": ""})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_flagged_not_qualifying


def test_a_director_without_staff_rights_gets_no_buttons_and_no_flag_page(client, director):
    membership = member()
    client.force_login(director)

    page = client.get(reverse("admin:members_membership_change", args=[membership.pk]))
    flag = client.post(
        reverse("admin:members_membership_flag", args=[membership.pk]),
        {"reason": REASON, "when": "now"},
    )

    assert page.status_code == 200
    assert reverse("admin:members_membership_flag", args=[membership.pk]) not in page.text
    assert flag.status_code == 403
    membership.refresh_from_db()
    assert membership.is_active


def test_flagged_again_the_same_day_after_a_clear_the_member_is_told_again(
    outbox, committed, staff_user
):
    membership = member()
    email = membership.organisation.representatives.get().user.email

    with committed():
        staff.flag_not_qualifying(
            membership=membership, by=staff_user, reason=REASON, end_now=False
        )
        staff.clear_not_qualifying(membership=membership, by=staff_user, note="A mistake.")
        staff.flag_not_qualifying(
            membership=membership, by=staff_user, reason=REASON, end_now=False
        )

    subjects = [m.subject for m in outbox if m.to == [email]]
    assert len([s for s in subjects if "will not be renewed" in s]) == 2, subjects
