"""Organisations, their designated representatives and their memberships."""

import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, models
from django.db.models import OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from core.status import StatusChange, Transitions


class Category(models.TextChoices):
    """The four statutory categories of general members."""

    CITY = "city", _("City, association of cities or regional administration")
    NGO = "ngo", _("National or international non-governmental organisation")
    INSTITUTE = (
        "institute",
        _(
            "Institute, research centre, university, governmental or "
            "inter-governmental organisation"
        ),
    )
    PRIVATE = "private", _("Private sector business or organisation")


class Qualification(models.TextChoices):
    """Why a person may represent the organisation, under the statutes."""

    ELECTED = "elected", _("Holds an elected position")
    EMPLOYEE = "employee", _("Is a permanent employee")
    DIRECTOR = "director", _("Holds a directorial position")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("statutory category"), max_length=16, choices=Category.choices)
    country = CountryField(_("country"))
    city = models.CharField(_("city"), max_length=120)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [models.Index(fields=["country", "category"])]

    def __str__(self) -> str:
        return self.name


class RepresentativeStatus(models.TextChoices):
    PROPOSED = "proposed", _("Designated, awaiting the person's acceptance")
    CURRENT = "current", _("Designated")
    ENDED = "ended", _("Replaced")


REPRESENTATIVE_MOVES: Transitions[RepresentativeStatus] = Transitions(
    {
        "": {RepresentativeStatus.PROPOSED, RepresentativeStatus.CURRENT},
        # The person accepts (or declines, or is replaced before answering).
        RepresentativeStatus.PROPOSED: {
            RepresentativeStatus.PROPOSED,
            RepresentativeStatus.CURRENT,
            RepresentativeStatus.ENDED,
        },
        # The same person, designated again with another title or qualification.
        RepresentativeStatus.CURRENT: {RepresentativeStatus.CURRENT, RepresentativeStatus.ENDED},
    }
)


class RepresentativeQuerySet(models.QuerySet["Representative"]):
    def current(self) -> "RepresentativeQuerySet":
        """Representatives who accepted their designation and act for their organisation."""
        return self.filter(status=RepresentativeStatus.CURRENT)

    def standing(self) -> "RepresentativeQuerySet":
        """Designations not ended: accepted, or awaiting the person's answer."""
        return self.filter(ended_on__isnull=True)

    def awaiting_acceptance(self) -> "RepresentativeQuerySet":
        return self.filter(status=RepresentativeStatus.PROPOSED)

    def with_current_membership(self) -> "RepresentativeQuerySet":
        return self.prefetch_related(
            Prefetch(
                "organisation__memberships",
                queryset=Membership.objects.current(),
                to_attr="current_memberships",
            )
        )


