"""The rule that turns votes into a decision: pure functions, checked against tables and by
enumerating every way the remaining directors could still vote."""

import itertools

import pytest

from board.models import Choice, MajorityBasis, Outcome, TieRule
from board.rules import NOT_VOTED, Rule, Tally, outcome, settled_outcome

FOR, AGAINST, ABSTAIN, RECUSED = Choice.FOR, Choice.AGAINST, Choice.ABSTAIN, Choice.RECUSED
APPROVED, REJECTED, NO_QUORUM = Outcome.APPROVED, Outcome.REJECTED, Outcome.NO_QUORUM
FA, ALL = MajorityBasis.FOR_AND_AGAINST, MajorityBasis.ALL_VOTES_CAST
TIE_REJECTS, PRESIDENT_DECIDES = TieRule.REJECTED, TieRule.PRESIDENT

HALF = Rule(50, FA, PRESIDENT_DECIDES)


def tally(for_=0, against=0, abstain=0, recused=0, not_voted=0, president=NOT_VOTED) -> Tally:
    return Tally(for_, against, abstain, recused, not_voted, president)


# --- quorum -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "quorum", "needed"),
    [
        (tally(for_=1, not_voted=6), 50, 4),  # 7 sitting directors: 3.5 rounds up
        (tally(for_=1, recused=1, not_voted=5), 50, 3),  # a recusal leaves 6 who count
        (tally(for_=1, recused=3, not_voted=3), 50, 2),
        (tally(for_=1, not_voted=6), 100, 7),
        (tally(for_=1, recused=1, not_voted=5), 100, 6),
        (tally(for_=1, not_voted=6), 1, 1),
        (tally(recused=7), 50, 1),  # never less than one vote
    ],
)
def test_quorum_counts_only_sitting_directors_who_did_not_recuse(votes, quorum, needed):
    assert votes.quorum_needed(Rule(quorum, FA, TIE_REJECTS)) == needed


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        (tally(for_=3, not_voted=4), NO_QUORUM),  # 3 of 7, 4 needed
        (tally(for_=4, not_voted=3), APPROVED),
        (tally(for_=2, abstain=1, not_voted=4), NO_QUORUM),
        (tally(for_=2, abstain=2, not_voted=3), APPROVED),  # abstentions count for the quorum
        (tally(for_=3, recused=1, not_voted=3), APPROVED),  # 3 of the 6 who did not recuse
        (tally(for_=2, recused=2, not_voted=3), NO_QUORUM),  # 2 of 5: 3 needed
        (tally(recused=7), NO_QUORUM),  # everyone recused: nobody can decide
        (tally(), NO_QUORUM),  # no sitting director at all
    ],
)
def test_without_quorum_there_is_no_decision(votes, expected):
    assert outcome(votes, HALF) == expected


# --- majority -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "majority", "expected"),
    [
        # For v. against: abstentions are left out.
        (tally(for_=2, against=1, abstain=4), FA, APPROVED),
        (tally(for_=1, against=2, abstain=4), FA, REJECTED),
        (tally(for_=3, against=2, abstain=2), FA, APPROVED),
        # All votes cast: an abstention weighs like a vote against.
        (tally(for_=2, against=1, abstain=4), ALL, REJECTED),
        (tally(for_=3, against=2, abstain=2), ALL, REJECTED),
        (tally(for_=4, against=2, abstain=1), ALL, APPROVED),
        (tally(for_=4, abstain=3), ALL, APPROVED),
        (tally(for_=3, abstain=4), ALL, REJECTED),
        (tally(for_=4, abstain=3), FA, APPROVED),
        (tally(against=1, abstain=6), FA, REJECTED),
    ],
)
def test_majority_basis_decides_whether_abstentions_count_against(votes, majority, expected):
    assert outcome(votes, Rule(50, majority, TIE_REJECTS)) == expected


# --- ties ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("president", [FOR, AGAINST, ABSTAIN, RECUSED, NOT_VOTED])
def test_tie_is_rejected_under_the_tie_rejects_rule_whatever_the_president_voted(president):
    votes = tally(for_=3, against=3, abstain=1, president=president)
    assert outcome(votes, Rule(50, FA, TIE_REJECTS)) == REJECTED


@pytest.mark.parametrize(
    ("president", "expected"),
    [
        (FOR, APPROVED),
        (AGAINST, REJECTED),
        (ABSTAIN, REJECTED),
        (RECUSED, REJECTED),
        (NOT_VOTED, REJECTED),
    ],
)
def test_tie_is_decided_by_the_presidents_vote_under_the_president_rule(president, expected):
    votes = tally(for_=3, against=3, abstain=1, president=president)
    assert outcome(votes, Rule(50, FA, PRESIDENT_DECIDES)) == expected


@pytest.mark.parametrize(
    ("president", "expected"), [(FOR, APPROVED), (ABSTAIN, REJECTED), (AGAINST, REJECTED)]
)
def test_tie_counting_abstentions_against_is_also_decided_by_the_president(president, expected):
    votes = tally(for_=3, against=1, abstain=2, not_voted=1, president=president)
    assert outcome(votes, Rule(50, ALL, PRESIDENT_DECIDES)) == expected


