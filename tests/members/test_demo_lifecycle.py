"""seed_demo shows the lifecycle: a member in every state, through the same services as people."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from board.models import Ballot
from members.models import (
    EndReason,
    Membership,
    MembershipKind,
    MembershipStatus,
    RenewalNotice,
    RepresentativeChange,
)

pytestmark = pytest.mark.usefixtures("postgres")


def test_the_demo_has_a_member_in_every_state_of_the_lifecycle():
    call_command("seed_demo", "--quiet-logins", stdout=StringIO())
    today = timezone.localdate()
    active = Membership.objects.current()
    ended = Membership.objects.filter(status=MembershipStatus.ENDED)

    assert set(ended.values_list("end_reason", flat=True)) == set(EndReason.values)
    assert active.filter(not_qualifying_since__isnull=False).exists()
    assert active.filter(resigns_at_period_end=True).exists()
    due_soon = active.filter(
        kind=MembershipKind.GENERAL, period_end__lt=today + datetime.timedelta(days=30)
    )
    assert due_soon.count() >= 2
    assert (
        RenewalNotice.objects.unanswered()
        .filter(membership__organisation__representatives__user__email="representative@example.org")
        .exists()
    )
    assert RenewalNotice.objects.exclude(answer="").exists()
    assert active.filter(kind=MembershipKind.HONORARY, person__isnull=False).exists()
    assert active.filter(kind=MembershipKind.HONORARY, organisation__isnull=False).exists()
    assert Ballot.objects.open().filter(kind="dismissal").exists()
    assert RepresentativeChange.objects.pending().exists()
