"""Every write of a Board vote: opening it, casting votes, the decision, and handing it to the
motion that carries it out (see board.motions)."""

import datetime
import logging
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.emails import absolute_url, send_to_user
from core.locking import lock

from . import motions, rules
from .models import (
    BALLOT_MOVES,
    Ballot,
    BallotStatus,
    Choice,
    Outcome,
    Vote,
    VoteReminder,
    VotingRule,
)

log = logging.getLogger(__name__)

REMINDER_WINDOW = datetime.timedelta(hours=48)
MIN_VOTING_TIME = datetime.timedelta(hours=1)


def current_rule() -> VotingRule:
    rule = VotingRule.objects.order_by("pk").first()
    return rule if rule is not None else VotingRule.objects.create()


def sitting_directors() -> list[User]:
    return list(User.objects.board_directors().order_by("last_name", "first_name", "pk"))


@dataclass
class TallyView:
    """What the admin shows beside a vote: counts, who voted how, who has not voted."""

    tally: rules.Tally
    rule: rules.Rule
    votes: list[Vote] = field(default_factory=list)
    not_voted: list[User] = field(default_factory=list)

    @property
    def quorum_needed(self) -> int:
        return self.tally.quorum_needed(self.rule)

    @property
    def outcome_if_closed_now(self) -> Outcome:
        return rules.outcome(self.tally, self.rule)


def rule_of(ballot: Ballot) -> rules.Rule:
    return rules.Rule(ballot.quorum_percent, ballot.majority, ballot.tie)


def tally_of(ballot: Ballot, directors: list[User] | None = None) -> TallyView:
    """Count the votes of the sitting directors (a director who left the Board no longer counts)."""
    directors = sitting_directors() if directors is None else directors
    sitting = {d.pk: d for d in directors}
    votes = [
        v
        for v in ballot.votes.select_related("director").order_by("cast_at", "pk")
        if v.director_id in sitting
    ]
    counts = {choice: 0 for choice in Choice.values}
    president = rules.NOT_VOTED
    for vote in votes:
        counts[vote.choice] += 1
        if vote.director.is_board_president:
            president = vote.choice
    voted = {v.director_id for v in votes}
    not_voted = [d for pk, d in sitting.items() if pk not in voted]
    tally = rules.Tally(
        for_=counts[Choice.FOR],
        against=counts[Choice.AGAINST],
        abstain=counts[Choice.ABSTAIN],
        recused=counts[Choice.RECUSED],
        not_voted=len(not_voted),
        president=president,
    )
    return TallyView(tally=tally, rule=rule_of(ballot), votes=votes, not_voted=not_voted)


def ballot_admin_url(ballot: Ballot) -> str:
    return absolute_url(reverse("admin:board_ballot_change", args=[ballot.pk]))


def open_ballot(
    *,
    kind: str,
    subject: models.Model,
    details: str,
    deadline: datetime.datetime,
    by: User,
) -> Ballot:
    """Put a motion to the Board under the rule in force, and tell every sitting director.

    The motion's app calls this inside its own transaction, holding its subject's row lock.
    """
    motion = motions.for_subject(subject, kind)
    if deadline < timezone.now() + MIN_VOTING_TIME:
        raise ValidationError({"deadline": _("Give the directors at least an hour to vote.")})
    directors = sitting_directors()
    if not directors:
        raise ValidationError(_("The Board has no sitting director: no one could vote."))
    if not any(d.is_board_president for d in directors):
        raise ValidationError(
            _("The Board has no sitting President to close the vote at its deadline: mark one.")
        )
    motion.check_can_open(subject, details=details)
    with transaction.atomic():
        rule = current_rule()
        try:
            with transaction.atomic():
                ballot = Ballot.objects.create(
                    kind=kind,
                    subject_type=ContentType.objects.get_for_model(subject),
                    subject_id=subject.pk,
                    subject_label=motion.subject_label(subject)[:255],
                    details=details,
                    deadline=deadline,
                    opened_by=by,
                    quorum_percent=rule.quorum_percent,
                    majority=rule.majority,
                    tie=rule.tie,
                )
        except IntegrityError:
            raise ValidationError(_("A vote on this is already open.")) from None
        for director in directors:
            send_to_user(
                template="board/email/vote_opened",
                user=director,
                context={"ballot": ballot, "url": ballot_admin_url(ballot)},
                purpose=f"board.vote-opened:{ballot.pk}",
            )
    return ballot


def open_ballots_on(subject: models.Model) -> "models.QuerySet[Ballot]":
    return Ballot.objects.about(subject).open()


def lock_open_ballots_on(subject: models.Model) -> list[Ballot]:
    """Lock the open votes on ``subject``, before the subject itself: the order a deciding vote
    takes them in (ballot, then subject), so the two wait for each other rather than deadlock."""
    return list(open_ballots_on(subject).select_for_update())


def cast_vote(*, ballot: Ballot, director: User, choice: Choice, comment: str = "") -> Vote:
    """Record (or change) a sitting director's vote; decide as soon as the outcome is certain."""
    comment = comment.strip()
    if choice == Choice.RECUSED and not comment:
        raise ValidationError({"comment": _("Say what the conflict of interest is.")})
    with transaction.atomic():
        locked = lock(ballot)
        director = User.objects.get(pk=director.pk)  # fresh: still a sitting director?
        refusal = locked.vote_refusal(director)
        if refusal:
            refusal.raise_it()
        vote, _created = Vote.objects.update_or_create(
            ballot=locked, director=director, defaults={"choice": choice, "comment": comment}
        )
        view = tally_of(locked)
        president_pending = any(d.is_board_president for d in view.not_voted)
        settled = rules.settled_outcome(
            view.tally, view.rule, len(view.not_voted), president_pending
        )
        if settled is not None:
            _decide(locked, settled, view, closed_by=None, reason="")
    return vote


