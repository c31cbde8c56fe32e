"""Staff and Board screens for organisations, representatives and memberships.

The staff act on a membership through the buttons on its page (flag, clear the flag, put a
dismissal to the Board), on the changes of representative through the queue's buttons, and
find members through the list's filters, its CSV export and the renewal report.
"""

import datetime
import functools
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import User
from core.admin_site import (
    CountedBrieflyPaginator,
    FilterWithDefault,
    ShowsFiltersInUse,
    StatusHistoryInline,
    StatusHistoryView,
)
from core.csv_export import csv_lines, streamed_csv
from core.http import SignedInRequest
from core.templatetags.portal_time import when

from . import services
from .models import (
    Category,
    EndReason,
    Membership,
    MembershipEvent,
    MembershipKind,
    MembershipRenewal,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Qualification,
    RenewalNotice,
    Representative,
    RepresentativeChange,
    RepresentativeChangeStatus,
    RepresentativeStatusChange,
)
from .regions import countries_in, region_choices, region_name, region_of
from .reports import membership_report
from .services import staff

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_centre_staff", False))


def posted(request: HttpRequest):
    """The form's data on a POST (even an empty one: a button alone), else unbound."""
    return request.POST if request.method == "POST" else None


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal, next to the field it names when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def default_deadline() -> datetime.datetime:
    return (timezone.localtime() + datetime.timedelta(days=14)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )


class DeadlineField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("The vote closes on"))
        kwargs.setdefault(
            "help_text",
            _("Montréal time. Directors who have not voted are reminded 48 hours before."),
        )
        super().__init__(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], **kwargs)


# --- inlines ------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class StatusChangeInline(StatusHistoryInline):
    model = MembershipStatusChange


class HistoryInline(ReadOnlyInline):
    """Rows of a membership's history that say who (``by``), read in one query."""

    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class RenewalInline(HistoryInline):
    """Each yearly renewal: a renewal does not change the status, so it has a history of its own."""

    model = MembershipRenewal
    fields = readonly_fields = ("period_start", "period_end", "renewed_at", "by")
    verbose_name_plural = _("History: yearly renewals")


class EventInline(HistoryInline):
    """What happened without a change of status: flags, notices, resignations, dismissals."""

    model = MembershipEvent
    fields = readonly_fields = ("at", "kind", "by", "note")
    verbose_name_plural = _("History: flags, notices, resignations, changes of representative")


class RepresentativeHistoryInline(StatusHistoryInline):
    model = RepresentativeStatusChange
    verbose_name_plural = _("History: designation, changes of title or qualification, end")


class RepresentativeInline(ReadOnlyInline):
    model = Representative
    fields = readonly_fields = (
        "user",
        "title",
        "qualification",
        "status",
        "started_on",
        "ended_on",
    )


class MembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "organisation"
    fields = readonly_fields = (
        "kind",
        "status",
        "started_on",
        "period_start",
        "period_end",
        "ended_on",
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "category", "country_name", "city", "created_at"]
    list_filter = ["category", "country"]
    search_fields = ["name", "city"]
    inlines = [RepresentativeInline, MembershipInline]

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, obj: Organisation) -> str:
        # One name per row; the admin's default would translate every country for every row.
        return str(obj.country.name)  # type: ignore[attr-defined]


@admin.register(Representative)
class RepresentativeAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "title", "qualification", "started_on", "ended_on"]
    list_filter = ["qualification"]
    list_select_related = ["user", "organisation"]
    search_fields = ["user__email", "user__last_name", "organisation__name"]
    readonly_fields = [
        "organisation",
        "user",
        "title",
        "qualification",
        "status",
        "started_on",
        "ended_on",
    ]
    inlines = [RepresentativeHistoryInline]

    def has_add_permission(self, request) -> bool:
        # A representative is designated through an application or a change of representative,
        # both of which check the statutory qualification.
        return False


# The statutory categories in a word or two, so that the list fits a 1280 px screen.
SHORT_CATEGORY: "dict[str, StrOrPromise]" = {
    Category.CITY: _("City or region"),
    Category.NGO: _("NGO"),
    Category.INSTITUTE: _("Institute, university or government"),
    Category.PRIVATE: _("Private sector"),
}

