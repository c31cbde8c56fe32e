"""Staff screens for the newsletter.

Editions: staff write the subject and text in each language, preview each, send themselves a
test, then schedule the edition or send it now; while it is sent they watch the progress (sent,
failed, left) and may pause and resume. Subscribers: a list to filter, search and export, and
an action that marks addresses as bouncing (no more editions go to them). Every change of
state calls ``newsletter.services``.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.admin_site import CountedBrieflyPaginator, StatusHistoryInline, StatusHistoryView
from core.csv_export import csv_lines, streamed_csv
from core.http import SignedInRequest

from . import services
from .models import (
    EDITION_MOVES,
    Edition,
    EditionStatus,
    EditionStatusChange,
    Language,
    Subscriber,
    SubscriberStatusChange,
    Topic,
)
from .rendering import markdown_to_html, render_version, upcoming_events

SEND_PERMISSION = "newsletter.send_edition"


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- topics --------------------------------------------------------------------------------


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_fr", "position"]
    list_editable = ["position"]
    search_fields = ["name_en", "name_fr"]


# --- subscribers ---------------------------------------------------------------------------


class SubscriberHistoryInline(StatusHistoryInline):
    model = SubscriberStatusChange

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


SUBSCRIBER_COLUMNS = [
    (_("email"), lambda s: s.email),
    (_("language"), lambda s: s.language),
    (_("status"), lambda s: s.status),
    (_("source"), lambda s: s.source),
    (_("subscribed"), lambda s: s.confirmed_at.isoformat() if s.confirmed_at else ""),
    (_("unsubscribed"), lambda s: s.unsubscribed_at.isoformat() if s.unsubscribed_at else ""),
]


@admin.register(Subscriber)
class SubscriberAdmin(StatusHistoryView, admin.ModelAdmin):
    list_display = ["email", "language", "status", "source", "created_at"]
    list_filter = ["status", "language", "source", "topics"]
    search_fields = ["email"]
    readonly_fields = [
        "email",
        "status",
        "source",
        "user",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    fields = [*readonly_fields[:4], "language", "topics", *readonly_fields[4:]]
    filter_horizontal = ["topics"]
    inlines = [SubscriberHistoryInline]
    actions = ["mark_bouncing", "export_csv"]
    paginator = CountedBrieflyPaginator
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People subscribe themselves (with a confirmation), or through their membership.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Kept, so that an address that unsubscribed or bounces is never written to again.
        return False

    def status_history(self, obj: Subscriber) -> QuerySet:
        return obj.status_changes.all()

    @admin.action(description=_("Mark as bouncing (no more editions)"), permissions=["change"])
    def mark_bouncing(self, request: SignedInRequest[User], queryset: QuerySet) -> None:
        marked = services.mark_bouncing(subscribers=list(queryset), by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d address is marked as bouncing: editions skip it.",
                "%(count)d addresses are marked as bouncing: editions skip them.",
                marked,
            )
            % {"count": marked},
            messages.SUCCESS,
        )

    @admin.action(description=_("Export as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        rows = queryset.order_by("email").iterator(chunk_size=1000)
        return streamed_csv(csv_lines(rows, SUBSCRIBER_COLUMNS), name="newsletter-subscribers")


# --- editions ------------------------------------------------------------------------------


class EditionForm(forms.ModelForm):
    class Meta:
        model = Edition
        fields = [
            "subject_en",
            "body_en",
            "subject_fr",
            "body_fr",
            "english_for_french",
            "audience",
            "topic",
        ]
        widgets = {
            "body_en": forms.Textarea(attrs={"rows": 18}),
            "body_fr": forms.Textarea(attrs={"rows": 18}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if data.get("audience") == "topic" and not data.get("topic"):
            self.add_error("topic", gettext("Choose the topic whose subscribers receive it."))
        if self.instance.pk:
            # Locked until the save (the admin validates and saves in one transaction): a
            # form opened on a draft cannot rewrite an edition whose sending has started.
            current = Edition.objects.select_for_update().get(pk=self.instance.pk)
            if not current.is_editable:
                raise ValidationError(
                    gettext("The sending has started: the edition can no longer be changed."),
                    code="sending",
                )
        return data


class ScheduleForm(forms.Form):
    at = forms.SplitDateTimeField(
        label=_("Send at"),
        widget=AdminSplitDateTime,
        help_text=_("Montréal time."),
    )

    def clean_at(self) -> Any:
        at = self.cleaned_data["at"]
        if at <= timezone.now():
            raise ValidationError(gettext("Choose a time to come, or use “Send now”."))
        return at


class EditionHistoryInline(StatusHistoryInline):
    model = EditionStatusChange

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


@admin.register(Edition)
class EditionAdmin(StatusHistoryView, admin.ModelAdmin):
    form = EditionForm
    list_display = ["subject_en", "status", "audience", "scheduled_at", "sent_at", "progress_text"]
    list_filter = ["status", "audience"]
    search_fields = ["subject_en", "subject_fr"]
    readonly_fields = ["status", "scheduled_at", "started_at", "sent_at"]
    change_form_template = "admin/newsletter/edition/change_form.html"
    fieldsets = [
        (_("English"), {"fields": ["subject_en", "body_en"]}),
        (_("French"), {"fields": ["subject_fr", "body_fr", "english_for_french"]}),
        (_("Who receives it"), {"fields": ["audience", "topic"]}),
        (_("Sending"), {"fields": ["status", "scheduled_at", "started_at", "sent_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Edition]:
        return Edition.objects.with_counts().order_by("-created_at", "-pk")

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [EditionHistoryInline] if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and not obj.is_editable:
            return [*EditionForm.Meta.fields, *self.readonly_fields]
        return list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == EditionStatus.DRAFT

    def status_history(self, obj: Edition) -> QuerySet:
        return obj.status_changes.all()

    @admin.display(description=_("sent / failed / left"))
    def progress_text(self, obj: Edition) -> str:
        counts = progress(obj)
        if not counts["total"]:
            return "–"
        return f"{counts['sent']} / {counts['failed']} / {counts['left']}"

    def save_model(self, request: HttpRequest, obj: Edition, form: Any, change: bool) -> None:
        if not change:
            services.create_edition(edition=obj, by=request.user)  # type: ignore[arg-type]
            return
        names = {f.name for f in Edition._meta.concrete_fields}
        obj.save(update_fields=[name for name in form.fields if name in names])

    # --- pages ---------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        def view(name: str, route: str, func: Callable[..., HttpResponseBase]) -> Any:
            return path(route, self.admin_site.admin_view(func), name=f"newsletter_edition_{name}")

        return [
            view("preview", "<int:pk>/preview/<str:language>/", self.preview_view),
            view("test", "<int:pk>/test/", self.test_view),
            view("schedule", "<int:pk>/schedule/", self.schedule_view),
            view("unschedule", "<int:pk>/unschedule/", self.unschedule_view),
            view("send", "<int:pk>/send/", self.send_view),
            view("pause", "<int:pk>/pause/", self.pause_view),
            view("resume", "<int:pk>/resume/", self.resume_view),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        edition = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if edition is not None:
            may_send = request.user.has_perm(SEND_PERMISSION)
            status = edition.status
            extra = {
                "tools": True,
                "may_send": may_send,
                "problems": services.readiness_problems(edition) if edition.is_editable else [],
                "can_schedule": may_send and EDITION_MOVES.allows(status, EditionStatus.SCHEDULED),
                "can_unschedule": may_send and EDITION_MOVES.allows(status, EditionStatus.DRAFT),
                "can_send": may_send and status in (EditionStatus.DRAFT, EditionStatus.SCHEDULED),
                "can_pause": may_send and EDITION_MOVES.allows(status, EditionStatus.PAUSED),
                "can_resume": may_send
                and status == EditionStatus.PAUSED
                and EDITION_MOVES.allows(status, EditionStatus.SENDING),
                "progress": progress(edition),
                "refresh": status == EditionStatus.SENDING,
                "audience_size": services.audience_of(edition).count()
                if edition.is_editable
                else None,
            }
            if not edition.is_editable:
                # Every field is read-only once the sending started: nothing to save.
                extra.update(show_save=False, show_save_and_continue=False)
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _edition(self, request: HttpRequest, pk: int, *, send: bool = False) -> Edition:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if send and not request.user.has_perm(SEND_PERMISSION):
            raise PermissionDenied
        return get_object_or_404(Edition, pk=pk)

    def _back(self, edition: Edition) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:newsletter_edition_change", args=[edition.pk]))

    def _page(self, request: HttpRequest, template: str, edition: Edition, **context: Any) -> Any:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "edition": edition,
                **context,
            },
        )

    def preview_view(self, request: HttpRequest, pk: int, language: str) -> HttpResponse:
        edition = self._edition(request, pk)
        if language not in Language.values:
            raise PermissionDenied
        subject, body = edition.version(language)
        version = render_version(edition, language)
        text, _html, _headers = version.personal(subscriber_id=0, email=request.user.email)  # type: ignore[union-attr]
        return self._page(
            request,
            "admin/newsletter/edition/preview.html",
            edition,
            title=gettext("Preview (%(language)s): %(subject)s")
            % {"language": Language(language).label, "subject": subject},
            subject=version.subject,
            body=markdown_to_html(body),
            events=upcoming_events(),
            text=text,
            language=language,
            falls_back=language == Language.FRENCH and not edition.has_french,
        )

    def test_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        edition = self._edition(request, pk)
        if request.method == "POST":
            services.send_test(edition=edition, to=request.user)
            self.message_user(
                request,
                gettext("The English and French versions are on their way to %(email)s.")
                % {"email": request.user.email},
                messages.SUCCESS,
            )
        return self._back(edition)

    def schedule_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        edition = self._edition(request, pk, send=True)
        form = ScheduleForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.schedule_edition(
                    edition=edition, at=form.cleaned_data["at"], by=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, gettext("The edition is scheduled."), messages.SUCCESS)
                return self._back(edition)
        return self._page(
            request,
            "admin/newsletter/edition/action.html",
            edition,
            title=gettext("Schedule: %(subject)s") % {"subject": edition},
            form=form,
            button=gettext("Schedule"),
            media=self.media + form.media,
        )

    def _act(
        self,
        request: SignedInRequest[User],
        pk: int,
        act: Callable[[Edition], object],
        done: str,
    ) -> HttpResponse:
        edition = self._edition(request, pk, send=True)
        if request.method == "POST":
            try:
                act(edition)
            except ValidationError as error:
                self.message_user(request, _refusal(error), messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)
        return self._back(edition)

    def unschedule_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda e: services.unschedule_edition(edition=e, by=request.user),
            gettext("The edition is a draft again."),
        )

    def send_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda e: services.start_sending(edition=e, by=request.user),
            gettext("The edition is being sent."),
        )

    def pause_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda e: services.pause_sending(edition=e, by=request.user),
            gettext("Sending is paused after the batch under way."),
        )

    def resume_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda e: services.resume_sending(edition=e, by=request.user),
            gettext("Sending goes on."),
        )


def progress(edition: Edition) -> dict[str, int]:
    """Sent, failed, skipped and left of the edition's deliveries (from ``with_counts`` when
    the row has them, else counted)."""
    if not hasattr(edition, "total_count"):
        edition = Edition.objects.with_counts().get(pk=edition.pk)
    total = edition.total_count  # type: ignore[attr-defined]
    sent = edition.sent_count  # type: ignore[attr-defined]
    failed = edition.failed_count  # type: ignore[attr-defined]
    skipped = edition.skipped_count  # type: ignore[attr-defined]
    return {
        "total": total,
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "left": max(total - sent - failed - skipped, 0),
        "done": sent + failed + skipped,
    }
