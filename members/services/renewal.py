"""The yearly renewal and its notices: set-based daily jobs, safe to run twice or at once.

- ``send_renewal_notices``: thirty days before a general membership renews, its representatives
  are asked to confirm that the representative still qualifies and the details are right, or
  to say what changed (one notice per membership per renewal date, a database constraint).
- ``renew_due_memberships``: on its renewal date a general membership is renewed for one more
  year (one renewal record per membership per period, a database constraint), or, flagged as
  no longer qualifying or resigning at the end of the period, it ends.

Both work batch by batch, each batch one transaction: they lock the rows no other run holds
(``SELECT ... FOR UPDATE SKIP LOCKED``), change them with a few statements, and write the
emails to the outbox in the same transaction, each with a purpose key that makes a second copy
impossible. A row changed is no longer selected, so a second run, or a second worker at the
same time, finds nothing left to do; a run that dies mid-way has committed its finished
batches, and the next run does the rest.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
)
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.people import PEOPLE
from core.emails import BulkEmails, Recipient, absolute_url, send_to_user
from members.models import (
    EndReason,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    MembershipQuerySet,
    MembershipRenewal,
    RenewalNotice,
    RepresentativeStatus,
    yearly_period,
)
from members.services import end_membership

# Memberships a batch, each batch a transaction holding its rows' locks for about half a second
# at this size. Fewer batches spend less on statements, commits and template renders; the
# run's memory depends on the batch, not on how many are due.
RENEWAL_BATCH_SIZE = 5000
log = logging.getLogger(__name__)
NOTICE_DAYS = 30
ONE_DAY = datetime.timedelta(days=1)

Progress = Callable[[int], object] | None


class RenewalSummary(NamedTuple):
    """What one run of the renewal did.

    ``renewed``: renewal records written (a membership more than a year behind counts once per
    period). ``ended``: memberships that ended on their renewal date, flagged as no longer
    qualifying or resigning. ``skipped``: memberships still due when the run finished because
    another run held them locked at that moment; that run renews or ends them.
    """

    renewed: int
    ended: int
    skipped: int
    # Memberships whose ending failed and was undone; the staff are emailed, the next run tries
    # again, and the rest of the run goes on.
    failed: int = 0


def _periods_behind(period_end: datetime.date, on: datetime.date) -> int:
    """How many yearly renewals bring a period that ends on ``period_end`` up to ``on``."""
    count = 0
    while period_end < on:
        period_end = yearly_period(period_end + ONE_DAY)[1]
        count += 1
    return count


class Claimed(NamedTuple):
    """A membership locked for this batch: what the jobs need of it, its emails' addressee
    included (read in the claim's own query, rather than in one more per batch)."""

    pk: int
    period_end: datetime.date
    ends_at_renewal: bool
    organisation_name: str
    # Its current representative; None when it has none (a designation awaiting acceptance).
    representative: Recipient | None


# An organisation has at most one standing representative (the database's constraint
# ``one_current_representative_per_organisation``): joining the current one keeps one row per
# membership, so that the claim's LIMIT counts memberships.
def _current_representative() -> FilteredRelation:
    return FilteredRelation(
        "organisation__representatives",
        condition=Q(organisation__representatives__status=RepresentativeStatus.CURRENT),
    )


def _claim(memberships: MembershipQuerySet, after: int, batch_size: int) -> list[Claimed]:
    """The next batch after ``after`` (by id), locked; rows other runs hold are left to them."""
    rows = (
        memberships.filter(pk__gt=after)
        .annotate(representative=_current_representative())
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list(
            "pk",
            "period_end",
            "not_qualifying_since",
            "resigns_at_period_end",
            "organisation__name",
            "representative__user__email",
            "representative__user__first_name",
            "representative__user__last_name",
            "representative__user__language",
        )[:batch_size]
    )
    return [
        Claimed(
            pk,
            period_end,
            flagged is not None or resigning,
            name or "",
            # None: no current representative (the join found none).
            None
            if email is None
            else Recipient(email, f"{first} {last}".strip() or email, language),
        )
        for pk, period_end, flagged, resigning, name, email, first, last, language in rows
    ]


def _in_batches(
    memberships: MembershipQuerySet,
    batch: Callable[[list[Claimed]], None],
    *,
    batch_size: int,
    again: bool,
    progress: Progress,
    skip: set[int] | None = None,
) -> None:
    """Claim and handle ``memberships`` batch by batch, each in a transaction of its own.

    Walks them in order of id (each claim starts after the last one, so it never reads the
    rows already done again). ``again``: a handled row may still be selected (a membership
    more than a year behind): walk again from the start until a walk claims nothing. ``skip``:
    ids the batches add to as they go (rows that failed), never claimed again in this run.
    """
    after, claimed_in_walk = 0, False
    while True:
        with transaction.atomic():
            claimed = _claim(
                memberships.exclude(pk__in=skip) if skip else memberships, after, batch_size
            )
            if claimed:
                batch(claimed)
        if not claimed:
            if not (again and claimed_in_walk):
                return
            after, claimed_in_walk = 0, False
            continue
        after, claimed_in_walk = claimed[-1].pk, True
        if progress is not None:
            progress(len(claimed))


# --- The renewal -------------------------------------------------------------------------


def renew_due_memberships(
    *,
    on: datetime.date,
    batch_size: int = RENEWAL_BATCH_SIZE,
    dry_run: bool = False,
    progress: Progress = None,
) -> RenewalSummary:
    """Renew every general membership due on ``on`` for one more year (the daily job).

    A membership is due once ``on`` reaches its renewal date, the day after its period ends.
    Renewed: its period moves a year on, a renewal record is kept and its representatives get
    a confirmation. A membership more than a year behind is renewed period by period, one
    record and one email each. Flagged as no longer qualifying, or resigning at the end of the
    period, it ends instead, on its renewal date, with the staff's reason (the flag wins) or
    the member's note, and the member is told. Honorary memberships need no renewal.

    Idempotent: a second run the same day, or a second worker at the same time, finds nothing
    left (``skipped`` counts the memberships another run held locked when this one finished).
    A run that fails between batches keeps the batches it finished; the next does the rest.

    ``dry_run``: count what would be renewed and ended, and change nothing. It takes no locks,
    so it skips nothing (``skipped`` is 0). ``progress`` is called with the number of
    memberships handled after each batch.
    """
    due = Membership.objects.due_for_renewal(on)
    if dry_run:
        return _dry_run(due, on=on, progress=progress)
    counts = {"renewed": 0, "ended": 0}
    failed: set[int] = set()

    def batch(claimed: list[Claimed]) -> None:
        renewed, ended = _renew_or_end(claimed, failed)
        counts["renewed"] += renewed
        counts["ended"] += ended

    _in_batches(due, batch, batch_size=batch_size, again=True, progress=progress, skip=failed)
    return RenewalSummary(
        renewed=counts["renewed"],
        ended=counts["ended"],
        skipped=due.exclude(pk__in=failed).count(),
        failed=len(failed),
    )


def _dry_run(due: MembershipQuerySet, *, on: datetime.date, progress: Progress) -> RenewalSummary:
    ended = due.ending_at_renewal().count()
    per_end = due.renewing().order_by().values_list("period_end").annotate(n=Count("pk"))
    renewals = sum(n * _periods_behind(period_end, on) for period_end, n in per_end)
    if progress is not None:
        progress(due.count())
    return RenewalSummary(renewed=renewals, ended=ended, skipped=0)


def _renew_or_end(claimed: list[Claimed], failed: set[int]) -> tuple[int, int]:
    """One batch, locked, in the caller's transaction: (renewed, ended).

    Each ending in a savepoint: one that fails is undone, added to ``failed`` and reported to
    the staff, and the batch goes on; it stays due, for the next run.
    """
    renewing = [m for m in claimed if not m.ends_at_renewal]
    ending = [m.pk for m in claimed if m.ends_at_renewal]
    ended = 0
    for membership in Membership.objects.filter(pk__in=ending).order_by("pk"):
        try:
            with transaction.atomic():
                _end_at_renewal(membership)
        except Exception as error:
            log.exception("The membership %s could not end on its renewal date", membership.pk)
            failed.add(membership.pk)
            _tell_staff_it_failed(membership, error)
        else:
            ended += 1
    if renewing:
        _renew(renewing)
    return len(renewing), ended


def _tell_staff_it_failed(membership: Membership, error: Exception) -> None:
    url = absolute_url(reverse("admin:members_membership_change", args=[membership.pk]))
    for person in User.objects.centre_staff().distinct():
        send_to_user(
            template="members/email/renewal_failed",
            user=person,
            context={"membership": membership, "error": str(error), "url": url},
            purpose=f"members.renewal-failed:{membership.pk}:{membership.period_end.isoformat()}",
        )


def _end_at_renewal(membership: Membership) -> None:
    if membership.is_flagged_not_qualifying:
        reason, note = EndReason.NO_LONGER_QUALIFIES, membership.not_qualifying_reason
    else:
        reason, note = EndReason.RESIGNED, membership.resignation_note
    end_membership(
        membership=membership,
        reason=reason,
        note=note,
        on=membership.period_end + ONE_DAY,
        by=None,
        tell=True,
    )


def _renew(memberships: list[Claimed]) -> None:
    """Move each period a year on, record the renewals and queue the confirmations."""
    by_end: dict[datetime.date, list[Claimed]] = defaultdict(list)
    for membership in memberships:
        by_end[membership.period_end].append(membership)
    # The set-based move below saves no model: the members' own pages are retired here.
    PEOPLE.bump_on_commit()
    emails = BulkEmails("members/email/renewed")
    url = absolute_url(reverse("members:membership"))
    for old_end, group in by_end.items():
        start, end = yearly_period(old_end + ONE_DAY)
        _move_and_record([m.pk for m in group], old_end=old_end, start=start, end=end)
        shared = {"period_start": start, "period_end": end, "url": url}
        purpose = f"members.renewed:{{}}:{start.isoformat()}"
        for membership in group:
            if membership.representative is not None:
                emails.add(
                    to=membership.representative,
                    purpose=purpose.format(membership.pk),
                    shared=shared,
                    personal={"organisation.name": membership.organisation_name},
                )
    emails.write()


def _move_and_record(
    pks: list[int], *, old_end: datetime.date, start: datetime.date, end: datetime.date
) -> None:
    """Move these locked memberships' periods from ``old_end`` to (``start``, ``end``) and
    record one renewal each, in set-based SQL rather than a model instance each: on PostgreSQL
    one statement (the records are inserted from the rows the update returns), elsewhere an
    UPDATE and an INSERT ... SELECT (SQLite).

    ``pks`` in order of id. The range of ids beside the list lets PostgreSQL read the batch
    through the primary key; for a list alone it scans the whole table, once per batch (at
    100,000 memberships: a second and a half more).
    """
    quote = connection.ops.quote_name
    memberships = quote(Membership._meta.db_table)
    renewals = quote(MembershipRenewal._meta.db_table)
    # Only rows still at that period move: the lock holds them, the condition says so.
    move = (
        f"UPDATE {memberships} SET period_start = %s, period_end = %s "  # noqa: S608 - names quoted, values parameters
        f"WHERE period_end = %s AND id BETWEEN %s AND %s "
        f"AND id IN ({', '.join(['%s'] * len(pks))})"
    )
    moving: list[datetime.date | int] = [start, end, old_end, pks[0], pks[-1], *pks]
    record = f"INSERT INTO {renewals} (membership_id, period_start, period_end, renewed_at, by_id)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH moved AS ({move} RETURNING id) "  # noqa: S608 - names quoted, values parameters
                f"{record} SELECT id, %s, %s, %s, NULL FROM moved",
                [*moving, start, end, timezone.now()],
            )
            if cursor.rowcount != len(pks):
                raise RuntimeError("A claimed membership moved under its lock.")
            return
        cursor.execute(move, moving)
        if cursor.rowcount != len(pks):
            raise RuntimeError("A claimed membership moved under its lock.")
        cursor.execute(
            f"{record} SELECT id, %s, %s, %s, NULL FROM {memberships} "  # noqa: S608 - names quoted, values parameters
            f"WHERE period_start = %s AND id BETWEEN %s AND %s "
            f"AND id IN ({', '.join(['%s'] * len(pks))})",
            [start, end, timezone.now(), start, pks[0], pks[-1], *pks],
        )
        if cursor.rowcount != len(pks):
            raise RuntimeError("A claimed membership was not renewed under its lock.")


