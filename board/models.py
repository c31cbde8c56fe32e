"""Votes of the Board of Directors on the motions other apps register (see board.motions)."""

from dataclasses import dataclass
from typing import NoReturn

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.status import Transitions
from core.templatetags.portal_time import when

from . import motions


class MajorityBasis(models.TextChoices):
    FOR_AND_AGAINST = "for_against", _("More votes for than against; abstentions do not count")
    ALL_VOTES_CAST = "all_cast", _("More than half of all votes cast, abstentions included")


class TieRule(models.TextChoices):
    REJECTED = "rejected", _("A tie means the proposal is rejected")
    PRESIDENT = "president", _("The President's vote decides a tie")


class VotingRule(models.Model):
    """How the Board decides, as the statutes say. Only a superuser changes it
    (``board.services.change_voting_rule``), and each change is kept (``VotingRuleChange``);
    each vote keeps a copy of the rule it opened under."""

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


class VotingRuleChange(models.Model):
    """One change of the voting rule: who made it, when, the rule before and after it.

    The first row of a rule has no "before": it is the rule as it stood when the history began.
    """

    # The history outlives the rule's row (a rule is never deleted through the admin).
    rule = models.ForeignKey(
        VotingRule,
        on_delete=models.SET_NULL,
        null=True,
        related_name="changes",
        verbose_name=_("rule"),
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    old_quorum_percent = models.PositiveSmallIntegerField(
        _("quorum before (%)"), null=True, blank=True
    )
    old_majority = models.CharField(
        _("majority before"), max_length=16, choices=MajorityBasis.choices, blank=True
    )
    old_tie = models.CharField(_("tie before"), max_length=16, choices=TieRule.choices, blank=True)
    quorum_percent = models.PositiveSmallIntegerField(_("quorum after (%)"))
    majority = models.CharField(_("majority after"), max_length=16, choices=MajorityBasis.choices)
    tie = models.CharField(_("tie after"), max_length=16, choices=TieRule.choices)

    class Meta:
        verbose_name = _("change of the voting rule")
        verbose_name_plural = _("history of the voting rule")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{when(self.changed_at)} {self.changed_by or '–'}"


class BallotStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")
    CANCELLED = "cancelled", _("Cancelled")


BALLOT_MOVES: Transitions[BallotStatus] = Transitions(
    {
        BallotStatus.OPEN: {BallotStatus.DECIDED, BallotStatus.CANCELLED},
    }
)


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    NO_QUORUM = "no_quorum", _("No decision: quorum not reached")


@dataclass(frozen=True)
class Refusal:
    """Why something may not be done; ``role`` when it is who asks, not when they ask."""

    message: str
    role: bool = False

    def raise_it(self) -> NoReturn:
        if self.role:
            raise PermissionDenied(self.message)
        raise ValidationError(self.message)


class BallotQuerySet(models.QuerySet["Ballot"]):
    def open(self) -> "BallotQuerySet":
        return self.filter(status=BallotStatus.OPEN)

    def about(self, subject: models.Model) -> "BallotQuerySet":
        """Every vote the Board held or holds on ``subject``."""
        return self.filter(
            subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
        )

    def awaiting_vote_of(self, director) -> "BallotQuerySet":
        """Open votes this director has not voted on and can still vote on."""
        return (
            self.open().filter(deadline__gt=timezone.now()).exclude(votes__director_id=director.pk)
        )


class Ballot(models.Model):
    """One question put to the Board, its rule, its votes and, once taken, its decision."""

    kind = models.CharField(_("kind"), max_length=32, help_text=_("The kind of motion."))
    # What the vote is about: a row of the app that registered the motion.
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("about a")
    )
    subject_id = models.PositiveBigIntegerField(_("about #"))
    subject = GenericForeignKey("subject_type", "subject_id")
    subject_label = models.CharField(
        _("about"), max_length=255, help_text=_("A reference or a name, in no language.")
    )
    details = models.TextField(_("details for the directors"), blank=True)
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
        help_text=_(
            "Empty when the vote decided itself: as soon as the outcome was certain, or when its "
            "deadline passed."
        ),
    )
    # What the person concerned reads (the motion's ``reason_reader``): a reason a person wrote
    # for them, the President closing the vote or the staff on the Board's behalf, sent as
    # written. Never the directors' votes or comments: those stay with the Board and the staff.
    # For a cancelled vote, why it was cancelled (for the directors).
    decision_reason = models.TextField(
        _("reason"),
        blank=True,
        help_text=_(
            "Written for the person concerned. The directors' votes and comments are not in it."
        ),
    )
    reason_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reason written by"),
    )
    reason_at = models.DateTimeField(_("reason written"), null=True, blank=True)
    tally = models.JSONField(_("tally at the decision"), default=dict, blank=True)
    effect_note = models.TextField(
        _("what the decision did"),
        blank=True,
        help_text=_("Written when the decision is carried out, or when it could not be."),
    )

    objects = BallotQuerySet.as_manager()

    class Meta:
        verbose_name = _("Board vote")
        verbose_name_plural = _("Board votes")
        ordering = ["deadline", "pk"]
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=Q(status="open"),
                name="one_open_vote_per_subject",
                violation_error_message=_("A vote on this is already open."),
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
    def motion(self) -> motions.Motion:
        return motions.get(self.kind)

    @property
    def kind_label(self) -> str:
        return str(self.motion.label)

    @property
    def title(self) -> str:
        """The question, in the language of the page or email that shows it."""
        return gettext("%(kind)s: %(subject)s") % {
            "kind": self.kind_label,
            "subject": self.subject_label,
        }

    @property
    def is_open(self) -> bool:
        return self.status == BallotStatus.OPEN

    @property
    def past_deadline(self) -> bool:
        return timezone.now() >= self.deadline

    # The one place that says who may vote and who may close; services and screens ask it.
    def vote_refusal(self, user: User) -> "Refusal | None":
        """Why ``user`` may not vote on this now, or None when they may."""
        if not user.is_board_director:
            return Refusal(gettext("Only sitting directors of the Board can vote."), role=True)
        if self.status == BallotStatus.CANCELLED:
            return Refusal(
                gettext("This vote was cancelled: %(why)s") % {"why": self.decision_reason}
            )
        if not BALLOT_MOVES.allows(self.status, BallotStatus.DECIDED):
            return Refusal(gettext("This vote is closed: the Board has decided."))
        if self.past_deadline:
            return Refusal(gettext("The deadline has passed; the vote closes with the votes cast."))
        return None

    def may_vote(self, user: User) -> bool:
        return self.vote_refusal(user) is None

    def close_refusal(self, user: User) -> "Refusal | None":
        """Why ``user`` may not close this vote now, or None when they may."""
        if not user.is_sitting_president:
            return Refusal(gettext("Only the President of the Board can close a vote."), role=True)
        if not BALLOT_MOVES.allows(self.status, BallotStatus.DECIDED):
            return Refusal(gettext("This vote is already closed."))
        if not self.past_deadline:
            return Refusal(gettext("The vote can be closed once its deadline has passed."))
        return None

    def may_close(self, user: User) -> bool:
        return self.close_refusal(user) is None

    @property
    def awaits_reason(self) -> bool:
        """Decided, the person concerned should be given a reason, and no one has written it."""
        return (
            self.status == BallotStatus.DECIDED
            and not self.reason_by_id
            and self.motion.reason_reader is not None
            and self.motion.needs_reason(self)
        )

    def reason_refusal(self, user: User) -> "Refusal | None":
        """Why ``user`` may not write the Board's reason for the person concerned now."""
        if not (user.is_centre_staff or user.is_sitting_president):
            return Refusal(
                gettext("Only the Centre's staff or the President write the Board's reason."),
                role=True,
            )
        if not self.awaits_reason:
            return Refusal(gettext("No reason is awaited on this vote."))
        return None

    def may_write_reason(self, user: User) -> bool:
        return self.reason_refusal(user) is None

    @property
    def tally_summary(self) -> str:
        """The recorded tally in words, in the language of the page or email that shows it
        (for the Board and the staff only)."""
        if not self.tally:
            return ""
        return gettext(
            "%(for)d for, %(against)d against, %(abstain)d abstaining, %(recused)d recused, "
            "%(none)d not voted"
        ) % {
            "for": self.tally.get("for", 0),
            "against": self.tally.get("against", 0),
            "abstain": self.tally.get("abstain", 0),
            "recused": self.tally.get("recused", 0),
            "none": self.tally.get("not_voted", 0),
        }


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
