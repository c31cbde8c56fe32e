"""The kinds of question the Board votes on, registered by the apps that own their subjects.

The Board's engine knows how directors vote and how a rule turns votes into a decision; it knows
nothing of applications or memberships. Each app describes its own motions with a ``Motion``
and registers it when Django starts (in its ``AppConfig.ready``):

- what the vote is about (``subject_model``) and how it is named (``subject_label``);
- whether a vote on a subject may open (``check_can_open``);
- what the directors see beside the tally (``detail_template`` and ``detail_context``);
- what a decision does (``carry_out``), called under the ballot's row lock, in the transaction
  that records the decision. It must not fail half-way: it checks again what it relies on and
  returns a note saying what it did, or why it could not, rather than raising;
- who, besides the Board and the staff, reads the reason written for the decision
  (``reason_reader``; None when no one does), whether a decision awaits such a reason
  (``needs_reason``) and what to do once the staff write it after the decision
  (``reason_given``).

The Board's deliberations are confidential: how each director voted and what they wrote stays
with the Board and the staff. The person concerned reads only the decision and the reason a
person wrote for them: the President closing the vote, or the staff on the Board's behalf.
"""

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.utils.functional import Promise

if TYPE_CHECKING:
    from accounts.models import User

# A motion's hooks receive the Board's ``Ballot``; this module sits below board.models (which
# imports it), so it names the type only in words.
Ballot = Any


class Motion:
    """One kind of motion. Subclass it in the app that owns the subject, and register it."""

    kind: ClassVar[str]  # stored on each ballot: a short, stable key
    label: ClassVar[str | Promise]  # "Membership application", translated at display time
    subject_model: ClassVar[type[models.Model]]
    # Included twice on the vote screen: with part="summary" beside the tally (a recommendation),
    # and with part="file" below it (the details and documents).
    detail_template: ClassVar[str]
    # "the applicant": who reads the reason the President (or the staff) write for the decision;
    # None when it stays with the Board and the staff. Never the directors' votes or comments.
    reason_reader: ClassVar[str | Promise | None] = None

    def subject_label(self, subject: Any) -> str:
        """A name for the subject that needs no translation (a reference, a name)."""
        return str(subject)

    def check_can_open(self, subject: Any, *, details: str) -> None:
        """Raise ValidationError when a vote on ``subject`` cannot open now."""

    def detail_context(self, ballot: Ballot, subject: Any) -> dict[str, Any]:
        """What ``detail_template`` needs, besides ``ballot`` and ``subject``."""
        return {}

    def carry_out(self, *, ballot: Ballot, subject: Any, by: "User | None") -> str:
        """Act on the decision recorded on ``ballot``; return a note for the record."""
        return ""

    def not_carried_out(self, *, ballot: Ballot, subject: Any, note: str) -> None:
        """``carry_out`` failed and was undone: put the subject where the staff can act."""

    def needs_reason(self, ballot: Ballot) -> bool:
        """Whether ``reason_reader`` is owed a reason for this decision. When the vote was decided
        with none written (as soon as the outcome was certain, or closed without one), the
        motion's ``carry_out`` tells the reader the decision and that the Centre's staff will
        write with the reason, and the staff are asked to write it on the Board's behalf."""
        return False

    def reason_given(self, *, ballot: Ballot, subject: Any, by: "User") -> None:
        """The reason awaited was written (``ballot.decision_reason``) after the decision: pass
        it on to ``reason_reader``. Called in the transaction that records it."""


_registry: dict[str, Motion] = {}


def register(motion: Motion) -> Motion:
    """Make a kind of motion known to the Board; registering a kind twice is a mistake."""
    existing = _registry.get(motion.kind)
    if existing is not None and type(existing) is not type(motion):
        raise ValueError(f"A motion of kind {motion.kind!r} is already registered.")
    _registry[motion.kind] = motion
    return motion


def get(kind: str) -> Motion:
    try:
        return _registry[kind]
    except KeyError:
        raise LookupError(f"No motion of kind {kind!r} is registered with the Board.") from None


def for_subject(subject: models.Model, kind: str) -> Motion:
    motion = get(kind)
    if not isinstance(subject, motion.subject_model):
        raise TypeError(f"A {kind!r} motion is about a {motion.subject_model.__name__}.")
    return motion


def all_kinds() -> list[Motion]:
    return list(_registry.values())


def choices() -> list[tuple[str, str]]:
    return [(motion.kind, str(motion.label)) for motion in _registry.values()]
