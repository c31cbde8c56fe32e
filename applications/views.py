from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from core.admin_site import needs_mfa_setup
from core.http import SignedInRequest

from . import services
from .forms import ApplicationForm, MessageForm, WithdrawForm
from .models import Application, ApplicationDocument, ApplicationEvent, DocumentKind, Status
from .uploads import served_name, type_for


def _own(request: HttpRequest, pk: int) -> Application:
    """The signed-in applicant's application; anyone else's answers 404."""
    return get_object_or_404(Application, pk=pk, applicant=request.user)


@verified_email_required
def application_list(request: HttpRequest) -> HttpResponse:
    applications = Application.objects.for_applicant(request.user).prefetch_related(
        Prefetch("events", queryset=ApplicationEvent.objects.order_by("at", "pk"))
    )
    return render(request, "applications/list.html", {"applications": applications})


@verified_email_required
def apply(request: SignedInRequest[User]) -> HttpResponse:
    """Start an application, or carry on with the draft already started."""
    if request.method == "POST":
        started = services.start_application(applicant=request.user)
        return redirect("applications:edit", pk=started.pk)
    draft = Application.objects.draft_of(request.user)
    return render(request, "applications/apply.html", {"draft": draft})


def _uploads(files, fields: dict[str, DocumentKind]) -> list:
    """The uploaded files of each file field, with the kind of document they are."""
    return [
        (kind, field, upload) for field, kind in fields.items() for upload in files.getlist(field)
    ]


@verified_email_required
def edit(request: SignedInRequest[User], pk: int) -> HttpResponse:
    application = _own(request, pk)
    if not application.is_editable:
        if application.status == Status.WITHDRAWN:
            messages.info(request, _("This application was withdrawn; start a new one to apply."))
        else:
            messages.info(
                request, _("This application has been submitted and can no longer be edited.")
            )
        return redirect("applications:detail", pk=application.pk)
    documents = list(application.documents.all())
    if request.method != "POST":
        form = ApplicationForm(instance=application)
        form.check_kept_values()
        form.show_documents(documents)
        return render(
            request,
            "applications/edit.html",
            {"form": form, "application": application, "documents": documents},
        )

    form = ApplicationForm(request.POST, request.FILES, instance=application)
    form.is_valid()
    remove = request.POST.get("remove", "")
    result = services.edit_draft(
        application=application,
        by=request.user,
        edit=services.DraftEdit(
            data={
                **{
                    name: value
                    for name, value in form.cleaned_data.items()
                    if name in services.DRAFT_FIELDS and name not in form.errors
                },
                **form.typed_values_to_keep(),
            },
            areas=None if "areas" in form.errors else list(form.cleaned_data.get("areas") or []),
            uploads=_uploads(
                request.FILES,
                {"letter": DocumentKind.LETTER, "supporting": DocumentKind.SUPPORTING},
            ),
            remove=int(remove) if remove.isdigit() else None,
            submit=request.POST.get("action") == "submit",
            invalid_fields=frozenset(form.errors),
        ),
    )
    application = result.application
    if result.no_longer_draft:
        messages.info(
            request, _("This application has been submitted and can no longer be edited.")
        )
        return redirect("applications:detail", pk=application.pk)
    if result.submitted:
        messages.success(
            request,
            _("Application %(reference)s is submitted; a confirmation is on its way by email.")
            % {"reference": application.reference},
        )
        return redirect("applications:detail", pk=application.pk)
    for field, message in result.errors:
        form.add_error(field if field in form.fields else None, message)
    if result.removed == "":
        messages.info(request, _("That document was already removed."))
    elif result.removed:
        messages.success(request, _("“%(name)s” is removed.") % {"name": result.removed})
    documents = list(application.documents.all())
    form.show_documents(documents)
    if form.errors:
        submitting = request.POST.get("action") == "submit" and result.removed is None
        messages.error(
            request, _("Some answers need your attention: see the messages below each one.")
        )
        return render(
            request,
            "applications/edit.html",
            {"form": form, "application": application, "documents": documents},
            status=400 if submitting else 200,
        )
    if result.removed is None:
        messages.success(request, _("Your draft is saved. You can finish it later."))
    return redirect("applications:edit", pk=application.pk)


def _status_page(
    request: HttpRequest,
    application: Application,
    *,
    answer_form: MessageForm | None = None,
    refused: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The application's page: its status, what happens next, and the conversation."""
    exchanges = application.exchanges()
    open_exchange = exchanges[-1] if exchanges and exchanges[-1].is_open else None
    if open_exchange is not None and answer_form is None:
        answer_form = MessageForm()
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "events": application.events.select_related("actor").order_by("at", "pk"),
            "documents": application.documents.all(),
            "exchanges": exchanges,
            "question": open_exchange.question if open_exchange else None,
            "kept": open_exchange.documents if open_exchange else [],
            "refused": refused or [],
            "answer_form": answer_form if open_exchange else None,
            "withdraw_form": WithdrawForm() if application.can_withdraw else None,
        },
        status=status,
    )


