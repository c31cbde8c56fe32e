"""The rule that turns the directors' votes into a decision. Pure functions, no database."""

import math
from collections.abc import Iterator
from dataclasses import dataclass

from .models import Choice, MajorityBasis, Outcome, TieRule

NOT_VOTED = "none"
OPTIONS = (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN, Choice.RECUSED, NOT_VOTED)


@dataclass(frozen=True)
class Rule:
    quorum_percent: int
    majority: str
    tie: str


@dataclass(frozen=True)
class Tally:
    """The votes of the sitting directors."""

    for_: int = 0
    against: int = 0
    abstain: int = 0
    recused: int = 0
    not_voted: int = 0
    president: str = NOT_VOTED  # the President's choice, or NOT_VOTED

    @property
    def cast(self) -> int:
        return self.for_ + self.against + self.abstain

    @property
    def eligible(self) -> int:
        """Directors who may take part: the sitting directors less those who recused."""
        return self.cast + self.not_voted

    def quorum_needed(self, rule: Rule) -> int:
        return max(1, math.ceil(self.eligible * rule.quorum_percent / 100))

    def with_choice(self, choice: str, president: bool = False) -> "Tally":
        counts = {
            Choice.FOR: "for_",
            Choice.AGAINST: "against",
            Choice.ABSTAIN: "abstain",
            Choice.RECUSED: "recused",
            NOT_VOTED: "not_voted",
        }
        values = {
            "for_": self.for_,
            "against": self.against,
            "abstain": self.abstain,
            "recused": self.recused,
            "not_voted": self.not_voted,
        }
        values[counts[choice]] += 1
        return Tally(**values, president=choice if president else self.president)


def outcome(tally: Tally, rule: Rule) -> Outcome:
    """The decision if the vote closed with these votes."""
    if tally.eligible == 0 or tally.cast < tally.quorum_needed(rule):
        return Outcome.NO_QUORUM
    if rule.majority == MajorityBasis.ALL_VOTES_CAST:
        pro, con = tally.for_, tally.against + tally.abstain
    else:
        pro, con = tally.for_, tally.against
    if pro > con:
        return Outcome.APPROVED
    if con > pro:
        return Outcome.REJECTED
    if rule.tie == TieRule.PRESIDENT and tally.president == Choice.FOR:
        return Outcome.APPROVED
    return Outcome.REJECTED


def _spread(count: int) -> Iterator[tuple[int, ...]]:
    """Every way ``count`` directors can split across the five options."""
    if count == 0:
        yield (0, 0, 0, 0, 0)
        return
    for a in range(count + 1):
        for b in range(count - a + 1):
            for c in range(count - a - b + 1):
                for d in range(count - a - b - c + 1):
                    yield (a, b, c, d, count - a - b - c - d)


def settled_outcome(
    tally: Tally, rule: Rule, pending: int, president_pending: bool
) -> Outcome | None:
    """The decision if no remaining vote can change it, else None.

    ``tally`` counts the votes cast so far (``not_voted`` is ignored); ``pending`` directors have
    not voted yet, the President among them when ``president_pending``. Any of them may still
    vote any way, recuse, or not vote at all before the deadline.
    """
    base = Tally(tally.for_, tally.against, tally.abstain, tally.recused, 0, tally.president)
    others = pending - (1 if president_pending else 0)
    president_options: tuple[str | None, ...] = OPTIONS if president_pending else (None,)
    seen: set[Outcome] = set()
    for president_choice in president_options:
        start = base if president_choice is None else base.with_choice(president_choice, True)
        for f, a, b, r, n in _spread(others):
            final = Tally(
                start.for_ + f,
                start.against + a,
                start.abstain + b,
                start.recused + r,
                start.not_voted + n,
                start.president,
            )
            seen.add(outcome(final, rule))
            if len(seen) > 1:
                return None
    (only,) = seen
    return None if only == Outcome.NO_QUORUM else only
