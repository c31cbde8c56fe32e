"""Every write on a membership application, from the first draft to the Board's decision."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import services as accounts
from accounts.models import User
from board import services as board
from board.models import Ballot, Outcome
from core.emails import absolute_url, send_to_user
from core.locking import lock
from core.status import move_status, record_start
from members import services as members
from members.models import Qualification

from .models import (
    APPLICATION_MOVES,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationNote,
    AreaOfWork,
    DocumentKind,
    NoteKind,
    ReferenceCounter,
    Status,
)
from .uploads import check_upload

MOTION_KIND = "application"  # the Board's motion for an application (see applications.motions)

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
    "rep_language",
    "rep_qualification",
    "rep_declaration",
    "motivation",
    "agrees_to_statutes",
)

KEEP_WHEN_EMPTY = frozenset({"rep_language"})

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
    """Move the status if the table of moves allows it, and keep the change on the timeline."""
    event = move_status(
        application,
        to=to_status,
        transitions=APPLICATION_MOVES,
        history=ApplicationEvent,
        by=by,
        note=note,
        application=application,
    )
    assert isinstance(event, ApplicationEvent)
    return event


def _require_draft(application: Application) -> None:
    if not application.is_editable:
        raise ValidationError(
            _("This cannot be done while the application's status is “%(status)s”.")
            % {"status": application.get_status_display()},
            code="status",
        )


def application_url(application: Application) -> str:
    return absolute_url(reverse("applications:detail", args=[application.pk]))


def start_application(*, applicant: User) -> Application:
    """The applicant's draft: the one already started, or a new one.

    The applicant's row is locked, so a double click on "Start" makes one draft, not two.
    """
    with transaction.atomic():
        lock(applicant)
        draft = Application.objects.draft_of(applicant)
        if draft is not None:
            return draft
        # The representative is often the applicant: start from the applicant's language.
        application = Application.objects.create(
            applicant=applicant, rep_language=applicant.language
        )
        record_start(
            application,
            transitions=APPLICATION_MOVES,
            history=ApplicationEvent,
            by=applicant,
            application=application,
        )
    return application


def save_draft(
    *, application: Application, data: dict[str, Any], areas: list[AreaOfWork] | None
) -> Application:
    """Save what the applicant typed so far; nothing is required in a draft."""
    with transaction.atomic():
        locked = lock(application)
        _require_draft(locked)
        # A choice with a default (the representative's language) is never emptied by a post
        # that leaves it out.
        fields = [
            name
            for name in DRAFT_FIELDS
            if name in data and (data[name] or name not in KEEP_WHEN_EMPTY)
        ]
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
        locked = lock(application)
        if not (locked.is_editable or locked.awaits_applicant):
            _require_draft(locked)
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
        locked = lock(document.application)
        _require_draft(locked)
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
    # A draft keeps an email address as typed, even a wrong one, so it is checked here.
    if application.rep_email and "rep_email" not in missing:
        try:
            validate_email(application.rep_email)
        except ValidationError:
            missing["rep_email"] = _("Enter a valid email address.")
    if not application.documents.filter(kind=DocumentKind.LETTER).exists():
        missing["letter"] = _(
            "Upload the signed application letter addressed to the President of the Board."
        )
    return missing


@dataclass
class DraftEdit:
    """What the applicant sent from the draft's form, as the form checked it."""

    data: dict[str, Any]  # the fields that passed the form's checks
    areas: list[AreaOfWork] | None  # None when the areas did not pass
    uploads: list[tuple[DocumentKind, str, UploadedFile]] = field(default_factory=list)
    remove: int | None = None  # a document's "Remove" button
    submit: bool = False
    invalid_fields: frozenset[str] = frozenset()


@dataclass
class DraftResult:
    application: Application
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field name, message)
    removed: str | None = None  # the removed document's name; "" when it was already gone
    submitted: bool = False
    no_longer_draft: bool = False  # a second click on "Submit" that waited for the first