@verified_email_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.select_related("organisation").prefetch_related("areas"),
        pk=pk,
        applicant=request.user,
    )
    return _status_page(request, application)


@verified_email_required
@require_POST
def answer(request: SignedInRequest[User], pk: int) -> HttpResponse:
    application = _own(request, pk)
    if not application.awaits_applicant:
        # A second click on "Send my answer", or a page left open after the answer went.
        messages.info(request, _("No question from the Centre is waiting for an answer here."))
        return redirect("applications:detail", pk=application.pk)
    form = MessageForm(request.POST, request.FILES)
    form.is_valid()
    result = services.answer_with_documents(
        application=application,
        by=request.user,
        message=form.cleaned_data.get("message", ""),
        uploads=_uploads(
            request.FILES, {"letter": DocumentKind.LETTER, "documents": DocumentKind.SUPPORTING}
        ),
    )
    if result.no_question:  # a second click that waited for the first
        messages.info(request, _("No question from the Centre is waiting for an answer here."))
        return redirect("applications:detail", pk=application.pk)
    if result.answered:
        messages.success(request, _("Thank you: your answer is with the Centre's staff."))
        return redirect("applications:detail", pk=application.pk)
    for field, message in result.errors:
        if field not in form.errors:
            form.add_error(field if field in form.fields else None, message)
    # What was typed stays in the form; the files that were kept are listed beside it, and only
    # a refused one has to be chosen again.
    return _status_page(request, application, answer_form=form, refused=result.refused, status=400)


@verified_email_required
def withdraw(request: SignedInRequest[User], pk: int) -> HttpResponse:
    """A page that says what withdrawing does and asks for confirmation; its form withdraws."""
    application = _own(request, pk)
    if not application.can_withdraw:
        messages.error(
            request,
            _("This application can no longer be withdrawn: its status is “%(status)s”.")
            % {"status": application.get_status_display()},
        )
        return redirect("applications:detail", pk=application.pk)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.withdraw_application(
                application=application, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("The application is withdrawn. It stays here for your records.")
            )
        return redirect("applications:detail", pk=application.pk)
    if form.is_bound:
        # Shown again as typed, less a NUL byte (refused), so it can be sent again as it is.
        reason = str(form.data.get("reason", ""))
        form.data = {**form.data, "reason": reason.replace("\x00", "")}
    return render(
        request,
        "applications/withdraw.html",
        {
            "application": application,
            "form": form,
            "with_board": application.status == Status.WITH_BOARD,
        },
        status=400 if form.is_bound else 200,
    )


@verified_email_required
@require_POST
def remove_document(request: SignedInRequest[User], pk: int, document_pk: int) -> HttpResponse:
    application = _own(request, pk)
    document = get_object_or_404(ApplicationDocument, pk=document_pk, application=application)
    try:
        services.remove_document(document=document, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(name)s” is removed.") % {"name": document.original_name})
    return redirect("applications:edit", pk=application.pk)


def can_see_documents(user, application: Application) -> bool:
    """The applicant, the Centre's staff and the Board's directors."""
    if not user.is_authenticated:
        return False
    if application.applicant_id == user.pk:
        return True
    if application.status == Status.DRAFT:
        return False  # a draft is the applicant's own until submitted
    # The Centre's people reach documents on the same terms as the admin: the permission to see
    # them, and two factors.
    return bool(
        user.is_staff
        and user.has_perm("applications.view_applicationdocument")
        and not needs_mfa_setup(user)
    )


def download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    document = get_object_or_404(
        ApplicationDocument.objects.select_related("application"),
        pk=document_pk,
        application_id=pk,
    )
    if not can_see_documents(request.user, document.application):
        raise Http404
    # Saved under the extension of the type its content showed, never the one it was sent with:
    # a PDF sent as "report.html" must not open in a browser, nor "letter.bat" run.
    file_type = type_for(document.content_type)
    # PDFs and pictures open in the browser (a director reads them on a phone), sandboxed: no
    # script runs, no form posts, and the browser trusts the type we send, not its own guess.
    # Word processors' files download, as everything else would.
    shown = file_type.content_type in {"application/pdf", "image/png", "image/jpeg"}
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=not shown,
        filename=served_name(document.original_name, file_type),
        content_type=file_type.content_type,
    )
    if shown:
        response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def letter_template(request: HttpRequest) -> HttpResponse:
    """A letter to the President of the Board to copy, sign and upload; the draft fills it in."""
    draft = Application.objects.draft_of(request.user) if request.user.is_authenticated else None
    president = User.objects.filter(is_board_president=True, is_active=True).first()
    return render(
        request,
        "applications/letter_template.html",
        {"draft": draft, "president": president.get_full_name() if president else ""},
    )
