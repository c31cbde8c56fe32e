"""The Board's motions about members: appointing an honorary member, dismissing one for cause."""

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import access_link
from board.models import Outcome
from board.motions import Motion
from core.emails import absolute_url, send_to_user
from core.locking import lock

from . import services
from .models import (
    DismissalResponse,
    EndReason,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    Organisation,
    Representative,
)


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
        services.tell_representatives(
            subject,
            template="members/email/honorary_appointed",
            context={"name": subject.name, "url": absolute_url(reverse("members:membership"))},
            purpose=f"members.honorary-appointed:{ballot.pk}",
        )
        if not Representative.objects.standing().filter(organisation=subject).exists():
            return gettext(
                "%(name)s is an honorary member. It has no representative yet: designate one "
                "from its membership's page, and they will be told."
            ) % {"name": subject.name}
        return gettext("%(name)s is an honorary member.") % {"name": subject.name}


class HonoraryPersonAppointment(Motion):
    """The Board appoints a person, in their own name, an honorary member."""

    kind = services.HONORARY_PERSON
    label = _("Appointment of a person as an honorary member")
    subject_model = User
    detail_template = "members/board/person.html"
    reason_reader = None

    def subject_label(self, subject: User) -> str:
        return str(subject)

    def check_can_open(self, subject: User, *, details: str) -> None:
        if services.is_member(subject):
            raise ValidationError(_("This person is already an honorary member."))
        if not details.strip():
            raise ValidationError({"details": _("Say why the Board is asked to appoint them.")})

    def detail_context(self, ballot, subject: User) -> dict[str, Any]:
        return {"heading": gettext("The person proposed as an honorary member")}

    def carry_out(self, *, ballot, subject: User, by) -> str:
        if ballot.outcome != Outcome.APPROVED:
            return ""
        subject = lock(subject)
        if services.is_member(subject):
            return gettext("Not appointed: %(name)s was already an honorary member.") % {
                "name": str(subject)
            }
        services.start_membership(
            person=subject,
            kind=MembershipKind.HONORARY,
            on=timezone.localdate(),
            by=by,
            reason=gettext("Appointed an honorary member by the Board."),
        )
        link = access_link(subject)
        send_to_user(
            template="members/email/honorary_appointed",
            user=subject,
            context={
                "name": str(subject),
                "url": absolute_url(reverse("members:membership")),
                # Someone the Centre created an account for chooses a password first.
                "access_link": link,
            },
            purpose=f"members.honorary-appointed:{ballot.pk}",
            sensitive=bool(link),  # the link signs the person in: staff never see it
        )
        return gettext("%(name)s is an honorary member.") % {"name": str(subject)}


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
            # Due process: what the member answered, for every director to read before voting.
            "responses": DismissalResponse.objects.filter(ballot=ballot).select_related("by"),
            "awaits_response": True,
        }

    def carry_out(self, *, ballot, subject: Organisation, by) -> str:
        if ballot.outcome != Outcome.APPROVED:
            return self._not_dismissed(ballot, subject)
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
            tell=False,  # the dismissal email below says why
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

    def _not_dismissed(self, ballot, subject: Organisation) -> str:
        """The member was told the question was put: it is told the answer, and the history
        says so. A vote without quorum decided nothing: the staff may put it again."""
        membership = subject.memberships.current().first()
        if membership is None:
            return ""
        no_quorum = ballot.outcome == Outcome.NO_QUORUM
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.DISMISSAL_NOT_CARRIED,
            note=str(Outcome(ballot.outcome).label),
        )
        services.tell_representatives(
            subject,
            template="members/email/dismissal_not_carried",
            context={"no_quorum": no_quorum, "url": absolute_url(reverse("members:membership"))},
            purpose=f"members.dismissal-not-carried:{ballot.pk}",
        )
        return gettext("%(name)s remains a member.") % {"name": subject.name}
