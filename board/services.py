"""Every write of a Board vote: opening it, casting votes, the decision, and handing it to the
motion that carries it out (see board.motions)."""

import datetime
import logging
from dataclasses import dataclass, field

from allauth.mfa.models import Authenticator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    VotingRuleChange,
)

log = logging.getLogger(__name__)

REMINDER_WINDOW = datetime.timedelta(hours=48)
MIN_VOTING_TIME = datetime.timedelta(hours=1)
MAX_VOTING_TIME = datetime.timedelta(days=90)


def current_rule() -> VotingRule:
    rule = VotingRule.objects.order_by("pk").first()
    return rule if rule is not None else VotingRule.objects.create()


def change_voting_rule(*, by: User, quorum_percent: int, majority: str, tie: str) -> VotingRule:
    """Change the rule the Board decides by (it comes from the statutes): a superuser only, and
    the change is kept with who made it, when, and the rule before and after. Votes already
    open keep the rule they opened under."""
    if not (by.is_active and by.is_superuser):
        raise PermissionDenied(_("Only a superuser can change the Board's voting rule."))
    with transaction.atomic():
        rule = lock(current_rule())
        old = (rule.quorum_percent, rule.majority, rule.tie)
        if old == (quorum_percent, majority, tie):
            return rule
        rule.quorum_percent, rule.majority, rule.tie = quorum_percent, majority, tie
        rule.updated_by = by
        rule.full_clean(exclude=["updated_by"])
        rule.save()
        VotingRuleChange.objects.create(
            rule=rule,
            changed_at=rule.updated_at,
            changed_by=by,
            old_quorum_percent=old[0],
            old_majority=old[1],
            old_tie=old[2],
            quorum_percent=quorum_percent,
            majority=majority,
            tie=tie,
        )
    return rule


def sitting_directors() -> list[User]:
    return list(User.objects.board_directors().order_by("last_name", "first_name", "pk"))


@dataclass(frozen=True)
class CannotVote:
    """A sitting director whom the administration, where the Board votes, does not let in yet.

    Until they can vote they do not count towards the quorum (see ``voting_directors``); the
    staff and the President are told, so that someone helps them in before the deadline.
    """

    NO_ACCESS = "no_access"
    NO_SECOND_FACTOR = "no_second_factor"
    LABELS = {
        NO_ACCESS: gettext_lazy("no access to the administration"),
        NO_SECOND_FACTOR: gettext_lazy("two-factor authentication not set up"),
    }

    director: User
    reason: str

    @property
    def label(self) -> str | Promise:
        return self.LABELS[self.reason]


def directors_who_cannot_vote(directors: list[User] | None = None) -> list[CannotVote]:
    """The sitting directors the administration would turn away (one query): it lets in only
    staff accounts with two-factor authentication (core.admin_site)."""
    directors = sitting_directors() if directors is None else directors
    with_factor = set(
        Authenticator.objects.filter(user_id__in=[d.pk for d in directors]).values_list(
            "user_id", flat=True
        )
    )
    blocked = []
    for director in directors:
        if not director.is_staff:
            blocked.append(CannotVote(director, CannotVote.NO_ACCESS))
        elif director.pk not in with_factor:
            blocked.append(CannotVote(director, CannotVote.NO_SECOND_FACTOR))
    return blocked


def voting_directors(directors: list[User] | None = None) -> list[User]:
    """The sitting directors who can vote now: the ones the administration lets in.

    Only they count for the quorum, so a director who cannot vote yet never holds a vote short of
    it; the others are named on the vote's page and in the emails until they can.
    """
    directors = sitting_directors() if directors is None else directors
    blocked = {b.director.pk for b in directors_who_cannot_vote(directors)}
    return [d for d in directors if d.pk not in blocked]


def second_factor_url() -> str:
    return absolute_url(reverse("mfa_activate_totp"))


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
    """Count the votes of the directors who can vote (one who left the Board, or whom the
    administration does not let in yet, does not count)."""
    directors = voting_directors() if directors is None else voting_directors(directors)
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