KIND_LABELS = dict(MembershipKind.choices)
STATUS_LABELS = dict(MembershipStatus.choices)
END_REASON_LABELS = dict(EndReason.choices)
CATEGORY_LABELS = dict(Category.choices)


def country_name(code: str) -> str:
    """The country's name in the page's language."""
    return _country_name(code, get_language() or settings.LANGUAGE_CODE)


@functools.lru_cache(maxsize=2048)
def _country_name(code: str, language: str) -> str:
    # Kept: django_countries looks the name up in its translations on every call.
    with translation.override(language):
        return str(countries.name(code))


def date_shown(value: datetime.date | None, style: str) -> str:
    """The date as ``date_format`` writes it in the page's language; "–" for none."""
    if value is None:
        return "–"
    return _date_shown(value, style, get_language() or settings.LANGUAGE_CODE)


@functools.lru_cache(maxsize=4096)
def _date_shown(value: datetime.date, style: str, language: str) -> str:
    # Kept: the dates of a page repeat (members renew on the same days), and date_format
    # looks its format up and parses it on every call.
    with translation.override(language):
        return date_format(value, style)


class MembershipChangeList(ChangeList):
    """The list of memberships, with each row's link made from the list's own address (its
    page is ``<id>/change/`` under it, as the admin's URLs have it): one reverse() a page
    rather than one a row."""

    @cached_property
    def list_url(self) -> str:
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist",
            current_app=self.model_admin.admin_site.name,
        )

    def url_for_result(self, result) -> str:
        return f"{self.list_url}{quote(getattr(result, self.pk_attname))}/change/"


# --- the membership list's filters -----------------------------------------------------------

ENDED_PREFIX = "ended-"


class MembershipStatusFilter(FilterWithDefault):
    """Staff land on the current members; the ended ones are found by why they ended."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("active", _("Current")),
            ("ended", _("Ended (any reason)")),
            *[(f"{ENDED_PREFIX}{r.value}", r.label) for r in EndReason],
            ("all", _("All")),
        ]

    def default_value(self) -> str:
        return "active"

    def queryset(self, request, queryset):
        value = self.value()
        if value == "active":
            return queryset.filter(status=MembershipStatus.ACTIVE)
        if value == "ended":
            return queryset.filter(status=MembershipStatus.ENDED)
        if value and value.startswith(ENDED_PREFIX):
            return queryset.filter(
                status=MembershipStatus.ENDED, end_reason=value.removeprefix(ENDED_PREFIX)
            )
        return queryset


class CategoryFilter(admin.SimpleListFilter):
    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [*Category.choices, ("person", _("A person (honorary)"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "person":
            return queryset.filter(organisation__isnull=True)
        if value in Category.values:
            return queryset.filter(organisation__category=value)
        return queryset


def countries_in_use() -> list[str]:
    """The countries organisations are in, each read once from the (country, category) index.

    A loose index scan: ``SELECT DISTINCT`` would read every organisation (tens of milliseconds at
    100,000); this jumps from one country to the next, a few hundred index probes at most.
    """
    table = connection.ops.quote_name(Organisation._meta.db_table)
    sql = f"""
        WITH RECURSIVE found(country) AS (
            SELECT MIN(country) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(country) FROM {table} WHERE country > found.country)
            FROM found WHERE found.country IS NOT NULL
        )
        SELECT country FROM found WHERE country IS NOT NULL
    """  # noqa: S608 - the table name comes from the model, nothing from the request
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class CountryFilter(admin.SimpleListFilter):
    """The countries members' organisations are in, by their name in the page's language."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        return sorted(
            ((code, country_name(code)) for code in countries_in_use()), key=lambda c: c[1]
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            return queryset.filter(organisation__country=value)
        return queryset


class RegionFilter(admin.SimpleListFilter):
    title = _("region")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return region_choices()

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            return queryset.filter(organisation__country__in=countries_in(value))
        return queryset