# --- settled outcome ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "rule", "pending", "president_pending", "expected"),
    [
        pytest.param(tally(for_=4), HALF, 3, True, APPROVED, id="4-of-7-for"),
        pytest.param(tally(for_=4), HALF, 3, False, APPROVED, id="4-of-7-for-president-voted"),
        pytest.param(tally(for_=3), HALF, 4, True, None, id="3-of-7-for"),
        pytest.param(tally(for_=3, against=1), HALF, 3, True, None, id="3-for-1-against"),
        pytest.param(tally(against=4), HALF, 3, True, REJECTED, id="4-of-7-against"),
        pytest.param(
            tally(for_=4), Rule(50, ALL, TIE_REJECTS), 3, True, APPROVED, id="4-for-all-cast"
        ),
        pytest.param(
            tally(for_=3, abstain=1), Rule(50, ALL, TIE_REJECTS), 3, True, None, id="abstain"
        ),
        # 2 for, 3 against, 1 recused; the President could make it 3-3 and break the tie.
        pytest.param(
            tally(for_=2, against=3, recused=1),
            Rule(50, FA, PRESIDENT_DECIDES),
            1,
            True,
            None,
            id="casting-vote-still-to-come",
        ),
        pytest.param(
            tally(for_=2, against=3, recused=1),
            Rule(50, FA, TIE_REJECTS),
            1,
            True,
            REJECTED,
            id="no-casting-vote-under-tie-rejects",
        ),
        pytest.param(
            tally(for_=2, against=3, recused=1),
            Rule(50, FA, PRESIDENT_DECIDES),
            1,
            False,
            REJECTED,
            id="the-last-director-is-not-the-president",
        ),
        # 4 of 7 for, but 100 % must vote: if the others stay silent there is no quorum.
        pytest.param(tally(for_=4), Rule(100, FA, TIE_REJECTS), 3, False, None, id="quorum-100"),
        pytest.param(tally(for_=1), Rule(1, FA, TIE_REJECTS), 6, False, None, id="quorum-1"),
        # Everyone voted: the outcome is what it is.
        pytest.param(
            tally(for_=3, against=3, abstain=1, president=FOR),
            Rule(50, FA, PRESIDENT_DECIDES),
            0,
            False,
            APPROVED,
            id="all-voted-president-breaks-tie",
        ),
        pytest.param(tally(recused=7), HALF, 0, False, None, id="all-recused-left-to-president"),
    ],
)
def test_settled_outcome_is_known_only_when_no_remaining_vote_can_change_it(
    votes, rule, pending, president_pending, expected
):
    assert settled_outcome(votes, rule, pending, president_pending) == expected


# --- brute force cross-check --------------------------------------------------------------------

STATES = (FOR, AGAINST, ABSTAIN, RECUSED, NOT_VOTED)
RULES = [
    Rule(quorum, majority, tie)
    for quorum in (1, 34, 50, 51, 67, 100)
    for majority in (FA, ALL)
    for tie in (TIE_REJECTS, PRESIDENT_DECIDES)
]


def count(choices: list[str], president_choice: str) -> Tally:
    return Tally(
        for_=choices.count(FOR),
        against=choices.count(AGAINST),
        abstain=choices.count(ABSTAIN),
        recused=choices.count(RECUSED),
        not_voted=choices.count(NOT_VOTED),
        president=president_choice,
    )


def enumerated_settled_outcome(now: tuple[str, ...], has_president: bool, rule: Rule):
    """Try every final choice of every director who has not voted yet, one by one."""
    pending = [i for i, state in enumerate(now) if state == NOT_VOTED]
    seen = set()
    for finals in itertools.product(STATES, repeat=len(pending)):
        final = list(now)
        for i, choice in zip(pending, finals, strict=True):
            final[i] = choice
        president_choice = final[0] if has_president else NOT_VOTED
        seen.add(outcome(count(final, president_choice), rule))
        if len(seen) > 1:
            return None
    (only,) = seen
    return None if only == NO_QUORUM else only


def boards_so_far(size: int):
    """Every state of a Board of ``size`` (director 0 may be the President), up to symmetry."""
    for has_president in (True, False):
        first_states = STATES if has_president else (None,)
        for first in first_states:
            rest_size = size - 1 if has_president else size
            for rest in itertools.combinations_with_replacement(STATES, rest_size):
                yield has_president, ((first,) if has_president else ()) + rest


def test_settled_outcome_agrees_with_enumerating_every_remaining_vote():
    checked = disagreements = 0
    examples = []
    for size in range(1, 6):
        for has_president, now in boards_so_far(size):
            cast = [state for state in now if state != NOT_VOTED]
            president_now = now[0] if has_president else NOT_VOTED
            so_far = count(cast, president_now)
            pending = len(now) - len(cast)
            president_pending = has_president and now[0] == NOT_VOTED
            for rule in RULES:
                expected = enumerated_settled_outcome(now, has_president, rule)
                got = settled_outcome(so_far, rule, pending, president_pending)
                checked += 1
                if got != expected:
                    disagreements += 1
                    examples.append((now, has_president, rule, got, expected))
    assert checked > 10_000
    assert disagreements == 0, examples[:5]
