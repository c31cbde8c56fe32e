"""The membership application as a motion of the Board: what a vote on it shows and does."""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from board.models import Outcome
from board.motions import Motion

from . import services
from .models import Application, Status


class MembershipApplication(Motion):
    kind = services.MOTION_KIND
    label = _("Membership application")
    subject_model = Application
    detail_template = "applications/board/motion.html"
    # The applicant reads the decision and the reason written for them, never the votes.
    reason_reader = _("the applicant")

    def subject_label(self, subject: Application) -> str:
        return f"{subject.reference} – {subject.org_name}"

    def check_can_open(self, subject: Application, *, details: str) -> None:
        if not subject.can_send_to_board:
            raise ValidationError(
                gettext("This cannot be done while the application's status is “%(status)s”.")
                % {"status": subject.get_status_display()}
            )

    def detail_context(self, ballot, subject: Application) -> dict[str, Any]:
        return {"documents": subject.documents.all()}

    def carry_out(self, *, ballot, subject: Application, by) -> str:
        return services.carry_out_board_decision(ballot=ballot, application=subject, by=by)

    def not_carried_out(self, *, ballot, subject: Application, note: str) -> None:
        services.hand_back_to_staff(application=subject, note=note)

    def needs_reason(self, ballot) -> bool:
        """A rejected applicant is owed the Board's reason (asked afresh: the subject the vote
        holds may be older than the decision)."""
        return (
            ballot.outcome == Outcome.REJECTED
            and Application.objects.filter(pk=ballot.subject_id, status=Status.REJECTED).exists()
        )

    def reason_given(self, *, ballot, subject: Application, by) -> None:
        services.carry_out_board_decision(ballot=ballot, application=subject, by=by)
