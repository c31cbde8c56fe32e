"""The Centre's admin: staff and Board screens, and helpers every app's admin uses.

Its sign-in is allauth's, so rate limits and two-factor authentication apply there too, and no
one reaches it without two-factor authentication turned on.
"""

import hashlib
from collections.abc import Callable
from functools import cached_property, wraps

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def needs_mfa_setup(user) -> bool:
    return bool(user.is_authenticated and user.is_staff and not is_mfa_enabled(user))


class NulInQuery(SuspiciousOperation):
    """A query parameter holds a NUL character, which PostgreSQL refuses in text.

    Answered with the 400 page (Django turns every SuspiciousOperation into one)."""


def refuse_nul_in_query(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a request whose query string has a NUL in a name or a value, before any filter,
    search or lookup passes it to the database."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise NulInQuery(f"NUL character in the query parameter {name!r}")
        return view(request, *args, **kwargs)

    return wrapper


class PortalAdminSite(admin.AdminSite):
    site_header = _("ICPC Portal administration")
    site_title = _("ICPC Portal")
    index_title = _("Membership, applications and the Board")
    enable_nav_sidebar = True

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not needs_mfa_setup(request.user)

    def admin_view(self, view, cacheable=False):
        # Every admin page (changelists, change forms, the apps' own screens) goes through here.
        return super().admin_view(refuse_nul_in_query(view), cacheable)

    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context=None
    ) -> HttpResponse:
        # allauth's page: rate-limited, and it tells the person by email that it was changed.
        return HttpResponseRedirect(resolve_url("account_change_password"))

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


class CountedBrieflyPaginator(Paginator):
    """A list's paginator that keeps its row count for ``COUNT_SECONDS``: counting a hundred
    thousand rows costs more than the rest of the page. The count is per query (filters and
    search included) and may lag by that long after a change; the rows themselves never do."""

    COUNT_SECONDS = 30

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is None:
            return super().count
        key = "admin-count:" + hashlib.sha256(str(query).encode()).hexdigest()
        found = cache.get(key)
        if found is None:
            found = super().count
            cache.set(key, found, self.COUNT_SECONDS)
        return found


class FilterWithDefault(admin.SimpleListFilter):
    """A list filter that opens on a chosen value rather than on everything.

    ``everything`` is the lookup that shows every row. A search looks through everything: the
    default gives way to it, unless the value was chosen (it is then in the query string).
    """

    everything = "all"

    def __init__(self, request, params, model, model_admin):
        self.request = request
        super().__init__(request, params, model, model_admin)

    def default_value(self) -> str:
        raise NotImplementedError

    def is_chosen(self) -> bool:
        return bool(super().value())

    def value(self):
        if self.is_chosen():
            return super().value()
        if self.request.GET.get(SEARCH_VAR, "").strip():
            return self.everything
        return self.default_value()

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def filters_in_use(changelist: ChangeList) -> list[tuple[str, str]]:
    """(title, chosen value) of each filter that narrows the list, defaults included."""
    in_use = []
    for spec in changelist.filter_specs:
        if isinstance(spec, FilterWithDefault):
            value = spec.value()
            if value == spec.everything:
                continue
            shown = dict(spec.lookup_choices).get(value, value)
        elif spec.used_parameters:
            shown = next(
                (
                    str(choice["display"])
                    for choice in spec.choices(changelist)
                    if choice["selected"]
                ),
                ", ".join(str(v) for v in spec.used_parameters.values()),
            )
        else:
            continue
        in_use.append((str(spec.title), str(shown)))
    # Lookups written into the address (``?category=ngo``) narrow the list too.
    taken = {name for spec in changelist.filter_specs for name in spec.expected_parameters()}
    for name, values in changelist.get_filters_params().items():
        if name not in taken:
            in_use.append((name, ", ".join(values)))
    return in_use


class ShowsFiltersInUse:
    """A ModelAdmin mixin: the list page says which filters narrow it (``filters_in_use``),
    defaults included, so that a list opened on a default never looks like everything."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        context = getattr(response, "context_data", None)
        if context is not None and isinstance(context.get("cl"), ChangeList):
            context["filters_in_use"] = filters_in_use(context["cl"])
            context["searching"] = bool(context["cl"].query)
        return response


class StatusHistoryInline(admin.TabularInline):
    """A read-only history of status changes (any subclass of core.status.StatusChange)."""

    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "from_status", "to_status", "actor", "note")
    verbose_name_plural = _("History: every change of status, who made it, when and why")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StatusHistoryView:
    """A ModelAdmin mixin: the "History" button shows the object's real status history (its
    StatusChange rows, from ``status_history(obj)``), not Django's log of admin edits."""

    def status_history(self, obj):
        raise NotImplementedError

    def history_view(self, request, object_id, extra_context=None):
        model_admin: admin.ModelAdmin = self  # type: ignore[assignment]
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not model_admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        opts = model_admin.model._meta
        context = {
            **model_admin.admin_site.each_context(request),
            "title": gettext("History: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": opts,
            "changes": list(self.status_history(obj).select_related("actor").order_by("at", "pk")),
            **(extra_context or {}),
        }
        request.current_app = model_admin.admin_site.name
        return TemplateResponse(request, "admin/status_history.html", context)
