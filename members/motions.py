"""The Board's motions about members: appointing an honorary member, dismissing one for cause."""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from board.models import Outcome
from board.motions import Motion
from core.locking import lock

from . import services
from .models import EndReason, MembershipKind, Organisation, Representative


def _organisation_context(organisation: Organisation) -> dict[str, Any]:
    return {
        "membership": organisation.memberships.current().first(),
        "representative": Representative.objects.current()
        .filter(organisation=organisation)
        .select_related("user")
        .first(),
    }


class OrganisationMotion(Motion):
    """A motion about an organisation: the directors see it, its membership and representative."""

    subject_model = Organisation
    detail_template = "members/board/organisation.html"

    def subject_label(self, subject: Organisation) -> str:
        return subject.name


class HonoraryAppointment(OrganisationMotion):
    kind = services.HONORARY
    label = _("Appointment of an honorary member")
    reason_reader = None  # the Board's reason stays with the Board and the staff

    def check_can_open(self, subject: Organisation, *, details: str) -> None:
        if services.is_member(subject):
            raise ValidationError(_("This organisation is already a member."))

    def detail_context(self, ballot, subject: Organisation) -> dict[str, Any]:
        return {
            **_organisation_context(subject),
            "heading": gettext("The organisation proposed as an honorary member"),
            "details_label": gettext("Why the Board is asked"),
        }

    def carry_out(self, *, ballot, subject: Organisation, by) -> str:
        if ballot.outcome != Outcome.APPROVED:
            return ""
        # Checked again under the lock: the organisation may have become a member since.
        subject = lock(subject)
        if services.is_member(subject):
            return gettext(
                "Not appointed: %(name)s had become a member by the time the Board decided."
            ) % {"name": subject.name}
        services.start_membership(
            organisation=subject,
            kind=MembershipKind.HONORARY,
            on=timezone.localdate(),
            by=by,
            reason=gettext("Appointed an honorary member by the Board."),
        )
        return gettext("%(name)s is an honorary member.") % {"name": subject.name}


class Dismissal(OrganisationMotion):
    kind = services.DISMISSAL
    label = _("Dismissal of a member for cause")
    # The member reads the cause staff stated when the vote opened and, on dismissal, what the
    # President wrote when closing the vote; never the directors' votes or comments.
    reason_reader = _("the member")

    def check_can_open(self, subject: Organisation, *, details: str) -> None:
        if not services.is_member(subject):
            raise ValidationError(_("This organisation is not a member: there is nothing to end."))
        if not details.strip():
            raise ValidationError({"details": _("State the cause: the member is told it.")})

    def detail_context(self, ballot, subject: Organisation) -> dict[str, Any]:
        return {
            **_organisation_context(subject),
            "heading": gettext("The member the Board is asked to dismiss"),
            "details_label": gettext("The cause"),
        }

    def carry_out(self, *, ballot, subject: Organisation, by) -> str:
        if ballot.outcome != Outcome.APPROVED:
            return ""
        subject = lock(subject)
        membership = subject.memberships.current().first()
        if membership is None:
            return gettext("Nothing to end: %(name)s was no longer a member.") % {
                "name": subject.name
            }
        services.end_membership(
            membership=membership,
            reason=EndReason.DISMISSED,
            note=ballot.details,
            on=timezone.localdate(),
            by=by,
        )
        services.tell_representatives(
            subject,
            template="members/email/dismissed",
            context={
                "reason": "\n\n".join(
                    text for text in (ballot.details, ballot.decision_reason) if text
                )
            },
            purpose=f"members.dismissed:{ballot.pk}",
        )
        return gettext("The membership of %(name)s has ended.") % {"name": subject.name}