# --- The notices, thirty days ahead ------------------------------------------------------


def coming_up_for_renewal(on: datetime.date) -> MembershipQuerySet:
    """General memberships that renew within ``NOTICE_DAYS`` after ``on`` (``on`` excluded),
    will renew (not flagged, not resigning), and have no notice for that renewal date yet."""
    has_notice = RenewalNotice.objects.filter(
        membership=OuterRef("pk"),
        renews_on=ExpressionWrapper(OuterRef("period_end") + ONE_DAY, output_field=DateField()),
    )
    return (
        Membership.objects.current()
        .filter(kind=MembershipKind.GENERAL)
        .renewing()
        .filter(period_end__gte=on, period_end__lt=on + datetime.timedelta(days=NOTICE_DAYS))
        .filter(~Exists(has_notice))
    )


def send_renewal_notices(
    *,
    on: datetime.date,
    batch_size: int = RENEWAL_BATCH_SIZE,
    dry_run: bool = False,
    progress: Progress = None,
) -> int:
    """Send the renewal notice of every membership that renews within thirty days of ``on``.

    Each gets a notice (one per membership per renewal date, a database constraint), a line in
    its history, and an email to its current representatives: it renews on that date; confirm
    in one click that the representative still qualifies and the details are right, or say
    what changed. A membership flagged as no longer qualifying, or resigning, gets none; nor
    does an honorary one. Returns how many notices were sent (would be, with ``dry_run``).

    Idempotent like the renewal: a membership with its notice is no longer selected, and the
    insert skips one another run wrote first, sending nothing for it.
    """
    coming = coming_up_for_renewal(on)
    if dry_run:
        count = coming.count()
        if progress is not None:
            progress(count)
        return count
    sent = 0

    def batch(claimed: list[Claimed]) -> None:
        nonlocal sent
        sent += _notify(claimed)

    _in_batches(coming, batch, batch_size=batch_size, again=False, progress=progress)
    return sent


