"""Votes of the Board of Directors: on applications, honorary appointments and dismissals."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Organisation


class MajorityBasis(models.TextChoices):
    FOR_AND_AGAINST = "for_against", _("More votes for than against; abstentions do not count")
    ALL_VOTES_CAST = "all_cast", _("More than half of all votes cast, abstentions included")


class TieRule(models.TextChoices):
    REJECTED = "rejected", _("A tie means the proposal is rejected")
    PRESIDENT = "president", _("The President's vote decides a tie")


class VotingRule(models.Model):
    """How the Board decides. Staff set it; each vote keeps a copy of the rule it opened under."""

    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum (% of sitting directors who must vote)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Directors who recuse themselves do not count towards the quorum."),
    )
    majority = models.CharField(
        _("majority"),
        max_length=16,
        choices=MajorityBasis.choices,
        default=MajorityBasis.FOR_AND_AGAINST,
    )
    tie = models.CharField(
        _("tie"), max_length=16, choices=TieRule.choices, default=TieRule.PRESIDENT
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("voting rule")
        verbose_name_plural = _("voting rule")
        constraints = [
            models.CheckConstraint(
                condition=Q(quorum_percent__gte=1, quorum_percent__lte=100),
                name="quorum_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Voting rule"))


class BallotKind(models.TextChoices):
    APPLICATION = "application", _("Membership application")
    HONORARY = "honorary", _("Appointment of an honorary member")
    DISMISSAL = "dismissal", _("Dismissal of a member for cause")


class BallotStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")
    CANCELLED = "cancelled", _("Cancelled")


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    NO_QUORUM = "no_quorum", _("No decision: quorum not reached")


class BallotQuerySet(models.QuerySet["Ballot"]):
    def open(self) -> "BallotQuerySet":
        return self.filter(status=BallotStatus.OPEN)

    def awaiting_vote_of(self, director) -> "BallotQuerySet":
        """Open votes this director has not voted on and can still vote on."""
        return (
            self.open().filter(deadline__gt=timezone.now()).exclude(votes__director_id=director.pk)
        )


class Ballot(models.Model):
    """One question put to the Board, its rule, its votes and, once taken, its decision."""

    kind = models.CharField(_("kind"), max_length=16, choices=BallotKind.choices)
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ballots",
        verbose_name=_("application"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ballots",
        verbose_name=_("organisation"),
    )
    title = models.CharField(_("question"), max_length=255)
    motion = models.TextField(_("details for the directors"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=BallotStatus.choices, default=BallotStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    deadline = models.DateTimeField(_("deadline"))
    # The rule in force when the vote opened.
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (%)"))
    majority = models.CharField(_("majority"), max_length=16, choices=MajorityBasis.choices)
    tie = models.CharField(_("tie"), max_length=16, choices=TieRule.choices)
    # The decision, recorded once.
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
        help_text=_("Empty when the decision was taken as soon as the outcome was certain."),
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    tally = models.JSONField(_("tally at the decision"), default=dict, blank=True)

    objects = BallotQuerySet.as_manager()

    class Meta:
        verbose_name = _("Board vote")
        verbose_name_plural = _("Board votes")
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["status", "deadline"])]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="open"),
                name="one_open_vote_per_application",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="application", application__isnull=False)
                    | (~Q(kind="application") & Q(organisation__isnull=False))
                ),
                name="ballot_has_its_subject",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="decided", outcome__in=["approved", "rejected", "no_quorum"])
                    & Q(decided_at__isnull=False)
                )
                | (~Q(status="decided") & Q(outcome="")),
                name="decided_ballot_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("opened_at")),
                name="ballot_deadline_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == BallotStatus.OPEN

    @property
    def past_deadline(self) -> bool:
        return timezone.now() >= self.deadline


class Choice(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")
    RECUSED = "recused", _("Recused (conflict of interest)")


class Vote(models.Model):
    ballot = models.ForeignKey(
        Ballot, on_delete=models.CASCADE, related_name="votes", verbose_name=_("vote")
    )
    director = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="board_votes",
        verbose_name=_("director"),
    )
    choice = models.CharField(_("vote"), max_length=16, choices=Choice.choices)
    comment = models.TextField(_("comment"), blank=True)
    cast_at = models.DateTimeField(_("cast"), auto_now_add=True)
    changed_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("director's vote")
        verbose_name_plural = _("directors' votes")
        ordering = ["cast_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "director"],
                name="one_vote_per_director_per_ballot",
                violation_error_message=_("This director has already voted."),
            ),
            models.CheckConstraint(
                condition=~Q(choice="recused") | ~Q(comment=""),
                name="recusal_declares_the_conflict",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.director}: {self.get_choice_display()}"


class VoteReminder(models.Model):
    """A reminder sent to a director who had not voted; one per director per vote."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="reminders")
    director = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vote reminder")
        verbose_name_plural = _("vote reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "director"], name="one_reminder_per_director_per_ballot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.director_id} @ {self.ballot_id}"
