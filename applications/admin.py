"""Staff screens: the queue of applications, asking for more, sending to the Board."""

import datetime
from collections.abc import Iterator

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from accounts.models import User
from board.models import Ballot
from core.admin_site import (
    FilterWithDefault,
    ShowsFiltersInUse,
    StatusHistoryInline,
    StatusHistoryView,
)
from core.csv_export import csv_lines, streamed_csv
from core.http import SignedInRequest

from . import services
from .models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    AreaOfWork,
    AreaOfWorkQuerySet,
    NoteKind,
    Status,
)


class AreaInUse(Exception):
    """An area an application has chosen is retired, never deleted."""

    def __init__(self, areas: list[AreaOfWork]):
        super().__init__(areas)
        self.areas = areas


@admin.register(AreaOfWork)
class AreaOfWorkAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_fr", "position", "is_active", "used_by"]
    list_editable = ["position", "is_active"]
    search_fields = ["name_en", "name_fr"]
    actions = ["delete_unused"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AreaOfWork]:
        return super().get_queryset(request).annotate(application_count=Count("applications"))

    def get_changelist_formset(self, request, **kwargs):
        # Each editable cell gets a name a screen reader can say: the column and the row.
        formset_class = super().get_changelist_formset(request, **kwargs)

        class LabelledFormSet(formset_class):  # type: ignore[valid-type,misc]
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if form.instance.pk is None:
                    return
                for name, field in form.fields.items():
                    if name in AreaOfWorkAdmin.list_editable:
                        field.widget.attrs["aria-label"] = gettext("%(column)s: %(row)s") % {
                            "column": str(field.label or name).capitalize(),
                            "row": form.instance.name_en,
                        }

        return LabelledFormSet

    @admin.display(description=_("chosen by"), ordering="application_count")
    def used_by(self, area: AreaOfWork) -> str:
        count = getattr(area, "application_count", None)
        if count is None:
            count = area.applications.count()
        return ngettext("%(count)d application", "%(count)d applications", count) % {"count": count}

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and AreaOfWork.objects.filter(pk=obj.pk).used().exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's own deletion is replaced by one that refuses areas in use, with a message.
        actions.pop("delete_selected", None)
        return actions

    def _refuse(self, request: HttpRequest, areas: list[AreaOfWork]) -> None:
        self.message_user(
            request,
            ngettext(
                "%(names)s was not deleted: an application has chosen it. Retire it instead: "
                "untick “offered on the form”, and it stays on the applications that chose it.",
                "%(names)s were not deleted: applications have chosen them. Retire them instead: "
                "untick “offered on the form”, and they stay on the applications that chose them.",
                len(areas),
            )
            % {"names": ", ".join(f"“{area.name_en}”" for area in areas)},
            messages.ERROR,
        )

    @admin.action(permissions=["delete"], description=_("Delete the selected unused areas"))
    def delete_unused(self, request: HttpRequest, queryset: AreaOfWorkQuerySet):
        used = list(queryset.used().order_by("position", "name_en"))
        if used:
            self._refuse(request, used)
            return None
        try:
            # Django's confirmation page, then the deletion (through delete_queryset) with its
            # log entries, all undone if an application chose an area meanwhile.
            with transaction.atomic():
                return delete_selected(self, request, queryset)
        except AreaInUse as refused:
            self._refuse(request, refused.areas)
            return None

    def delete_view(self, request, object_id, extra_context=None):
        area = self.get_object(request, unquote(object_id))
        if area is not None and AreaOfWork.objects.filter(pk=area.pk).used().exists():
            self._refuse(request, [area])
            return HttpResponseRedirect(
                reverse("admin:applications_areaofwork_change", args=[area.pk])
            )
        try:
            return super().delete_view(request, object_id, extra_context)
        except AreaInUse as refused:
            self._refuse(request, refused.areas)
            return HttpResponseRedirect(
                reverse("admin:applications_areaofwork_change", args=[refused.areas[0].pk])
            )

    def _delete_unused(self, pks: list[int]) -> None:
        """Delete the areas, unless an application has chosen one of them by now.

        The rows are deleted without Django's cascade, which would silently take the area off
        an application that chose it since the check: the foreign key refuses that instead."""
        if not pks:
            return
        table = connection.ops.quote_name(AreaOfWork._meta.db_table)
        sql = f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(pks))})"  # noqa: S608
        areas = AreaOfWork.objects.filter(pk__in=pks).order_by("position", "name_en")
        try:
            with transaction.atomic():
                used = list(areas.used())
                if used:
                    raise AreaInUse(used)
                with connection.cursor() as cursor:
                    cursor.execute(sql, pks)
                connection.check_constraints()
        except IntegrityError:
            raise AreaInUse(list(areas.used()) or list(areas)) from None

    def delete_model(self, request, obj) -> None:
        self._delete_unused([obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        self._delete_unused(list(queryset.values_list("pk", flat=True)))


class AgeFilter(admin.SimpleListFilter):
    title = _("waiting time")
    parameter_name = "age"

    BANDS = {
        "week": (None, 7),
        "month": (7, 30),
        "older": (30, None),
    }

    def lookups(self, request, model_admin):
        return [
            ("week", _("less than a week")),
            ("month", _("one week to a month")),
            ("older", _("more than a month")),
        ]

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value() or "")
        if band is None:
            return queryset
        now = timezone.now()
        newer_than, older_than = band
        if newer_than is not None:
            queryset = queryset.filter(submitted_at__lte=now - datetime.timedelta(days=newer_than))
        if older_than is not None:
            queryset = queryset.filter(submitted_at__gt=now - datetime.timedelta(days=older_than))
        return queryset


class QueueStatusFilter(FilterWithDefault):
    """Staff land on the queue: what is submitted and not yet decided."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("queue", _("In the queue (not yet decided)")),
            *[(s.value, s.label) for s in Status if s != Status.DRAFT],
            ("all", _("All")),
        ]

    def default_value(self) -> str:
        return "queue"

    def queryset(self, request, queryset):
        value = self.value()
        if value == "queue":
            return queryset.in_queue()
        if value == "all":
            return queryset
        return queryset.filter(status=value)


SHORT_CATEGORY = {
    "city": _("City or region"),
    "ngo": _("NGO"),
    "institute": _("Institute, university or government"),
    "private": _("Private sector"),
}


class DocumentInline(admin.TabularInline):
    model = ApplicationDocument
    extra = 0
    can_delete = False
    fields = readonly_fields = ("kind", "download", "content_type", "size", "uploaded_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("file"))
    def download(self, obj: ApplicationDocument) -> str:
        url = reverse("applications:document", args=[obj.application_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


class EventInline(StatusHistoryInline):
    model = ApplicationEvent


class InformationRequestForm(forms.Form):
    message = forms.CharField(
        label=_("What should the applicant add or explain?"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
    )


def default_deadline() -> datetime.datetime:
    return (timezone.localtime() + datetime.timedelta(days=14)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )


class StaffNoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of note"),
        choices=NoteKind.choices,
        initial=NoteKind.RECOMMENDATION,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("The applicant never sees it. The Board sees the latest recommendation first."),
    )


# The columns of the CSV export: (heading, how to read it from an application).
CSV_COLUMNS = [
    (_("reference"), lambda a: a.reference or ""),
    (_("organisation name"), lambda a: a.org_name),
    (_("acronym"), lambda a: a.org_acronym),
    (_("category"), lambda a: a.get_category_display()),
    (_("country"), lambda a: str(a.country.name) if a.country else ""),
    (_("city"), lambda a: a.city),
    (_("status"), lambda a: a.get_status_display()),
    (
        _("submitted"),
        lambda a: timezone.localtime(a.submitted_at).isoformat() if a.submitted_at else "",
    ),
    (_("representative"), lambda a: a.rep_full_name),
    (_("email"), lambda a: a.rep_email),
]


def csv_rows(applications: QuerySet[Application]) -> Iterator[str]:
    return csv_lines(applications.iterator(chunk_size=500), CSV_COLUMNS)


class SendToBoardForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("The vote closes on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Montréal time. Directors who have not voted are reminded 48 hours before."),
    )


@admin.register(Application)
class ApplicationAdmin(StatusHistoryView, ShowsFiltersInUse, admin.ModelAdmin):
    list_display = [
        "reference",
        "org_name",
        "category_short",
        "country_name",
        "status",
        "submitted_on",
        "waiting",
    ]
    list_filter = [QueueStatusFilter, "category", ("country", CountryFilter), AgeFilter]
    list_select_related = ["applicant"]
    search_fields = ["reference", "org_name", "org_acronym", "rep_last_name", "rep_email"]
    ordering = ["submitted_at"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [DocumentInline, EventInline]
    change_form_template = "admin/applications/application/change_form.html"
    fieldsets = (
        (_("Application"), {"fields": ("reference", "status", "applicant", "submitted_at")}),
        (
            _("The organisation"),
            {
                "fields": (
                    "org_name",
                    "org_acronym",
                    "category",
                    "country",
                    "city",
                    "website",
                    "activities",
                    "areas",
                )
            },
        ),
        (
            _("The designated representative"),
            {
                "fields": (
                    "rep_first_name",
                    "rep_last_name",
                    "rep_title",
                    "rep_email",
                    "rep_phone",
                    "rep_language",
                    "rep_qualification",
                    "rep_declaration",
                )
            },
        ),
        (_("Why it wants to join"), {"fields": ("motivation", "agrees_to_statutes")}),
        (
            _("Decision"),
            {"fields": ("decided_at", "decision_reason", "organisation")},
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # What the applicant sent is theirs: staff read it and act through the buttons.
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        # Drafts belong to the applicant until they are submitted.
        return super().get_queryset(request).exclude(status=Status.DRAFT)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, obj: Application) -> str:
        # One name per row; the admin's default would translate every country for every row.
        return str(obj.country.name) if obj.country else "–"  # type: ignore[attr-defined]

    @admin.display(description=_("category"), ordering="category")
    def category_short(self, obj: Application) -> str:
        return str(SHORT_CATEGORY.get(obj.category, obj.get_category_display()))

    def changelist_view(self, request, extra_context=None):
        extra = {
            "title": gettext("Applications"),
            "can_export": request.user.has_perm("applications.review_application"),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted_on(self, obj: Application) -> str:
        # The date alone, in the short format, so that the queue fits a 1280 px screen.
        if not obj.submitted_at:
            return "–"
        return date_format(timezone.localtime(obj.submitted_at), "SHORT_DATE_FORMAT")

    @admin.display(description=_("waiting"), ordering="submitted_at")
    def waiting(self, obj: Application) -> str:
        if not obj.submitted_at or obj.status not in (Status.SUBMITTED, Status.INFO_REQUESTED):
            return "–"
        days = (timezone.now() - obj.submitted_at).days
        return gettext("%(days)d d") % {"days": days}

    # --- staff actions ----------------------------------------------------------------------
    def status_history(self, obj: Application):
        return obj.events.all()

    def get_urls(self):
        custom = [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv_view),
                name="applications_application_export_csv",
            ),
            path(
                "<int:pk>/note/",
                self.admin_site.admin_view(self.add_note_view),
                name="applications_application_add_note",
            ),
            path(
                "<int:pk>/request-information/",
                self.admin_site.admin_view(self.request_information_view),
                name="applications_application_request_information",
            ),
            path(
                "<int:pk>/send-to-board/",
                self.admin_site.admin_view(self.send_to_board_view),
                name="applications_application_send_to_board",
            ),
        ]
        return custom + super().get_urls()

    def _reviewable(self, request: HttpRequest, pk: int) -> Application:
        if not request.user.has_perm("applications.review_application"):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _action_page(self, request, application, form, title, button) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "application": application,
            "form": form,
            "button": button,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/applications/application/action.html", context)

    def _back(self, application: Application) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:applications_application_change", args=[application.pk])
        )

    def request_information_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        application = self._reviewable(request, pk)
        form = InformationRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.request_information(
                    application=application,
                    by=request.user,
                    message=form.cleaned_data["message"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request, gettext("The applicant has been asked by email."), messages.SUCCESS
                )
                return self._back(application)
        return self._action_page(
            request,
            application,
            form,
            gettext("Ask %(name)s for more information") % {"name": application.org_name},
            gettext("Send the question"),
        )

    def export_csv_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The list as it is filtered and searched on the queue, every page of it, streamed."""
        # Applicants' names and addresses in bulk: for the staff who work the queue only.
        if not request.user.has_perm("applications.review_application"):
            raise PermissionDenied
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        applications = changelist.queryset.select_related(None).prefetch_related(None)
        return streamed_csv(csv_rows(applications), name="applications")

    def add_note_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        application = self._reviewable(request, pk)
        form = StaffNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.add_staff_note(
                    application=application,
                    by=request.user,
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, gettext("The note was saved."), messages.SUCCESS)
                return self._back(application)
        return self._action_page(
            request,
            application,
            form,
            gettext("Write a note about %(name)s") % {"name": application.org_name},
            gettext("Save the note"),
        )

    def send_to_board_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        application = self._reviewable(request, pk)
        form = SendToBoardForm(
            request.POST or None,
            initial={"deadline": default_deadline().strftime("%Y-%m-%dT%H:%M")},
        )
        if request.method == "POST" and form.is_valid():
            try:
                ballot = services.send_to_board(
                    application=application,
                    by=request.user,
                    deadline=form.cleaned_data["deadline"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("The vote is open until %(deadline)s; every director has been emailed.")
                    % {"deadline": timezone.localtime(ballot.deadline).strftime("%Y-%m-%d %H:%M")},
                    messages.SUCCESS,
                )
                return self._back(application)
        return self._action_page(
            request,
            application,
            form,
            gettext("Send %(name)s to the Board") % {"name": application.org_name},
            gettext("Open the Board's vote"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = self.get_object(request, object_id)
        can_review = request.user.has_perm("applications.review_application")
        extra = {
            # Everything here is read-only: staff act through the buttons at the top.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "can_request_information": bool(
                application and can_review and application.can_request_information
            ),
            "can_send_to_board": bool(application and can_review and application.can_send_to_board),
            "can_write_notes": bool(application and can_review),
            "ballots": Ballot.objects.about(application).order_by("-opened_at")
            if application
            else [],
            # The exchange with the applicant: the staff's questions and the answers.
            "exchanges": application.exchanges() if application else [],
            # Internal notes are the staff's; the Board reads the recommendations only.
            "notes": list(
                (
                    application.notes.all() if can_review else application.notes.recommendations()
                ).select_related("author")
            )
            if application
            else [],
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
