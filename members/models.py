"""Organisations, their designated representatives and their memberships."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
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
        return self.current().filter(period_start__lte=on, period_end__gte=on)


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
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

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation__name", "-started_on"]
        indexes = [models.Index(fields=["status", "period_end"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status="active"),
                name="one_current_membership_per_organisation",
                violation_error_message=_("This organisation is already a member."),
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
        return f"{self.organisation} – {self.get_kind_display()}"

    @property
    def has_vote_at_agm(self) -> bool:
        return self.kind == MembershipKind.GENERAL and self.status == MembershipStatus.ACTIVE


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
