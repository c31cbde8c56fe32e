"""Every write on a membership application, from the first draft to the Board's decision."""

import datetime
from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import STAFF_GROUP, User
from board import services as board
from board.models import Ballot, BallotKind, Outcome
from core.emails import absolute_url, send_to_user
from members import services as members
from members.models import MembershipKind, Organisation

from .models import (
    OPEN_STATUSES,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    AreaOfWork,
    DocumentKind,
    ReferenceCounter,
    Status,
)
from .uploads import check_upload

DRAFT_FIELDS = (
    "org_name",
    "org_acronym",
    "category",
    "country",
    "city",
    "website",
    "activities",
    "rep_first_name",
    "rep_last_name",
    "rep_title",
    "rep_email",
    "rep_phone",
    "rep_qualification",
    "rep_declaration",
    "motivation",
    "agrees_to_statutes",
)

# What a complete application has, and what to say when it is missing.
REQUIRED_FOR_SUBMISSION = {
    "org_name": gettext_noop("Give the organisation's name."),
    "category": gettext_noop("Choose the statutory category that fits the organisation."),
    "country": gettext_noop("Choose the country."),
    "city": gettext_noop("Give the city."),
    "activities": gettext_noop(
        "Say what the organisation does in crime prevention and community safety."
    ),
    "rep_first_name": gettext_noop("Give the representative's first name."),
    "rep_last_name": gettext_noop("Give the representative's last name."),
    "rep_title": gettext_noop("Give the representative's title or position."),
    "rep_email": gettext_noop("Give the representative's email address."),
    "rep_qualification": gettext_noop("Say which qualification the representative has."),
    "rep_declaration": gettext_noop("Confirm that the representative holds this position."),
    "motivation": gettext_noop("Say why the organisation wants to join."),
    "agrees_to_statutes": gettext_noop("The organisation must agree to the statutes to apply."),
}


def _record(
    application: Application, to_status: Status, by: User | None, note: str = ""
) -> ApplicationEvent:
    event = ApplicationEvent.objects.create(
        application=application,
        from_status=application.status,
        to_status=to_status,
        actor=by,
        note=note,
    )
    application.status = to_status
    return event