class Representative(models.Model):
    """The person an organisation designates to act for it."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="representatives",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="representations",
        verbose_name=_("person"),
    )
    title = models.CharField(_("title"), max_length=150)
    qualification = models.CharField(
        _("qualification"), max_length=16, choices=Qualification.choices
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RepresentativeStatus.choices,
        default=RepresentativeStatus.CURRENT,
    )
    started_on = models.DateField(_("designated on"))
    ended_on = models.DateField(_("replaced on"), null=True, blank=True)

    objects = RepresentativeQuerySet.as_manager()

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        ordering = ["organisation__name", "-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(ended_on__isnull=True),
                name="one_current_representative_per_organisation",
                violation_error_message=_("This organisation already has a representative."),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="representative_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "current"], ended_on__isnull=True)
                | Q(status="ended", ended_on__isnull=False),
                name="representative_end_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"

    @property
    def is_current(self) -> bool:
        return self.status == RepresentativeStatus.CURRENT

    @property
    def awaits_acceptance(self) -> bool:
        return self.status == RepresentativeStatus.PROPOSED


class MembershipKind(models.TextChoices):
    GENERAL = "general", _("General member")
    HONORARY = "honorary", _("Honorary member")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


MEMBERSHIP_MOVES: Transitions[MembershipStatus] = Transitions(
    {
        "": {MembershipStatus.ACTIVE},
        MembershipStatus.ACTIVE: {MembershipStatus.ENDED},
    }
)


class EndReason(models.TextChoices):
    NO_LONGER_QUALIFIES = "disqualified", _("No longer meets the qualifications")
    RESIGNED = "resigned", _("Resigned")
    DISMISSED = "dismissed", _("Dismissed for cause")


def yearly_period(start: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The membership year that starts on ``start``: it ends the day before the anniversary."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + 1, day=28) + datetime.timedelta(days=1)
    return start, anniversary - datetime.timedelta(days=1)


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self) -> "MembershipQuerySet":
        return self.filter(status=MembershipStatus.ACTIVE)

    def due_for_renewal(self, on: datetime.date) -> "MembershipQuerySet":
        """Active general memberships whose current period has run out by ``on``.

        A period ends the day before its anniversary (``yearly_period``) and the next one starts
        on it: a membership is due once ``on`` reaches the anniversary (``period_end < on``).
        Honorary memberships need no renewal and are never due.
        """
        return self.current().filter(kind=MembershipKind.GENERAL, period_end__lt=on)

    def in_good_standing(self, on: datetime.date) -> "MembershipQuerySet":
        """Active on ``on``: within its period, or honorary (which needs no renewal)."""
        return self.current().filter(
            Q(kind=MembershipKind.HONORARY) | Q(period_start__lte=on, period_end__gte=on)
        )

    def ending_at_renewal(self) -> "MembershipQuerySet":
        """Flagged as no longer qualifying, or resigning: on the renewal date they end."""
        return self.filter(Q(not_qualifying_since__isnull=False) | Q(resigns_at_period_end=True))

    def renewing(self) -> "MembershipQuerySet":
        """Neither flagged nor resigning: on the renewal date they renew."""
        return self.filter(not_qualifying_since__isnull=True, resigns_at_period_end=False)

    def giving_member_fee_to(self, user: Any) -> "MembershipQuerySet":
        """The memberships through which ``user`` (a user, a pk or an ``OuterRef``) pays the
        member fee at the Centre's events: their own honorary membership, or the membership of
        an organisation they currently represent or are a contact of. Combine it with
        ``in_good_standing(on)``: only a member in good standing gives the member fee.
        """
        if isinstance(user, OuterRef):
            # In a subquery, an outer reference is one level further out.
            nested = OuterRef(user)
            represented = Representative.objects.current().filter(user=nested)
            colleague_of = Contact.objects.current().filter(user=nested)
            return self.filter(
                Q(person=user)
                | Q(organisation__in=represented.values("organisation"))
                | Q(organisation__in=colleague_of.values("organisation"))
            )
        # For one person: their organisations first (two index lookups), then the memberships
        # by key; an OR of subqueries would scan every membership.
        organisations = list(organisations_of(user))
        return self.filter(Q(person=user) | Q(organisation_id__in=organisations))


def organisations_of(user: Any) -> models.QuerySet:
    """The ids of the organisations ``user`` currently represents or is a contact of."""
    # No ordering on either side: SQLite refuses ORDER BY inside a compound statement.
    return (
        Representative.objects.current()
        .filter(user=user)
        .order_by()
        .values_list("organisation_id", flat=True)
        .union(
            Contact.objects.current()
            .filter(user=user)
            .order_by()
            .values_list("organisation_id", flat=True)
        )
    )


class Membership(models.Model):
    """An organisation's membership (general or honorary), or a person's honorary membership."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="honorary_memberships",
        verbose_name=_("person"),
        help_text=_("An honorary member appointed in their own name."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MembershipKind.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    started_on = models.DateField(_("member since"))
    period_start = models.DateField(_("current period starts"))
    period_end = models.DateField(_("current period ends"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(
        _("reason it ended"), max_length=16, choices=EndReason.choices, blank=True
    )
    end_note = models.TextField(_("explanation"), blank=True)
    # Flagged by staff as no longer meeting the qualifications: not renewed, it ends on its
    # renewal date unless the flag is cleared first (who and when: MembershipEvent).
    not_qualifying_since = models.DateField(
        _("flagged as no longer qualifying on"), null=True, blank=True
    )
    not_qualifying_reason = models.TextField(_("why it no longer qualifies"), blank=True)
    # The representative resigned with effect at the end of the current period; they may take
    # it back until then (who and when: MembershipEvent).
    resigns_at_period_end = models.BooleanField(
        _("resigns at the end of the period"), default=False
    )
    resignation_note = models.TextField(_("resignation: what the member wrote"), blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation__name", "-started_on"]
        indexes = [
            models.Index(fields=["status", "period_end"]),
            # The staff's list, newest members first, reads one page of rows, not all of them.
            models.Index(fields=["started_on", "id"], name="membership_started_on_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status="active"),
                name="one_current_membership_per_organisation",
                violation_error_message=_("This organisation is already a member."),
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="one_current_membership_per_person",
                violation_error_message=_("This person is already an honorary member."),
            ),
            # A member is an organisation, or a person the Board appointed an honorary member.
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, person__isnull=True)
                | Q(organisation__isnull=True, person__isnull=False, kind="honorary"),
                name="membership_held_by_an_organisation_or_an_honorary_person",
            ),
            models.CheckConstraint(
                condition=Q(not_qualifying_since__isnull=True) | ~Q(not_qualifying_reason=""),
                name="membership_flag_has_a_reason",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="membership_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="active", ended_on__isnull=True, end_reason="")
                    | (Q(status="ended", ended_on__isnull=False) & ~Q(end_reason=""))
                ),
                name="membership_end_recorded_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} – {self.get_kind_display()}"

    @property
    def holder_name(self) -> str:
        """The member's name: the organisation's, or the honorary member's own."""
        if self.organisation_id is not None:
            return self.organisation.name  # type: ignore[union-attr]
        return str(self.person)

    @property
    def has_vote_at_agm(self) -> bool:
        return self.kind == MembershipKind.GENERAL and self.status == MembershipStatus.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    @property
    def renews_on(self) -> datetime.date | None:
        """The next renewal date (the day after the period ends); None when it will not renew."""
        if not self.is_active or self.kind != MembershipKind.GENERAL:
            return None
        return self.period_end + datetime.timedelta(days=1)

    @property
    def is_flagged_not_qualifying(self) -> bool:
        return self.not_qualifying_since is not None

    @property
    def ends_at_renewal(self) -> bool:
        """Flagged or resigning: on its renewal date it ends instead of renewing."""
        return self.is_active and (self.is_flagged_not_qualifying or self.resigns_at_period_end)


class MembershipStatusChange(StatusChange):
    """Every change of a membership's status: who made it, when and why."""

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("membership"),
    )
    from_status = models.CharField(
        _("from"), max_length=16, choices=MembershipStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=MembershipStatus.choices)

    class Meta(StatusChange.Meta):
        pass


class RepresentativeStatusChange(StatusChange):
    """Every designation of a representative, change of title or qualification, and end."""

    representative = models.ForeignKey(
        Representative,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("representative"),
    )
    from_status = models.CharField(
        _("from"), max_length=16, choices=RepresentativeStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=RepresentativeStatus.choices)

    class Meta(StatusChange.Meta):
        verbose_name = _("change of representative")
        verbose_name_plural = _("changes of representative")


class MembershipRenewal(models.Model):
    """A general membership renewed for one more year: the period it starts, when and by whom.

    One per membership per period, as a database constraint: the yearly job claims each due
    membership once, and a second run, or a second worker, cannot record the same period again.
    """

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="renewals",
        verbose_name=_("membership"),
    )
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    renewed_at = models.DateTimeField(_("renewed at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the yearly renewal job renewed it."),
    )

    class Meta:
        verbose_name = _("renewal")
        verbose_name_plural = _("renewals")
        ordering = ["membership", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "period_start"],
                name="one_renewal_per_membership_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.period_start} – {self.period_end}"


class RenewalAnswer(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed: the representative still qualifies, details are right")
    CHANGES = "changes", _("Told the Centre what changed")


NOTICE_TOKEN_SALT = "members.renewal-notice"  # noqa: S105 - a namespace, not a secret


class RenewalNoticeQuerySet(models.QuerySet["RenewalNotice"]):
    def unanswered(self) -> "RenewalNoticeQuerySet":
        return self.filter(answer="")

    def awaiting_answer(self, on: datetime.date) -> "RenewalNoticeQuerySet":
        """Unanswered notices still worth an answer on ``on``: the renewal is ahead and the
        membership is active and will renew (a flagged or resigning one ends instead)."""
        return self.unanswered().filter(
            renews_on__gt=on,
            membership__status=MembershipStatus.ACTIVE,
            membership__not_qualifying_since__isnull=True,
            membership__resigns_at_period_end=False,
        )


class RenewalNotice(models.Model):
    """The notice a representative gets thirty days before the membership renews.

    One per membership per renewal date, as a database constraint: the daily job claims each
    membership coming up for renewal once, and a rerun or a second worker sends nothing again.
    The representative answers it in one click (confirm) or says what changed.
    """

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="renewal_notices",
        verbose_name=_("membership"),
    )
    renews_on = models.DateField(_("renews on"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    answer = models.CharField(_("answer"), max_length=16, choices=RenewalAnswer.choices, blank=True)
    changes = models.TextField(_("what changed"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )

    objects = RenewalNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("renewal notice")
        verbose_name_plural = _("renewal notices")
        ordering = ["-renews_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "renews_on"],
                name="one_renewal_notice_per_membership_per_period",
            ),
            models.CheckConstraint(
                condition=Q(answer="", answered_at__isnull=True)
                | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="renewal_notice_answer_has_a_time",
            ),
            models.CheckConstraint(
                condition=~Q(answer="changes") | ~Q(changes=""),
                name="renewal_notice_changes_are_described",
            ),
        ]
        indexes = [models.Index(fields=["answer", "renews_on"])]

    def __str__(self) -> str:
        return f"{self.membership}: {self.renews_on}"

    @property
    def is_answered(self) -> bool:
        return bool(self.answer)

    def awaits_answer(self, on: datetime.date) -> bool:
        """What ``RenewalNotice.objects.awaiting_answer`` says, for this notice."""
        return RenewalNotice.objects.awaiting_answer(on).filter(pk=self.pk).exists()

    def answer_token(self) -> str:
        """Signed, for the link in the notice: it answers this notice and nothing else."""
        return signing.dumps(self.pk, salt=NOTICE_TOKEN_SALT)

    @classmethod
    def from_token(cls, token: str) -> "RenewalNotice | None":
        try:
            pk = signing.loads(token, salt=NOTICE_TOKEN_SALT)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("membership__organisation").filter(pk=pk).first()


class MembershipEventKind(models.TextChoices):
    FLAGGED = "flagged", _("Flagged as no longer qualifying")
    FLAG_CLEARED = "flag_cleared", _("No-longer-qualifying flag cleared")
    RESIGNATION = "resignation", _("Resigned with effect at the end of the period")
    RESIGNATION_WITHDRAWN = "resignation_withdrawn", _("Resignation taken back")
    NOTICE_SENT = "notice_sent", _("Renewal notice sent")
    NOTICE_CONFIRMED = "notice_confirmed", _("Renewal notice confirmed")
    CHANGES_REPORTED = "changes_reported", _("Changes reported for the renewal")
    DISMISSAL_PROPOSED = "dismissal_proposed", _("Dismissal put to the Board")
    DISMISSAL_RESPONSE = "dismissal_response", _("Written response to the proposed dismissal")
    DISMISSAL_NOT_CARRIED = "dismissal_not_carried", _("The Board did not dismiss the member")
    REPRESENTATIVE_CHANGE = "representative_change", _("Change of representative asked")
    REPRESENTATIVE_CHANGE_CONFIRMED = (
        "representative_change_confirmed",
        _("Change of representative confirmed"),
    )
    REPRESENTATIVE_CHANGE_REFUSED = (
        "representative_change_refused",
        _("Change of representative refused"),
    )
    REPRESENTATIVE_CHANGE_WITHDRAWN = (
        "representative_change_withdrawn",
        _("Change of representative withdrawn"),
    )
    CONTACT_ADDED = "contact_added", _("Contact added")
    CONTACT_REMOVED = "contact_removed", _("Contact removed")


class MembershipEvent(models.Model):
    """Something that happened to a membership without changing its status: who, when and why.

    With the status changes, the renewals and the representatives' history, it is the history
    the member and the staff read.
    """

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("membership"),
    )
    kind = models.CharField(_("what"), max_length=40, choices=MembershipEventKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["membership", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d})"


class DismissalResponse(models.Model):
    """The member's written answer to a dismissal put to the Board; the directors read it."""

    ballot = models.ForeignKey(
        "board.Ballot",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("vote"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="dismissal_responses",
        verbose_name=_("organisation"),
    )
    text = models.TextField(_("response"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("response to a dismissal")
        verbose_name_plural = _("responses to a dismissal")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.at:%Y-%m-%d})"


class RepresentativeChangeStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the staff")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


REPRESENTATIVE_CHANGE_MOVES: Transitions[RepresentativeChangeStatus] = Transitions(
    {
        "": {RepresentativeChangeStatus.PENDING},
        RepresentativeChangeStatus.PENDING: {
            RepresentativeChangeStatus.CONFIRMED,
            RepresentativeChangeStatus.REFUSED,
            RepresentativeChangeStatus.WITHDRAWN,
        },
    }
)


class RepresentativeChangeQuerySet(models.QuerySet["RepresentativeChange"]):
    def pending(self) -> "RepresentativeChangeQuerySet":
        return self.filter(status=RepresentativeChangeStatus.PENDING)


class RepresentativeChange(models.Model):
    """A member asks to designate a new representative; the staff check the qualification."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="representative_changes",
        verbose_name=_("organisation"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email"))
    language = models.CharField(_("language"), max_length=8, default="en")
    title = models.CharField(_("title"), max_length=150)
    qualification = models.CharField(
        _("qualification"), max_length=16, choices=Qualification.choices
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RepresentativeChangeStatus.choices,
        default=RepresentativeChangeStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("note from the staff"), blank=True)
    representative = models.ForeignKey(
        Representative,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("designation made"),
    )

    objects = RepresentativeChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("change of representative asked")
        verbose_name_plural = _("changes of representative asked")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status="pending"),
                name="one_pending_representative_change_per_organisation",
                violation_error_message=_(
                    "A change of representative is already awaiting the staff."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.first_name} {self.last_name}"


class ContactQuerySet(models.QuerySet["Contact"]):
    def current(self) -> "ContactQuerySet":
        return self.filter(removed_at__isnull=True)


class Contact(models.Model):
    """A colleague the representative adds as one of the organisation's contacts.

    While the organisation is a member in good standing, its contacts register for the Centre's
    events at the member fee, as its representative does. Removing a contact keeps the row
    (who added and removed them, and when) and ends the member fee for them at once.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contact_of",
        verbose_name=_("person"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["organisation__name", "user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(removed_at__isnull=True),
                name="one_current_contact_per_person_per_organisation",
                violation_error_message=_("This person is already one of the contacts."),
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_at__gte=models.F("added_at")),
                name="contact_removed_after_added",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"

    @property
    def is_current(self) -> bool:
        return self.removed_at is None


def _member_fee_sql() -> str:
    membership = Membership._meta.db_table
    organisation = Organisation._meta.db_table
    representative = Representative._meta.db_table
    contact = Contact._meta.db_table
    # Two branches, each read through an index: the person's own honorary membership, and the
    # memberships of the organisations they represent or are a contact of (an OR of the two
    # would read every active membership). Ordered as the querysets order: general before
    # honorary, then by organisation name (where each database puts a person's own honorary
    # membership, with no organisation: the ORM writes no NULLS FIRST/LAST either), then by key.
    standing = (
        "m.status = %(active)s AND (m.kind = %(honorary)s"
        " OR (m.period_start <= %(on)s AND m.period_end >= %(on)s))"
    )
    return f"""
SELECT id FROM (
    SELECT m.id, m.kind, o.name
    FROM {membership} m
    LEFT OUTER JOIN {organisation} o ON o.id = m.organisation_id
    WHERE m.person_id = %(user)s AND {standing}
    UNION ALL
    SELECT m.id, m.kind, o.name
    FROM {membership} m
    JOIN {organisation} o ON o.id = m.organisation_id
    WHERE {standing}
      AND m.organisation_id IN (
          SELECT organisation_id FROM {representative}
          WHERE user_id = %(user)s AND status = %(current)s
          UNION ALL
          SELECT organisation_id FROM {contact}
          WHERE user_id = %(user)s AND removed_at IS NULL
      )
) AS giving
ORDER BY kind, name, id
LIMIT 1
"""  # noqa: S608 - only table names are formatted in; the values are parameters


_MEMBER_FEE_SQL: list[str] = []


def member_fee_membership(user_id: int, on: datetime.date) -> "Membership | None":
    """The membership in good standing on ``on`` through which the person ``user_id`` pays the
    member fee (``in_good_standing(on).giving_member_fee_to(user)``, general before honorary,
    then by organisation name), with its organisation; None for anyone else.

    The same rule as those two querysets, in one statement for the id: the ORM takes longer to
    build their two queries than the database takes to answer them, and every signed-in visit
    to an event page asks. tests/members/test_member_fee_rule.py holds both to the same answers.
    """
    if not _MEMBER_FEE_SQL:
        _MEMBER_FEE_SQL.append(_member_fee_sql())
    with connection.cursor() as cursor:
        cursor.execute(
            _MEMBER_FEE_SQL[0],
            {
                "user": user_id,
                "on": on,
                "active": MembershipStatus.ACTIVE.value,
                "honorary": MembershipKind.HONORARY.value,
                "current": RepresentativeStatus.CURRENT.value,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    # Memberships end rather than go, but a vanished one gives no fee rather than an error.
    return Membership.objects.select_related("organisation").filter(pk=row[0]).first()
