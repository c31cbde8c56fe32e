from allauth.account.forms import ResetPasswordForm
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .models import User

ROLE_FIELDS = ["is_staff", "is_superuser", "groups", "user_permissions", "is_board_president"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """People's accounts. Staff are a help desk: they see accounts, correct names and send a
    password-reset link; a superuser alone sets a password, changes an email or hands out roles.
    """

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_board_president"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "is_board_president"]
    search_fields = ["email", "first_name", "last_name"]
    actions = ["send_password_reset"]
    change_form_template = "admin/accounts/user/change_form.html"
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "language")}),
        (
            _("Roles"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "is_board_president",
                    "user_permissions",
                )
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )

    def has_change_permission(self, request, obj=None) -> bool:
        # Staff keep members' and applicants' details current; accounts that hold a role in the
        # admin (staff, directors, superusers) are changed by a superuser only.
        if obj is not None and not request.user.is_superuser and (obj.is_staff or obj.is_superuser):
            return False
        return super().has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Staff see whether the person has a password, never its hash nor a way to set it.
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "password_state" if field == "password" else field
                        for field in options["fields"]
                    ),
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser hands out roles or changes the address people sign in with.
            readonly += ["email", "password_state", *ROLE_FIELDS]
        return readonly

    @admin.display(description=_("password"))
    def password_state(self, obj: User) -> str:
        if obj.has_usable_password():
            return gettext("Set. If the person has forgotten it, send them a password-reset link.")
        return gettext("Not set yet: the person can choose one through a password-reset link.")

    def user_change_password(self, request, id, form_url=""):
        # Setting someone's password is for a superuser; staff send a reset link instead.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    # --- password-reset links -----------------------------------------------------------------
    def get_urls(self):
        custom = [
            path(
                "<id>/send-password-reset/",
                self.admin_site.admin_view(require_POST(self.send_password_reset_view)),
                name="accounts_user_send_password_reset",
            ),
        ]
        return custom + super().get_urls()

    def _send_reset_links(self, request: HttpRequest, users: list[User]) -> None:
        """allauth's own reset email, through the outbox, to each active person."""
        sent, skipped = [], []
        for person in users:
            form = ResetPasswordForm(data={"email": person.email})
            if person.is_active and person.email and form.is_valid() and person in form.users:
                # In the person's language, as the page the link opens.
                with translation.override(person.language or None):
                    form.save(request)
                sent.append(person.email)
            else:
                skipped.append(person.email or str(person.pk))
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A password-reset link is on its way to %(emails)s.",
                    "Password-reset links are on their way to %(emails)s.",
                    len(sent),
                )
                % {"emails": ", ".join(sent)},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                gettext("No link was sent to %(emails)s: the account is not active.")
                % {"emails": ", ".join(skipped)},
                messages.WARNING,
            )

    @admin.action(permissions=["view"], description=_("Send a password-reset link"))
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._send_reset_links(request, list(queryset))

    def send_password_reset_view(self, request: HttpRequest, id: str) -> HttpResponse:
        person = self.get_object(request, unquote(id))
        if person is None:
            raise Http404
        if not self.has_view_permission(request, person):
            raise PermissionDenied
        self._send_reset_links(request, [person])
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[person.pk]))

    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
