"""Statuses and their history: one table of allowed moves per status, one kind of history row.

Each status enum gets a ``Transitions`` table. Services move a status only through it (the
recording helper refuses a move the table does not list), and the model properties, the admin's
buttons and the templates ask the same table what may happen next.
"""

from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

S = TypeVar("S", bound=str)


class Transitions(Generic[S]):
    """The moves a status may make: ``{from: {to, ...}}``; ``""`` is "not created yet"."""

    def __init__(self, moves: Mapping[S | str, Iterable[S]]) -> None:
        self._moves: dict[str, frozenset[str]] = {
            str(source): frozenset(str(t) for t in targets) for source, targets in moves.items()
        }

    def allows(self, source: str, target: str) -> bool:
        return str(target) in self._moves.get(str(source), frozenset())

    def sources_of(self, target: str) -> frozenset[str]:
        """Every status from which ``target`` may be reached."""
        return frozenset(s for s, targets in self._moves.items() if str(target) in targets)

    def check(self, source: str, target: str, *, label: str = "") -> None:
        """Raise a ValidationError that names the current status when the move is not allowed."""
        if not self.allows(source, target):
            raise ValidationError(
                gettext("This cannot be done while the status is “%(status)s”.")
                % {"status": label or source or "–"},
                code="status",
            )


class StatusChange(models.Model):
    """One change of status: from what, to what, who made it, when and why.

    Concrete subclasses add the foreign key to what changed and give ``from_status`` and
    ``to_status`` their choices.
    """

    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        source = self.get_from_status_display() if self.from_status else "–"  # type: ignore[attr-defined]
        return f"{source} → {self.get_to_status_display()}"  # type: ignore[attr-defined]


def move_status(
    subject: models.Model,
    *,
    to: str,
    transitions: Transitions,
    history: type[StatusChange],
    by=None,
    note: str = "",
    **link: models.Model,
) -> StatusChange:
    """Move ``subject.status`` to ``to`` if the table allows it, and keep the change.

    ``link`` names the history row's foreign key to the subject (``application=subject``). The
    caller holds the subject's row lock and saves the new status in the same transaction.
    """
    source = subject.status  # type: ignore[attr-defined]
    label = subject.get_status_display() if source else ""  # type: ignore[attr-defined]
    transitions.check(source, to, label=label)
    change = history._default_manager.create(
        from_status=source, to_status=to, actor=by, note=note, **link
    )
    subject.status = to  # type: ignore[attr-defined]
    return change


def record_start(
    subject: models.Model,
    *,
    transitions: Transitions,
    history: type[StatusChange],
    by=None,
    note: str = "",
    **link: models.Model,
) -> StatusChange:
    """Keep the first status of a row just created, if the table lets a row start there."""
    status = subject.status  # type: ignore[attr-defined]
    transitions.check("", status)
    return history._default_manager.create(
        from_status="", to_status=status, actor=by, note=note, **link
    )