def _lock(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _require(application: Application, *statuses: Status) -> None:
    if application.status not in statuses:
        raise ValidationError(
            _("This cannot be done while the application's status is “%(status)s”.")
            % {"status": application.get_status_display()}
        )


def application_url(application: Application) -> str:
    return absolute_url(reverse("applications:detail", args=[application.pk]))


def start_application(*, applicant: User) -> Application:
    """The applicant's draft: the one already started, or a new one.

    The applicant's row is locked, so a double click on "Start" makes one draft, not two.
    """
    with transaction.atomic():
        User.objects.select_for_update().get(pk=applicant.pk)
        draft = Application.objects.filter(applicant=applicant, status=Status.DRAFT).first()
        if draft is not None:
            return draft
        application = Application.objects.create(applicant=applicant)
        ApplicationEvent.objects.create(
            application=application, to_status=Status.DRAFT, actor=applicant
        )
    return application


def save_draft(
    *, application: Application, data: dict[str, Any], areas: list[AreaOfWork] | None
) -> Application:
    """Save what the applicant typed so far; nothing is required in a draft."""
    with transaction.atomic():
        locked = _lock(application)
        _require(locked, Status.DRAFT)
        fields = [name for name in DRAFT_FIELDS if name in data]
        for name in fields:
            setattr(locked, name, data[name])
        locked.save(update_fields=[*fields, "updated_at"])
        if areas is not None:
            locked.areas.set(areas)
    return locked


def add_document(
    *, application: Application, kind: DocumentKind, upload: UploadedFile, by: User
) -> ApplicationDocument:
    """Store an uploaded document under a generated name; a new letter replaces the old one."""
    with transaction.atomic():
        locked = _lock(application)
        _require(locked, Status.DRAFT, Status.INFO_REQUESTED)
        existing = locked.documents.all()
        replaced = existing.filter(kind=DocumentKind.LETTER).first() if kind == "letter" else None
        used = existing.aggregate(total=Sum("size"))["total"] or 0
        if replaced is not None:
            used -= replaced.size
        file_type = check_upload(upload, already_uploaded=used)
        if replaced is not None:
            old_file = replaced.file.name or ""
            replaced.delete()
            transaction.on_commit(lambda: replaced.file.storage.delete(old_file))
        original = upload.name or f"document{file_type.extension}"
        upload.name = f"upload{file_type.extension}"
        document = ApplicationDocument(
            application=locked,
            kind=kind,
            original_name=original[:255],
            content_type=file_type.content_type,
            size=upload.size or 0,
            uploaded_by=by,
        )
        document.file.save(upload.name, upload, save=False)
        stored = document.file.name or ""
        try:
            document.save()
        except Exception:
            document.file.storage.delete(stored)
            raise
        Application.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    return document


def remove_document(*, document: ApplicationDocument, by: User) -> None:
    with transaction.atomic():
        locked = _lock(document.application)
        _require(locked, Status.DRAFT)
        name = document.file.name or ""
        document.delete()
        transaction.on_commit(lambda: document.file.storage.delete(name))


def missing_for_submission(application: Application) -> dict[str, str]:
    """Field name -> what to do, for everything a complete application still lacks."""
    missing = {
        name: _(message)
        for name, message in REQUIRED_FOR_SUBMISSION.items()
        if not getattr(application, name)
    }
    if not application.documents.filter(kind=DocumentKind.LETTER).exists():
        missing["letter"] = _(
            "Upload the signed application letter addressed to the President of the Board."
        )
    return missing


def _next_reference(year: int) -> str:
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"APP-{year}-{counter.last_number:04d}"


def submit_application(*, application: Application, by: User) -> Application:
    """Check everything, give the application its reference and send it to the staff queue."""
    with transaction.atomic():
        locked = _lock(application)
        _require(locked, Status.DRAFT)
        missing = missing_for_submission(locked)
        if missing:
            raise ValidationError(missing)
        now = timezone.now()
        locked.reference = _next_reference(timezone.localdate(now).year)
        locked.submitted_at = now
        _record(locked, Status.SUBMITTED, by)
        locked.save(update_fields=["reference", "submitted_at", "status", "updated_at"])
        send_to_user(
            template="applications/email/submitted",
            user=locked.applicant,
            context={"application": locked, "url": application_url(locked)},
        )
    return locked


def withdraw_application(*, application: Application, by: User, reason: str = "") -> Application:
    with transaction.atomic():
        # Lock the open vote before the application, in the order a deciding vote takes them,
        # so a withdrawal and a final vote at the same moment wait for each other, not deadlock.
        list(Ballot.objects.select_for_update().filter(application=application, status="open"))
        locked = _lock(application)
        _require(locked, *OPEN_STATUSES)
        was_with_board = locked.status == Status.WITH_BOARD
        _record(locked, Status.WITHDRAWN, by, reason)
        locked.save(update_fields=["status", "updated_at"])
        if was_with_board:
            for ballot in Ballot.objects.open().filter(application=locked):
                board.cancel_ballot(
                    ballot=ballot, reason=_("The applicant withdrew the application.")
                )
    return locked


def request_information(*, application: Application, by: User, message: str) -> Application:
    """Staff ask the applicant for more; the applicant is emailed the question."""
    if not message.strip():
        raise ValidationError({"message": _("Write what the applicant should add or explain.")})
    with transaction.atomic():
        locked = _lock(application)
        _require(locked, Status.SUBMITTED)
        _record(locked, Status.INFO_REQUESTED, by, message.strip())
        locked.save(update_fields=["status", "updated_at"])
        send_to_user(
            template="applications/email/information_requested",
            user=locked.applicant,
            context={
                "application": locked,
                "message": message.strip(),
                "url": application_url(locked),
            },
        )
    return locked


def answer_information_request(*, application: Application, by: User, message: str) -> Application:
    """The applicant answers; the application goes back to the staff queue."""
    if not message.strip():
        raise ValidationError({"message": _("Write your answer to the Centre's question.")})
    with transaction.atomic():
        locked = _lock(application)
        _require(locked, Status.INFO_REQUESTED)
        _record(locked, Status.SUBMITTED, by, message.strip())
        locked.save(update_fields=["status", "updated_at"])
        _tell_staff(
            locked, template="applications/email/answered", context={"message": message.strip()}
        )
    return locked


def _tell_staff(application: Application, *, template: str, context: dict[str, Any]) -> None:
    """Email each member of the Centre's staff (one message each) about an application."""
    url = absolute_url(reverse("admin:applications_application_change", args=[application.pk]))
    for reviewer in User.objects.filter(is_active=True, groups__name=STAFF_GROUP):
        send_to_user(
            template=template,
            user=reviewer,
            context={"application": application, "url": url, **context},
        )


def send_to_board(*, application: Application, by: User, deadline: datetime.datetime) -> Ballot:
    """Open the Board's vote on a checked application."""
    with transaction.atomic():
        locked = _lock(application)
        _require(locked, Status.SUBMITTED)
        _record(
            locked,
            Status.WITH_BOARD,
            by,
            _("Vote open until %(deadline)s")
            % {"deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
        )
        locked.save(update_fields=["status", "updated_at"])
        return board.open_ballot(
            kind=BallotKind.APPLICATION,
            title=_("Membership application %(reference)s: %(name)s")
            % {"reference": locked.reference, "name": locked.org_name},
            motion=locked.activities,
            deadline=deadline,
            by=by,
            application=locked,
        )


def _representative_account(application: Application) -> tuple[User, bool]:
    """The account of the designated representative, created (and to be invited) if new."""
    email = application.rep_email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(
        email=email,
        password=None,
        first_name=application.rep_first_name,
        last_name=application.rep_last_name,
        language=application.applicant.language,
    )
    # Only the owner of the address can use the invitation link, so the address is proven.
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user, True


def _invitation_url(user: User) -> str:
    key = default_token_generator.make_token(user)
    return absolute_url(
        reverse(
            "account_reset_password_from_key",
            kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
        )
    )


def carry_out_board_decision(*, ballot: Ballot, by: User | None) -> None:
    """Called by the Board's vote once decided, inside its transaction."""
    assert ballot.application is not None
    application = _lock(ballot.application)
    _require(application, Status.WITH_BOARD)
    now = timezone.now()
    if ballot.outcome == Outcome.NO_QUORUM:
        _record(application, Status.SUBMITTED, by, ballot.decision_reason)
        application.save(update_fields=["status", "updated_at"])
        _tell_staff(
            application,
            template="applications/email/no_quorum",
            context={"reason": ballot.decision_reason},
        )
        return
    application.decided_at = now
    application.decision_reason = ballot.decision_reason
    if ballot.outcome == Outcome.REJECTED:
        _record(application, Status.REJECTED, by, ballot.decision_reason)
        application.save(update_fields=["status", "decided_at", "decision_reason", "updated_at"])
        send_to_user(
            template="applications/email/rejected",
            user=application.applicant,
            context={"application": application, "reason": ballot.decision_reason},
        )
        return

    today = timezone.localdate(now)
    organisation = Organisation.objects.create(
        name=application.org_name,
        category=application.category,
        country=application.country,
        city=application.city,
        website=application.website,
        description=application.activities,
    )
    membership = members.start_membership(
        organisation=organisation,
        kind=MembershipKind.GENERAL,
        on=today,
        by=by,
        reason=_("Application %(reference)s approved by the Board")
        % {"reference": application.reference},
    )
    rep_user, invited = _representative_account(application)
    members.designate_representative(
        organisation=organisation,
        user=rep_user,
        title=application.rep_title,
        qualification=application.rep_qualification,  # type: ignore[arg-type]
        on=today,
    )
    application.organisation = organisation
    _record(application, Status.APPROVED, by, ballot.decision_reason)
    application.save(
        update_fields=["status", "decided_at", "decision_reason", "organisation", "updated_at"]
    )
    context = {"application": application, "organisation": organisation, "membership": membership}
    send_to_user(
        template="applications/email/approved", user=application.applicant, context=context
    )
    if rep_user.pk != application.applicant_id:
        send_to_user(
            template="applications/email/representative_welcome",
            user=rep_user,
            context={
                **context,
                "invited": invited,
                "invitation_url": _invitation_url(rep_user) if invited else "",
                "account_url": absolute_url(reverse("accounts:profile")),
            },
        )