class RenewalDueFilter(admin.SimpleListFilter):
    title = _("renewal due")
    parameter_name = "renews_within"

    def lookups(self, request, model_admin):
        return [(str(days), _("within %(days)d days") % {"days": days}) for days in (30, 60, 90)]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in ("30", "60", "90"):
            return queryset
        # It renews the day after its period ends: on or before today + N days.
        last_day = timezone.localdate() + datetime.timedelta(days=int(value) - 1)
        return queryset.filter(
            status=MembershipStatus.ACTIVE,
            kind=MembershipKind.GENERAL,
            period_end__lte=last_day,
        )


def unanswered_notice() -> Exists:
    """An unanswered renewal notice for the membership's coming renewal."""
    return Exists(
        RenewalNotice.objects.awaiting_answer(timezone.localdate()).filter(
            membership=OuterRef("pk")
        )
    )


class RenewalNoticeFilter(admin.SimpleListFilter):
    title = _("renewal notice")
    parameter_name = "notice"

    def lookups(self, request, model_admin):
        return [("unanswered", _("sent, not answered"))]

    def queryset(self, request, queryset):
        if self.value() == "unanswered":
            return queryset.filter(unanswered_notice())
        return queryset


class EndsAtRenewalFilter(admin.SimpleListFilter):
    title = _("ends at its renewal")
    parameter_name = "ending"

    def lookups(self, request, model_admin):
        return [
            ("flagged", _("flagged as no longer qualifying")),
            ("resigning", _("resigning at the end of the period")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "flagged":
            return queryset.filter(not_qualifying_since__isnull=False)
        if value == "resigning":
            return queryset.filter(resigns_at_period_end=True)
        return queryset


# --- the membership's staff forms --------------------------------------------------------------


class FlagForm(forms.Form):
    NOW = "now"
    AT_RENEWAL = "at_renewal"

    reason = forms.CharField(
        label=_("Why does the member no longer qualify?"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_("The member is told this, as written."),
    )
    when = forms.ChoiceField(
        label=_("The membership ends"),
        widget=forms.RadioSelect,
        choices=[
            (AT_RENEWAL, _("on its renewal date: it is not renewed (the flag can be cleared)")),
            (NOW, _("today")),
        ],
        initial=AT_RENEWAL,
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        if membership.renews_on is None:
            # An honorary membership never renews: it can only end now.
            when = self.fields["when"]
            assert isinstance(when, forms.ChoiceField)
            when.choices = [(self.NOW, _("today"))]
            self.fields["when"].initial = self.NOW


class ClearFlagForm(forms.Form):
    note = forms.CharField(
        label=_("Why is the flag cleared?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("Optional. The member is told the membership continues, with this note."),
    )


class DesignateForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    title = forms.CharField(label=_("Title"), max_length=150)
    qualification = forms.ChoiceField(
        label=_("Qualifies under the statutes as"),
        choices=Qualification.choices,
        widget=forms.RadioSelect,
        help_text=_("Checked by you: the person is invited by email and accepts on the portal."),
    )


class DismissalForm(forms.Form):
    cause = forms.CharField(
        label=_("The grounds for dismissal"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_(
            "The member is told these grounds at once and may answer in writing before the vote."
        ),
    )
    deadline = DeadlineField()


class HonoraryForm(forms.Form):
    EXISTING = "existing"
    NEW = "new"
    PERSON = "person"

    who = forms.ChoiceField(
        label=_("Who is proposed"),
        widget=forms.RadioSelect,
        choices=[
            (EXISTING, _("An organisation already known to the portal")),
            (NEW, _("A new organisation")),
            (PERSON, _("A person, in their own name")),
        ],
        initial=EXISTING,
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.all(),
        required=False,
        help_text=_("Type part of its name. A current member cannot be proposed."),
    )
    name = forms.CharField(label=_("Name of the new organisation"), max_length=200, required=False)
    category = forms.ChoiceField(
        label=_("Statutory category"), choices=[("", "—"), *Category.choices], required=False
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    details = forms.CharField(
        label=_("Why the Board is asked"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("The directors read this; the person or organisation does not."),
    )
    deadline = DeadlineField()

    REQUIRED = {
        NEW: ("name", "category", "country", "city"),
        PERSON: ("first_name", "last_name", "email"),
        EXISTING: ("organisation",),
    }

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        country, language = self.fields["country"], self.fields["language"]
        assert isinstance(country, forms.ChoiceField) and isinstance(language, forms.ChoiceField)
        country.choices = [("", "—"), *list(countries)]
        language.choices = settings.LANGUAGES
        self.fields["language"].initial = settings.LANGUAGE_CODE
        organisation = self.fields["organisation"]
        assert isinstance(organisation, forms.ModelChoiceField)
        organisation.widget = AutocompleteSelect(
            Membership._meta.get_field("organisation"), admin_site
        )
        organisation.widget.choices = organisation.choices

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        who = cleaned.get("who")
        for name in self.REQUIRED.get(who or "", ()):
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, _("This field is required."))
        organisation = cleaned.get("organisation")
        if who == self.EXISTING and organisation and services.is_member(organisation):
            self.add_error("organisation", _("This organisation is already a member."))
        return cleaned


class RefuseChangeForm(forms.Form):
    note = forms.CharField(
        label=_("Why is the change refused?"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_("The person who asked is told this, as written."),
    )


class ConfirmChangeForm(forms.Form):
    """Nothing to fill in: the button confirms, with the details on the page."""


# --- the CSV export -------------------------------------------------------------------------


def _representative(membership: Membership) -> Representative | None:
    standing = getattr(membership.organisation, "standing_representatives", None) or []
    return standing[0] if standing else None


def _rep(read):
    def cell(membership: Membership) -> str:
        representative = _representative(membership)
        return read(representative) if representative is not None else ""

    return cell


CSV_COLUMNS = [
    (_("member"), lambda m: m.holder_name),
    (_("kind"), lambda m: m.get_kind_display()),
    (_("status"), lambda m: m.get_status_display()),
    (_("reason it ended"), lambda m: m.get_end_reason_display()),
    (_("ended on"), lambda m: m.ended_on.isoformat() if m.ended_on else ""),
    (_("category"), lambda m: m.organisation.get_category_display() if m.organisation else ""),
    (_("country"), lambda m: str(m.organisation.country.name) if m.organisation else ""),
    (
        _("region"),
        lambda m: region_name(region_of(m.organisation.country)) if m.organisation else "",
    ),
    (_("member since"), lambda m: m.started_on.isoformat()),
    (_("period starts"), lambda m: m.period_start.isoformat()),
    (_("period ends"), lambda m: m.period_end.isoformat()),
    (_("renews on"), lambda m: m.renews_on.isoformat() if m.renews_on else ""),
    (
        _("flagged as no longer qualifying on"),
        lambda m: m.not_qualifying_since.isoformat() if m.not_qualifying_since else "",
    ),
    (_("representative"), _rep(lambda r: r.user.get_full_name())),
    (_("representative's email"), _rep(lambda r: r.user.email)),
    (_("representative's title"), _rep(lambda r: r.title)),
    (_("representative's qualification"), _rep(lambda r: r.get_qualification_display())),
    (_("designation accepted"), _rep(lambda r: gettext("yes") if r.is_current else gettext("no"))),
]

EXPORT_CHUNK = 1000


def csv_rows(memberships: QuerySet[Membership]) -> Iterator[str]:
    rows = memberships.select_related("organisation", "person").prefetch_related(
        Prefetch(
            "organisation__representatives",
            queryset=Representative.objects.standing().select_related("user"),
            to_attr="standing_representatives",
        )
    )
    return csv_lines(rows.iterator(chunk_size=EXPORT_CHUNK), CSV_COLUMNS)


# --- the membership admin -------------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(StatusHistoryView, ShowsFiltersInUse, admin.ModelAdmin):
    list_display = [
        "holder",
        "kind_shown",
        "status_shown",
        "category_shown",
        "country_shown",
        "region_shown",
        "member_since",
        "renewal",
    ]
    list_filter = [
        MembershipStatusFilter,
        "kind",
        CategoryFilter,
        CountryFilter,
        RegionFilter,
        RenewalDueFilter,
        RenewalNoticeFilter,
        EndsAtRenewalFilter,
    ]
    list_select_related = ["organisation", "person"]
    search_fields = ["organisation__name", "person__email", "person__last_name"]
    # Newest members first: read from the index on started_on, with no sort of the whole table
    # (an order on the organisation's name would sort every membership on each page).
    ordering = ["-started_on", "-pk"]
    show_full_result_count = False
    # Counting every filter's choices would scan the table once per choice, and counting the
    # list itself costs more than the page: the count is kept half a minute.
    show_facets = admin.ShowFacets.NEVER
    paginator = CountedBrieflyPaginator
    list_per_page = 50
    inlines = [StatusChangeInline, RenewalInline, EventInline]
    change_form_template = "admin/members/membership/change_form.html"
    change_list_template = "admin/members/membership/change_list.html"
    readonly_fields = (
        "holder",
        "kind",
        "status",
        "started_on",
        "period_start",
        "period_end",
        "renews_on_shown",
        "not_qualifying_since",
        "not_qualifying_reason",
        "resigns_at_period_end",
        "ended_on",
        "end_reason",
        "end_note",
    )
    fields = readonly_fields

    # --- columns -------------------------------------------------------------------------------
    @admin.display(description=_("member"), ordering="organisation__name")
    def holder(self, obj: Membership) -> str:
        return obj.holder_name

    # Fifty rows on every page: the columns read labels from dictionaries made once (the
    # admin's display of a field with choices, and get_FOO_display(), build one for each cell),
    # and country names, region names and dates from caches kept per language.
    @admin.display(description=_("kind"), ordering="kind")
    def kind_shown(self, obj: Membership) -> str:
        return str(KIND_LABELS.get(obj.kind, obj.kind))

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, obj: Membership) -> str:
        if not obj.is_active and obj.end_reason:
            return str(END_REASON_LABELS.get(obj.end_reason, obj.end_reason))
        return str(STATUS_LABELS.get(obj.status, obj.status))

    @admin.display(description=_("category"), ordering="organisation__category")
    def category_shown(self, obj: Membership) -> str:
        if obj.organisation is None:
            return gettext("A person")
        category = obj.organisation.category
        return str(SHORT_CATEGORY.get(category) or CATEGORY_LABELS.get(category, category))

    @admin.display(description=_("country"), ordering="organisation__country")
    def country_shown(self, obj: Membership) -> str:
        if obj.organisation is None:
            return "–"
        return country_name(obj.organisation.country.code)  # type: ignore[attr-defined]

    @admin.display(description=_("region"))
    def region_shown(self, obj: Membership) -> str:
        if obj.organisation is None:
            return "–"
        return region_name(region_of(obj.organisation.country)) or "–"

    @admin.display(description=_("member since"), ordering="started_on")
    def member_since(self, obj: Membership) -> str:
        return date_shown(obj.started_on, "DATE_FORMAT")

    @admin.display(description=_("renewal"), ordering="period_end")
    def renewal(self, obj: Membership, date_style: str = "SHORT_DATE_FORMAT") -> str:
        def shown(value: datetime.date | None) -> str:
            return date_shown(value, date_style)

        if not obj.is_active:
            return gettext("ended on %(date)s") % {"date": shown(obj.ended_on)}
        if obj.renews_on is None:
            return gettext("no renewal")
        if obj.is_flagged_not_qualifying:
            return gettext("ends on %(date)s: no longer qualifies") % {"date": shown(obj.renews_on)}
        if obj.resigns_at_period_end:
            return gettext("ends on %(date)s: resigning") % {"date": shown(obj.renews_on)}
        return shown(obj.renews_on)

    @admin.display(description=_("renews on"))
    def renews_on_shown(self, obj: Membership) -> str:
        return self.renewal(obj, "DATE_FORMAT")

    # --- permissions ---------------------------------------------------------------------------
    def has_add_permission(self, request) -> bool:
        # Memberships begin with the Board's decision on an application or an honorary
        # appointment; their status only moves through the membership services.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def status_history(self, obj: Membership):
        return obj.status_changes.all()

    # --- pages ---------------------------------------------------------------------------------
    def get_urls(self):
        def view(name: str, route: str, func):
            return path(route, self.admin_site.admin_view(func), name=f"members_membership_{name}")

        return [
            view("export_csv", "export.csv", self.export_csv_view),
            view("report", "report/", self.report_view),
            view("honorary", "propose-honorary/", self.honorary_view),
            view("flag", "<int:pk>/flag/", self.flag_view),
            view("clear_flag", "<int:pk>/clear-flag/", self.clear_flag_view),
            view("dismiss", "<int:pk>/dismissal/", self.dismissal_view),
            view("designate", "<int:pk>/designate/", self.designate_view),
            *super().get_urls(),
        ]

    def get_changelist(self, request, **kwargs):
        return MembershipChangeList

    def changelist_view(self, request, extra_context=None):
        extra = {"title": gettext("Memberships"), "staff_tools": is_staff(request)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        membership = self.get_object(request, object_id)
        acts = bool(membership and is_staff(request) and membership.is_active)
        organisation = membership.organisation if membership else None
        extra = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "can_flag": acts and not membership.is_flagged_not_qualifying,  # type: ignore[union-attr]
            "can_clear_flag": acts and membership.is_flagged_not_qualifying,  # type: ignore[union-attr]
            "can_dismiss": acts and organisation is not None,
            "can_designate": acts and organisation is not None,
            "representatives": list(organisation.representatives.standing().select_related("user"))
            if organisation is not None
            else [],
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _staff_membership(self, request: HttpRequest, pk: int) -> Membership:
        if not is_staff(request):
            raise PermissionDenied
        return get_object_or_404(Membership.objects.select_related("organisation", "person"), pk=pk)

    def _action_page(self, request, membership, form, title, button, intro="") -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "membership": membership,
            "form": form,
            "button": button,
            "intro": intro,
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/members/membership/action.html", context)

    def _back(self, membership: Membership) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:members_membership_change", args=[membership.pk])
        )

    def designate_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        membership = self._staff_membership(request, pk)
        if membership.organisation is None:
            raise Http404
        form = DesignateForm(posted(request), initial={"language": settings.LANGUAGE_CODE})
        if request.method == "POST" and form.is_valid():
            try:
                representative = staff.designate_for_member(
                    organisation=membership.organisation,
                    by=request.user,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    gettext("%(name)s is invited to accept the designation.")
                    % {"name": representative.user},
                    messages.SUCCESS,
                )
                return self._back(membership)
        return self._action_page(
            request,
            membership,
            form,
            gettext("A representative for %(name)s") % {"name": membership.holder_name},
            gettext("Designate and invite"),
            intro=gettext(
                "For a member with no representative, or on its written request. Whoever "
                "represents it now no longer does, and is told."
            ),
        )

    def flag_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        membership = self._staff_membership(request, pk)
        form = FlagForm(posted(request), membership=membership)
        if request.method == "POST" and form.is_valid():
            end_now = form.cleaned_data["when"] == FlagForm.NOW
            try:
                staff.flag_not_qualifying(
                    membership=membership,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    end_now=end_now,
                )
            except ValidationError as error:
                add_errors(form, _renamed(error, {"end_now": "when"}))
            else:
                done = (
                    gettext("The membership has ended; the member has been told.")
                    if end_now
                    else gettext(
                        "The membership is flagged: it ends on its renewal date. "
                        "The member has been told."
                    )
                )
                self.message_user(request, done, messages.SUCCESS)
                return self._back(membership)
        return self._action_page(
            request,
            membership,
            form,
            gettext("%(name)s no longer qualifies") % {"name": membership.holder_name},
            gettext("Record it and tell the member"),
        )

    def clear_flag_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        membership = self._staff_membership(request, pk)
        form = ClearFlagForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                staff.clear_not_qualifying(
                    membership=membership, by=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    gettext("The flag is cleared: the membership renews as usual."),
                    messages.SUCCESS,
                )
                return self._back(membership)
        return self._action_page(
            request,
            membership,
            form,
            gettext("Clear the flag on %(name)s") % {"name": membership.holder_name},
            gettext("Clear the flag and tell the member"),
            intro=membership.not_qualifying_reason,
        )

    def dismissal_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        membership = self._staff_membership(request, pk)
        if membership.organisation is None:
            raise PermissionDenied
        form = DismissalForm(
            posted(request),
            initial={"deadline": default_deadline().strftime("%Y-%m-%dT%H:%M")},
        )
        if request.method == "POST" and form.is_valid():
            try:
                ballot = services.propose_dismissal(
                    organisation=membership.organisation,
                    cause=form.cleaned_data["cause"],
                    deadline=form.cleaned_data["deadline"],
                    by=request.user,
                )
            except ValidationError as error:
                add_errors(form, _renamed(error, {"details": "cause"}))
            else:
                self.message_user(
                    request,
                    gettext(
                        "The vote is open until %(deadline)s; every director and the member "
                        "have been emailed."
                    )
                    % {"deadline": when(ballot.deadline)},
                    messages.SUCCESS,
                )
                return self._back(membership)
        return self._action_page(
            request,
            membership,
            form,
            gettext("Put the dismissal of %(name)s to the Board")
            % {"name": membership.holder_name},
            gettext("Open the Board's vote"),
        )

    def honorary_view(self, request: SignedInRequest[User]) -> HttpResponse:
        if not is_staff(request):
            raise PermissionDenied
        form = HonoraryForm(
            posted(request),
            admin_site=self.admin_site,
            initial={"deadline": default_deadline().strftime("%Y-%m-%dT%H:%M")},
        )
        if request.method == "POST" and form.is_valid():
            try:
                data = form.cleaned_data
                ballot = staff.propose_honorary_appointment(
                    organisation=data["organisation"] if data["who"] == form.EXISTING else None,
                    new_organisation={
                        key: data[key] for key in ("name", "category", "country", "city", "website")
                    }
                    if data["who"] == form.NEW
                    else None,
                    person={
                        "email": data["email"],
                        "first_name": data["first_name"],
                        "last_name": data["last_name"],
                        "language": data["language"] or "en",
                    }
                    if data["who"] == form.PERSON
                    else None,
                    details=data["details"],
                    deadline=data["deadline"],
                    by=request.user,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    gettext("The vote is open until %(deadline)s; every director has been emailed.")
                    % {"deadline": when(ballot.deadline)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:board_ballot_change", args=[ballot.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Propose an honorary member"),
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/members/membership/honorary.html", context)

    def export_csv_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The list as it is filtered and searched, every page of it, streamed."""
        # Representatives' names and addresses in bulk: for the Centre's staff only.
        if not is_staff(request) or not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        memberships = changelist.queryset.select_related(None).prefetch_related(None)
        return streamed_csv(csv_rows(memberships), name="members")

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not is_staff(request):
            raise PermissionDenied
        report = membership_report()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Renewals and retention"),
            "report": report,
            "chart_data": report.chart_data(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/members/membership/report.html", context)


def _renamed(error: ValidationError, names: dict[str, str]) -> ValidationError:
    """The service's field names, as the form calls them."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(k, k): v for k, v in error.error_dict.items()})


# --- changes of representative ------------------------------------------------------------------


class ChangeStatusFilter(FilterWithDefault):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*RepresentativeChangeStatus.choices, ("all", _("All"))]

    def default_value(self) -> str:
        return RepresentativeChangeStatus.PENDING

    def queryset(self, request, queryset):
        value = self.value()
        if value in RepresentativeChangeStatus.values:
            return queryset.filter(status=value)
        return queryset


class StaffReadOnly:
    """Read by those the roles let view it (the Centre's staff); changed only through the
    services' buttons."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RepresentativeChange)
class RepresentativeChangeAdmin(StaffReadOnly, ShowsFiltersInUse, admin.ModelAdmin):
    list_display = [
        "organisation",
        "new_person",
        "email",
        "title",
        "qualification",
        "requested_by",
        "requested_at",
        "status",
    ]
    list_filter = [ChangeStatusFilter]
    list_select_related = ["organisation", "requested_by"]
    search_fields = ["organisation__name", "email", "last_name"]
    ordering = ["requested_at"]
    change_form_template = "admin/members/representativechange/change_form.html"
    readonly_fields = (
        "organisation",
        "current_representative",
        "first_name",
        "last_name",
        "email",
        "language",
        "title",
        "qualification",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
        "representative",
    )
    fields = readonly_fields

    @admin.display(description=_("new representative"), ordering="last_name")
    def new_person(self, obj: RepresentativeChange) -> str:
        return f"{obj.first_name} {obj.last_name}"

    @admin.display(description=_("current representative"))
    def current_representative(self, obj: RepresentativeChange) -> str:
        if obj.status != RepresentativeChangeStatus.PENDING:
            return "–"
        current = (
            Representative.objects.standing()
            .filter(organisation_id=obj.organisation_id)
            .select_related("user")
            .first()
        )
        if current is None:
            return gettext("none")
        qualification = current.get_qualification_display()
        return f"{current.user} <{current.user.email}>, {current.title} ({qualification})"

    def get_urls(self):
        return [
            path(
                "<int:pk>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="members_representativechange_confirm",
            ),
            path(
                "<int:pk>/refuse/",
                self.admin_site.admin_view(self.refuse_view),
                name="members_representativechange_refuse",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = self.get_object(request, object_id)
        extra = {
            "can_decide": bool(
                change and is_staff(request) and change.status == RepresentativeChangeStatus.PENDING
            )
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _pending(self, request: HttpRequest, pk: int) -> RepresentativeChange:
        if not is_staff(request):
            raise PermissionDenied
        return get_object_or_404(
            RepresentativeChange.objects.select_related("organisation", "requested_by"), pk=pk
        )

    def _page(self, request, change, form, title, button) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "change": change,
            "current": self.current_representative(change),
            "form": form,
            "button": button,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/members/representativechange/action.html", context)

    def _back(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:members_representativechange_changelist"))

    def confirm_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        change = self._pending(request, pk)
        form = ConfirmChangeForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                staff.confirm_representative_change(change=change, by=request.user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    gettext(
                        "Confirmed: %(name)s has been emailed to accept the designation; "
                        "the previous representative no longer acts for %(org)s."
                    )
                    % {"name": self.new_person(change), "org": change.organisation},
                    messages.SUCCESS,
                )
                return self._back()
        return self._page(
            request,
            change,
            form,
            gettext("Confirm %(name)s as the representative of %(org)s")
            % {"name": self.new_person(change), "org": change.organisation},
            gettext("Confirm the change"),
        )

    def refuse_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        change = self._pending(request, pk)
        form = RefuseChangeForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                staff.refuse_representative_change(
                    change=change, by=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request, gettext("Refused; the member has been told why."), messages.SUCCESS
                )
                return self._back()
        return self._page(
            request,
            change,
            form,
            gettext("Refuse %(name)s as the representative of %(org)s")
            % {"name": self.new_person(change), "org": change.organisation},
            gettext("Refuse and tell the member"),
        )


# --- renewal notices ----------------------------------------------------------------------------


class AnsweredFilter(admin.SimpleListFilter):
    title = _("answer")
    parameter_name = "answered"

    def lookups(self, request, model_admin):
        return [("no", _("not answered")), ("yes", _("answered"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.unanswered()
        if self.value() == "yes":
            return queryset.exclude(answer="")
        return queryset


@admin.register(RenewalNotice)
class RenewalNoticeAdmin(StaffReadOnly, admin.ModelAdmin):
    list_display = ["member", "renews_on", "sent_at", "answer", "answered_at"]
    list_filter = [AnsweredFilter, "answer"]
    list_select_related = ["membership__organisation", "membership__person"]
    search_fields = ["membership__organisation__name", "membership__person__email"]
    show_full_result_count = False
    readonly_fields = (
        "membership",
        "renews_on",
        "sent_at",
        "answer",
        "changes",
        "answered_at",
        "answered_by",
    )
    fields = readonly_fields

    @admin.display(description=_("member"), ordering="membership__organisation__name")
    def member(self, obj: RenewalNotice) -> str:
        return obj.membership.holder_name
