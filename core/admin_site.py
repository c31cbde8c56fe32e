"""The Centre's admin: staff and Board screens, and helpers every app's admin uses.

Its sign-in is allauth's, so rate limits and two-factor authentication apply there too, and no
one reaches it without two-factor authentication turned on.
"""

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def needs_mfa_setup(user) -> bool:
    return bool(user.is_authenticated and user.is_staff and not is_mfa_enabled(user))


class PortalAdminSite(admin.AdminSite):
    site_header = _("ICPC Portal administration")
    site_title = _("ICPC Portal")
    index_title = _("Membership, applications and the Board")
    enable_nav_sidebar = True

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not needs_mfa_setup(request.user)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            login_url = resolve_url("account_login")
            return HttpResponseRedirect(f"{login_url}?{urlencode({'next': next_url})}")
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if needs_mfa_setup(user):
            messages.warning(
                request,
                gettext(
                    "The administration requires two-factor authentication. "
                    "Set up an authenticator app to continue."
                ),
            )
            return HttpResponseRedirect(
                f"{resolve_url('mfa_activate_totp')}?{urlencode({'next': next_url})}"
            )
        return HttpResponseRedirect(next_url)


class FilterWithDefault(admin.SimpleListFilter):
    """A list filter that opens on a chosen value rather than on everything ("all" is a choice)."""

    def __init__(self, request, params, model, model_admin):
        self.request = request
        super().__init__(request, params, model, model_admin)

    def default_value(self) -> str:
        raise NotImplementedError

    def value(self):
        return super().value() or self.default_value()

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class StatusHistoryInline(admin.TabularInline):
    """A read-only history of status changes (any subclass of core.status.StatusChange)."""

    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "from_status", "to_status", "actor", "note")
    verbose_name_plural = _("History: every change of status, who made it, when and why")

    def has_add_permission(self, request, obj=None) -> bool:
        return False
