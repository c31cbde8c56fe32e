from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.admin_site import StatusHistoryInline, StatusHistoryView

from .models import (
    Membership,
    MembershipRenewal,
    MembershipStatusChange,
    Organisation,
    Representative,
    RepresentativeStatusChange,
)


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


class RenewalInline(ReadOnlyInline):
    """Each yearly renewal: a renewal does not change the status, so it has a history of its own."""

    model = MembershipRenewal
    show_change_link = False
    fields = readonly_fields = ("period_start", "period_end", "renewed_at", "by")
    verbose_name_plural = _("History: yearly renewals")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


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


@admin.register(Membership)
class MembershipAdmin(StatusHistoryView, admin.ModelAdmin):
    list_display = ["organisation", "kind", "status", "started_on", "period_end"]
    list_filter = ["kind", "status", "organisation__category"]
    list_select_related = ["organisation"]
    search_fields = ["organisation__name"]
    date_hierarchy = "started_on"
    inlines = [StatusChangeInline, RenewalInline]
    readonly_fields = [
        "organisation",
        "kind",
        "status",
        "started_on",
        "period_start",
        "period_end",
        "ended_on",
        "end_reason",
        "end_note",
    ]

    def status_history(self, obj: Membership):
        return obj.status_changes.all()

    def has_add_permission(self, request) -> bool:
        # Memberships begin with the Board's decision on an application or an honorary
        # appointment; their status only moves through the membership services.
        return False