def edit_draft(*, application: Application, by: User, edit: DraftEdit) -> DraftResult:
    """Everything one press of the draft form's buttons does, in order.

    Every acceptable upload is kept at once and what was typed is saved, so a mistake
    elsewhere never costs the applicant their work; then a "Remove" button is honoured; then,
    on "Submit", the application is checked and submitted, or every missing answer is named.
    """
    result = DraftResult(application=application)
    for kind, field_name, upload in edit.uploads:
        try:
            add_document(application=application, kind=kind, upload=upload, by=by)
        except ValidationError as error:
            result.errors += [(field_name, message) for message in error.messages]
    try:
        application = save_draft(application=application, data=edit.data, areas=edit.areas)
    except ValidationError:
        result.no_longer_draft = True
        return result
    result.application = application
    if edit.remove is not None:
        document = application.documents.filter(pk=edit.remove).first()
        result.removed = document.original_name if document else ""
        if document is not None:
            remove_document(document=document, by=by)
    if not edit.submit or result.removed is not None:
        return result
    if edit.invalid_fields or result.errors:
        # Say everything that is missing at once, not after the first mistake is mended.
        failed = edit.invalid_fields | {name for name, _message in result.errors}
        result.errors += [
            (name, message)
            for name, message in missing_for_submission(application).items()
            if name not in failed
        ]
        return result
    try:
        result.application = submit_application(application=application, by=by)
    except ValidationError as error:
        if getattr(error, "code", None) == "status":
            # Another click on "Submit" won the race between the draft's save and this submit.
            result.no_longer_draft = True
            return result
        if hasattr(error, "error_dict"):
            result.errors += [
                (name, message)
                for name, errors in error.error_dict.items()
                for message in ValidationError(errors).messages
            ]
        else:
            result.errors += [("", message) for message in error.messages]
    else:
        result.submitted = True
    return result


def _next_reference(year: int) -> str:
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"APP-{year}-{counter.last_number:04d}"


def submit_application(*, application: Application, by: User) -> Application:
    """Check everything, give the application its reference and send it to the staff queue."""
    with transaction.atomic():
        locked = lock(application)
        _require_draft(locked)
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
            purpose=f"applications.submitted:{locked.pk}",
        )
    return locked


def withdraw_application(*, application: Application, by: User, reason: str = "") -> Application:
    with transaction.atomic():
        # The open vote is locked before the application, in the order a deciding vote takes
        # them, so a withdrawal and a final vote at the same moment wait rather than deadlock.
        board.lock_open_ballots_on(application)
        locked = lock(application)
        _record(locked, Status.WITHDRAWN, by, reason)
        locked.save(update_fields=["status", "updated_at"])
        # Asked again under the application's lock: a vote opened meanwhile is cancelled too.
        for ballot in board.lock_open_ballots_on(locked):
            board.cancel_ballot(ballot=ballot, reason=_("The applicant withdrew the application."))
    return locked


def request_information(*, application: Application, by: User, message: str) -> Application:
    """Staff ask the applicant for more; the applicant is emailed the question."""
    if not message.strip():
        raise ValidationError({"message": _("Write what the applicant should add or explain.")})
    with transaction.atomic():
        locked = lock(application)
        question = _record(locked, Status.INFO_REQUESTED, by, message.strip())
        locked.save(update_fields=["status", "updated_at"])
        send_to_user(
            template="applications/email/information_requested",
            user=locked.applicant,
            context={
                "application": locked,
                "message": message.strip(),
                "url": application_url(locked),
            },
            purpose=f"applications.question:{question.pk}",
        )
    return locked


def answer_information_request(*, application: Application, by: User, message: str) -> Application:
    """The applicant answers; the application goes back to the staff queue."""
    if not message.strip():
        raise ValidationError({"message": _("Write your answer to the Centre's question.")})
    with transaction.atomic():
        locked = lock(application)
        if not locked.awaits_applicant:
            raise ValidationError(_("No question from the Centre is waiting for an answer here."))
        answer = _record(locked, Status.SUBMITTED, by, message.strip())
        locked.save(update_fields=["status", "updated_at"])
        _tell_staff(
            locked,
            template="applications/email/answered",
            context={"message": message.strip()},
            purpose=f"applications.answer:{answer.pk}",
        )
    return locked


