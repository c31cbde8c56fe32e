"""The membership application as a motion of the Board: what a vote on it shows and does."""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from board.motions import Motion

from . import services
from .models import Application


class MembershipApplication(Motion):
    kind = services.MOTION_KIND
    label = _("Membership application")
    subject_model = Application
    detail_template = "applications/board/motion.html"
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