def close_ballot(*, ballot: Ballot, by: User, reason: str = "") -> Ballot:
    """The President closes a vote at its deadline with the votes cast."""
    with transaction.atomic():
        locked = lock(ballot)
        by = User.objects.get(pk=by.pk)
        refusal = locked.close_refusal(by)
        if refusal:
            refusal.raise_it()
        view = tally_of(locked)
        return _decide(locked, rules.outcome(view.tally, view.rule), view, by, reason)


def cancel_ballot(*, ballot: Ballot, reason: str) -> None:
    """Stop an open vote whose question is gone (an application withdrawn)."""
    BALLOT_MOVES.check(ballot.status, BallotStatus.CANCELLED, label=ballot.get_status_display())
    updated = Ballot.objects.filter(pk=ballot.pk, status=BallotStatus.OPEN).update(
        status=BallotStatus.CANCELLED, decision_reason=reason
    )
    if updated:
        for director in sitting_directors():
            send_to_user(
                template="board/email/vote_cancelled",
                user=director,
                context={"ballot": ballot, "reason": reason},
                purpose=f"board.vote-cancelled:{ballot.pk}",
            )


def _summary(view: TallyView) -> str:
    t = view.tally
    return _(
        "%(for)d for, %(against)d against, %(abstain)d abstaining, %(recused)d recused, "
        "%(none)d not voted"
    ) % {
        "for": t.for_,
        "against": t.against,
        "abstain": t.abstain,
        "recused": t.recused,
        "none": t.not_voted,
    }


def _decide(
    ballot: Ballot, outcome: Outcome, view: TallyView, closed_by: User | None, reason: str
) -> Ballot:
    """Record the decision once (the caller holds the row lock) and carry it out."""
    now = timezone.now()
    tally = {
        "for": view.tally.for_,
        "against": view.tally.against,
        "abstain": view.tally.abstain,
        "recused": view.tally.recused,
        "not_voted": view.tally.not_voted,
        "president": view.tally.president,
        "quorum_needed": view.quorum_needed,
    }
    full_reason = reason.strip()
    if not full_reason:
        full_reason = _("The Board of Directors voted: %(tally)s.") % {"tally": _summary(view)}
        reasons = [v.comment for v in view.votes if v.choice == Choice.AGAINST and v.comment]
        if outcome == Outcome.REJECTED and reasons:
            full_reason += "\n" + "\n".join(f"– {r}" for r in reasons)
    BALLOT_MOVES.check(ballot.status, BallotStatus.DECIDED, label=ballot.get_status_display())
    updated = Ballot.objects.filter(pk=ballot.pk, status=BallotStatus.OPEN).update(
        status=BallotStatus.DECIDED,
        outcome=outcome,
        decided_at=now,
        closed_by=closed_by,
        decision_reason=full_reason,
        tally=tally,
    )
    if updated != 1:  # pragma: no cover - the row lock makes this unreachable
        raise ValidationError(_("This vote is already closed."))
    ballot.refresh_from_db()
    note = _carry_out(ballot, closed_by)
    if note:
        Ballot.objects.filter(pk=ballot.pk).update(effect_note=note)
        ballot.effect_note = note
    return ballot


def _carry_out(ballot: Ballot, by: User | None) -> str:
    """The motion acts on the decision, in this transaction, under the ballot's lock.

    It checks again what it relies on and says what it did. Should it fail all the same, its
    work is undone whole (a savepoint), the decision stays recorded, the motion is told so it
    can hand its subject back to the staff, and the staff are emailed.
    """
    motion = ballot.motion
    subject = ballot.subject
    try:
        with transaction.atomic():
            return motion.carry_out(ballot=ballot, subject=subject, by=by)
    except Exception as error:
        log.exception("The Board's decision on ballot %s could not be carried out", ballot.pk)
        why = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        note = _("The decision could not be carried out: %(why)s") % {"why": why}
        with transaction.atomic():
            motion.not_carried_out(ballot=ballot, subject=subject, note=note)
        for person in User.objects.centre_staff():
            send_to_user(
                template="board/email/not_carried_out",
                user=person,
                context={"ballot": ballot, "note": note, "url": ballot_admin_url(ballot)},
                purpose=f"board.not-carried-out:{ballot.pk}",
            )
        return note


def send_vote_reminders(*, now: datetime.datetime | None = None) -> int:
    """Remind directors who have not voted, once per vote, when its deadline is near.

    Safe to run twice or in two workers: the reminder row is claimed before the email goes out.
    """
    now = now or timezone.now()
    sent = 0
    due = Ballot.objects.open().filter(deadline__gt=now, deadline__lte=now + REMINDER_WINDOW)
    directors = sitting_directors()
    for ballot in due:
        voted = set(ballot.votes.values_list("director_id", flat=True))
        for director in directors:
            if director.pk in voted:
                continue
            with transaction.atomic():
                _reminder, created = VoteReminder.objects.get_or_create(
                    ballot=ballot, director=director
                )
                if created:
                    send_to_user(
                        template="board/email/vote_reminder",
                        user=director,
                        context={"ballot": ballot, "url": ballot_admin_url(ballot)},
                        purpose=f"board.vote-reminder:{ballot.pk}",
                    )
                    sent += 1
    return sent