@dataclass
class AnswerResult:
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field name, message)
    answered: bool = False
    no_question: bool = False  # nothing awaits an answer (a second click that waited)
    kept: list[ApplicationDocument] = field(default_factory=list)  # stored from this answer
    refused: list[str] = field(default_factory=list)  # names of the files that were not kept


def answer_with_documents(
    *,
    application: Application,
    by: User,
    message: str,
    uploads: list[tuple[DocumentKind, str, UploadedFile]],
) -> AnswerResult:
    """The applicant's answer to the staff's question, with any documents it brings.

    Acceptable documents are kept even when the answer itself is not ready to send (a browser
    cannot keep a chosen file across a page with an error): ``kept`` lists them, ``refused``
    names the files the applicant must choose again, once mended.
    """
    result = AnswerResult()
    if not application.awaits_applicant:
        result.no_question = True
        return result
    for kind, field_name, upload in uploads:
        name = upload.name or ""
        try:
            document = add_document(application=application, kind=kind, upload=upload, by=by)
        except ValidationError as error:
            result.errors += [(field_name, text) for text in error.messages]
            result.refused.append(name)
        else:
            result.kept.append(document)
    if result.errors or not message.strip():
        if not message.strip():
            result.errors.append(("message", _("Write your answer to the Centre's question.")))
        return result
    try:
        answer_information_request(application=application, by=by, message=message)
    except ValidationError as error:
        application.refresh_from_db(fields=["status"])
        if not application.awaits_applicant:
            result.no_question = True
        else:
            result.errors += [("", text) for text in error.messages]
    else:
        result.answered = True
    return result


def _tell_staff(
    application: Application, *, template: str, context: dict[str, Any], purpose: str
) -> None:
    """Email each member of the Centre's staff (one message each) about an application."""
    url = absolute_url(reverse("admin:applications_application_change", args=[application.pk]))
    for reviewer in User.objects.centre_staff():
        send_to_user(
            template=template,
            user=reviewer,
            context={"application": application, "url": url, **context},
            purpose=purpose,
        )