def ballot_admin_url(ballot: Ballot, user: User | None = None) -> str:
    """The vote's page, in ``user``'s language (the French administration for a French reader)."""
    with translation.override(user.language if user is not None and user.language else None):
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
    now = timezone.now()
    if deadline < now + MIN_VOTING_TIME:
        raise ValidationError({"deadline": _("Give the directors at least an hour to vote.")})
    if deadline > now + MAX_VOTING_TIME:
        latest = timezone.localtime(now + MAX_VOTING_TIME)
        raise ValidationError(
            {
                "deadline": _(
                    "A vote stays open %(days)d days at most: choose a deadline before %(latest)s."
                )
                % {"days": MAX_VOTING_TIME.days, "latest": latest.strftime("%Y-%m-%d %H:%M")}
            }
        )
    directors = sitting_directors()
    if not directors:
        raise ValidationError(_("The Board has no sitting director: no one could vote."))
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
        blocked = directors_who_cannot_vote(directors)
        cannot_vote = {b.director.pk: b.reason for b in blocked}
        for director in directors:
            send_to_user(
                template="board/email/vote_opened",
                user=director,
                context={
                    "ballot": ballot,
                    "url": ballot_admin_url(ballot, director),
                    # Their own way in, if the administration would turn them away...
                    "cannot_vote": cannot_vote.get(director.pk, ""),
                    "second_factor_url": second_factor_url(),
                    # ... and, for the President, who cannot vote yet.
                    "blocked": blocked if director.is_board_president else [],
                },
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
    """The President closes a vote at its deadline with the votes cast; ``reason`` is written
    for the person concerned (the motion's ``reason_reader``) and sent to them as written."""
    with transaction.atomic():
        locked = lock(ballot)
        by = User.objects.get(pk=by.pk)
        refusal = locked.close_refusal(by)
        if refusal:
            refusal.raise_it()
        view = tally_of(locked)
        return _decide(locked, rules.outcome(view.tally, view.rule), view, by, reason)


def close_overdue_ballots(*, now: datetime.datetime | None = None) -> int:
    """Close every open vote whose deadline has passed, under the rule copied onto it (a beat job).

    No one needs to be there: the decision is the one the President would reach closing it with
    the votes cast. Each vote in its own transaction, claimed with SKIP LOCKED, so that a second
    run, or the President closing it by hand at that moment, never decides a vote twice; one
    vote that fails does not stop the others. Returns how many it closed.
    """
    now = now or timezone.now()
    closed = 0
    overdue = Ballot.objects.open().filter(deadline__lte=now).order_by("deadline", "pk")
    for pk in overdue.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                locked = (
                    Ballot.objects.open()
                    .select_for_update(skip_locked=True)
                    .filter(pk=pk, deadline__lte=now)
                    .first()
                )
                if locked is None:  # decided meanwhile, or being closed by someone else
                    continue
                view = tally_of(locked)
                _decide(locked, rules.outcome(view.tally, view.rule), view, None, "")
                closed += 1
        except Exception:
            log.exception("The overdue vote %s could not be closed", pk)
    return closed


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


def _decide(
    ballot: Ballot, outcome: Outcome, view: TallyView, closed_by: User | None, reason: str
) -> Ballot:
    """Record the decision once (the caller holds the row lock) and carry it out.

    The tally and the votes stay with the Board and the staff. ``reason`` is what the President
    wrote for the person concerned, if anything: when the motion wants one and none was
    written, the staff are asked to write it on the Board's behalf.
    """
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
    reason = reason.strip()
    written_by = closed_by if reason else None
    BALLOT_MOVES.check(ballot.status, BallotStatus.DECIDED, label=ballot.get_status_display())
    updated = Ballot.objects.filter(pk=ballot.pk, status=BallotStatus.OPEN).update(
        status=BallotStatus.DECIDED,
        outcome=outcome,
        decided_at=now,
        closed_by=closed_by,
        decision_reason=reason,
        reason_by=written_by,
        reason_at=now if written_by else None,
        tally=tally,
    )
    if updated != 1:  # pragma: no cover - the row lock makes this unreachable
        raise ValidationError(_("This vote is already closed."))
    ballot.refresh_from_db()
    note = _carry_out(ballot, closed_by)
    if note:
        Ballot.objects.filter(pk=ballot.pk).update(effect_note=note)
        ballot.effect_note = note
    if ballot.awaits_reason:
        for person in User.objects.centre_staff():
            send_to_user(
                template="board/email/reason_needed",
                user=person,
                context={
                    "ballot": ballot,
                    "reader": ballot.motion.reason_reader,
                    "url": ballot_admin_url(ballot, person),
                },
                purpose=f"board.reason-needed:{ballot.pk}",
            )
    return ballot


def write_decision_reason(*, ballot: Ballot, by: User, reason: str) -> Ballot:
    """The staff (or the President) write, on the Board's behalf, the reason a decision taken
    without one owes the person concerned; the motion passes it on as written. Once written it
    has been sent, so it is written once."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Write the reason.")})
    with transaction.atomic():
        locked = lock(ballot)
        by = User.objects.get(pk=by.pk)
        refusal = locked.reason_refusal(by)
        if refusal:
            refusal.raise_it()
        Ballot.objects.filter(pk=locked.pk).update(
            decision_reason=reason, reason_by=by, reason_at=timezone.now()
        )
        locked.refresh_from_db()
        locked.motion.reason_given(ballot=locked, subject=locked.subject, by=by)
    return locked


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
                context={"ballot": ballot, "note": note, "url": ballot_admin_url(ballot, person)},
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
    cannot_vote = {b.director.pk: b.reason for b in directors_who_cannot_vote(directors)}
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
                        context={
                            "ballot": ballot,
                            "url": ballot_admin_url(ballot, director),
                            "cannot_vote": cannot_vote.get(director.pk, ""),
                            "second_factor_url": second_factor_url(),
                        },
                        purpose=f"board.vote-reminder:{ballot.pk}",
                    )
                    sent += 1
    return sent