def _notify(claimed: list[Claimed]) -> int:
    """Write the notices of one batch; email only for those this run wrote."""
    renews_on = {m.pk: m.period_end + ONE_DAY for m in claimed}
    # Asked again under the lock, in a statement of its own: a run that claimed these rows
    # before us and has committed since wrote their notices; the claim's snapshot may not show
    # them, this query does. No other run can write them now: we hold the rows.
    already = set(
        RenewalNotice.objects.filter(membership_id__in=renews_on)
        .filter(
            renews_on=ExpressionWrapper(
                F("membership__period_end") + ONE_DAY, output_field=DateField()
            )
        )
        .values_list("membership_id", flat=True)
    )
    notices = RenewalNotice.objects.bulk_create(
        RenewalNotice(membership_id=pk, renews_on=day)
        for pk, day in renews_on.items()
        if pk not in already
    )
    written = {notice.membership_id: notice.pk for notice in notices}
    if not written:
        return 0
    memberships = [m for m in claimed if m.pk in written]
    MembershipEvent.objects.bulk_create(
        MembershipEvent(
            membership_id=m.pk,
            kind=MembershipEventKind.NOTICE_SENT,
            note=renews_on[m.pk].isoformat(),
        )
        for m in memberships
    )
    # The link answers the notice for the member: kept from the staff's view of the outbox.
    emails = BulkEmails("members/email/renewal_notice", sensitive=True)
    url = absolute_url(reverse("members:membership"))
    for membership in memberships:
        if membership.representative is None:
            continue
        notice = RenewalNotice(pk=written[membership.pk], renews_on=renews_on[membership.pk])
        answer_url = absolute_url(reverse("members:renewal_notice", args=[notice.answer_token()]))
        emails.add(
            to=membership.representative,
            purpose=f"members.renewal-notice:{membership.pk}:{notice.renews_on.isoformat()}",
            shared={"renews_on": notice.renews_on, "url": url},
            personal={
                "organisation.name": membership.organisation_name,
                "answer_url": answer_url,
            },
        )
    emails.write()
    return len(memberships)