def send_to_board(*, application: Application, by: User, deadline: datetime.datetime) -> Ballot:
    """Open the Board's vote on a checked application."""
    with transaction.atomic():
        board.lock_open_ballots_on(application)  # votes first, as a deciding vote takes them
        locked = lock(application)
        ballot = board.open_ballot(
            kind=MOTION_KIND, subject=locked, details="", deadline=deadline, by=by
        )
        _record(
            locked,
            Status.WITH_BOARD,
            by,
            _("Vote open until %(deadline)s")
            % {"deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
        )
        locked.save(update_fields=["status", "updated_at"])
    return ballot


def carry_out_board_decision(*, ballot: Ballot, application: Application, by: User | None) -> str:
    """The Board decided, or the reason its decision awaited was written since (we are in the
    Board's transaction, under the vote's lock): act on it.

    Returns what was done, for the vote's record. Checks again rather than failing, so a
    decision the Board took is always recorded. The applicant reads the decision and the reason
    a person wrote for them (``ballot.decision_reason``), never the tally or the directors'
    comments; with no reason written yet, they are told the staff will write with it.
    """
    application = lock(application)
    if _awaited_reason_written(application, ballot):
        application.decision_reason = ballot.decision_reason
        application.save(update_fields=["decision_reason", "updated_at"])
        send_to_user(
            template="applications/email/rejected",
            user=application.applicant,
            context={"application": application, "reason": ballot.decision_reason},
            purpose=f"applications.decision-reason:{ballot.pk}",
        )
        return _("The applicant was sent the Board's reason.")
    if application.status != Status.WITH_BOARD:
        return _("Nothing done: the application was no longer with the Board.")
    if ballot.outcome == Outcome.NO_QUORUM:
        # For the staff only: the count, and what the President wrote if anything.
        note = "\n".join(text for text in (ballot.tally_summary, ballot.decision_reason) if text)
        _back_to_staff(application, by, note, template="no_quorum")
        return _("The application went back to the staff.")
    application.decided_at = timezone.now()
    application.decision_reason = ballot.decision_reason
    if ballot.outcome == Outcome.REJECTED:
        _record(application, Status.REJECTED, by, ballot.decision_reason)
        application.save(update_fields=["status", "decided_at", "decision_reason", "updated_at"])
        send_to_user(
            template="applications/email/rejected",
            user=application.applicant,
            context={"application": application, "reason": ballot.decision_reason},
            purpose=f"applications.decision:{ballot.pk}",
        )
        return _("The applicant was told.")
    return _admit(application, ballot, by)


def _awaited_reason_written(application: Application, ballot: Ballot) -> bool:
    """The vote rejected the application with no reason for the applicant, and one was written
    since, on the Board's behalf: it is to be sent."""
    return bool(
        application.status == Status.REJECTED
        and ballot.outcome == Outcome.REJECTED
        and ballot.reason_by_id
        and ballot.decision_reason
        and not application.decision_reason
    )


def hand_back_to_staff(*, application: Application, note: str) -> None:
    """The Board's decision could not be carried out: the application returns to the queue."""
    application = lock(application)
    if application.status == Status.WITH_BOARD:
        _record(application, Status.SUBMITTED, None, note)
        application.save(update_fields=["status", "updated_at"])


def _back_to_staff(application: Application, by: User | None, note: str, *, template: str):
    change = _record(application, Status.SUBMITTED, by, note)
    application.save(update_fields=["status", "updated_at"])
    _tell_staff(
        application,
        template=f"applications/email/{template}",
        context={"reason": note},
        purpose=f"applications.back-to-staff:{change.pk}",
    )


def _admit(application: Application, ballot: Ballot, by: User | None) -> str:
    today = timezone.localdate()
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves no account, no organisation
            rep_user, invitation_url = accounts.invite_person(
                email=application.rep_email,
                first_name=application.rep_first_name,
                last_name=application.rep_last_name,
                language=application.rep_language,
            )
            membership = members.admit_organisation(
                name=application.org_name,
                category=application.category,
                country=str(application.country),
                city=application.city,
                website=application.website,
                description=application.activities,
                representative=rep_user,
                title=application.rep_title,
                qualification=Qualification(application.rep_qualification),
                on=today,
                by=by,
                reason=_("Application %(reference)s approved by the Board")
                % {"reference": application.reference},
                # The applicant who named themselves said yes by applying; anyone else,
                # whatever account they hold, accepts the designation first.
                representative_accepted=rep_user.pk == application.applicant_id,
            )
    except ValidationError as error:
        # Approved, but it cannot take effect (a member of that name exists already): the
        # staff sort it out; the Board's decision stays on record.
        note = _("Approved by the Board, but not carried out: %(why)s") % {
            "why": " ".join(error.messages)
        }
        _back_to_staff(application, by, note, template="not_admitted")
        return note
    organisation = membership.organisation
    assert organisation is not None  # admitted: an organisation's membership
    application.organisation = organisation
    _record(application, Status.APPROVED, by, ballot.decision_reason)
    application.save(
        update_fields=["status", "decided_at", "decision_reason", "organisation", "updated_at"]
    )
    context = {"application": application, "organisation": organisation, "membership": membership}
    send_to_user(
        template="applications/email/approved",
        user=application.applicant,
        context=context,
        purpose=f"applications.decision:{ballot.pk}",
    )
    if rep_user.pk != application.applicant_id:
        send_to_user(
            template="applications/email/representative_welcome",
            user=rep_user,
            context={
                **context,
                "invited": bool(invitation_url),
                "invitation_url": invitation_url,
                "account_url": absolute_url(reverse("accounts:profile")),
            },
            purpose=f"applications.welcome:{application.pk}",
            # The invitation link signs the new representative in: staff never see it.
            sensitive=bool(invitation_url),
        )
    return _("%(name)s is a member.") % {"name": organisation.name}


def add_staff_note(*, application: Application, by: User, kind: str, text: str):
    """Staff write a recommendation for the Board or an internal note; the applicant never
    sees either. Returns the note."""

    if kind not in NoteKind.values:
        raise ValidationError(_("Choose what kind of note this is."), code="kind")
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the note."), code="empty")
    with transaction.atomic():
        return ApplicationNote.objects.create(
            application=application, author=by, kind=kind, text=text
        )
