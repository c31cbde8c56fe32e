"""Staff screens of core: the email outbox, read-only, with "Send again" for failed emails."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import outbox
from .models import RESENDABLE, OutboxMessage

HIDDEN_BODY = _("The body is hidden: it carries a sign-in, reset or invitation link.")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["to", "subject", "purpose", "status", "created_at", "sent_at", "attempts"]
    list_filter = ["status"]
    # Never the body: a search on it would reveal the links of the sensitive ones.
    search_fields = ["to", "subject", "purpose"]
    list_per_page = 100
    show_full_result_count = False
    actions = ["send_again"]
    change_form_template = "admin/core/outboxmessage/change_form.html"
    # What the change page shows; the body only through ``shown_body``.
    fields = (
        "to",
        "language",
        "from_email",
        "reply_to",
        "subject",
        "purpose",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "message_id",
        "attachment_list",
        "shown_body",
    )
    readonly_fields = fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Only the status filter: a filter in the URL on the body (``?body__contains=``) would
        let someone rebuild a sensitive email's link one character at a time."""
        return lookup in {"status", "status__exact"}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # what was sent is a record; staff act through "Send again"

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the purge job forgets old emails

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.resend_outboxmessage")

    @admin.display(description=_("body"))
    def shown_body(self, obj: OutboxMessage) -> str:
        if obj.sensitive:
            return str(HIDDEN_BODY)
        return format_html("<pre>{}</pre>", obj.body)

    @admin.display(description=_("Message-ID"))
    def message_id(self, obj: OutboxMessage) -> str:
        return str(obj.headers.get("Message-ID", ""))

    @admin.display(description=_("attachments"))
    def attachment_list(self, obj: OutboxMessage) -> str:
        return ", ".join(obj.attachment_names) or "–"

    # --- Send again -----------------------------------------------------------------------
    @admin.action(description=_("Send again"), permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        chosen = list(queryset.filter(status__in=RESENDABLE))
        count = outbox.resend(ids=[message.pk for message in chosen])
        for message in chosen:
            self.log_change(request, message, gettext("Sent again."))
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext(
                "%(count)d email will be sent again.",
                "%(count)d emails will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email was not sent again: only failed emails can be.",
                    "%(count)d emails were not sent again: only failed emails can be.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/send-again/",
                self.admin_site.admin_view(require_POST(self.send_again_view)),
                name="core_outboxmessage_send_again",
            ),
        ]
        return custom + super().get_urls()

    def send_again_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not (self.has_view_permission(request) and self.has_resend_permission(request)):
            raise PermissionDenied
        message = get_object_or_404(OutboxMessage, pk=pk)
        if outbox.resend(ids=[message.pk]):
            self.log_change(request, message, gettext("Sent again."))
            self.message_user(request, gettext("The email will be sent again."), messages.SUCCESS)
        else:
            self.message_user(
                request, gettext("Only a failed email can be sent again."), messages.WARNING
            )
        return HttpResponseRedirect(reverse("admin:core_outboxmessage_change", args=[pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, object_id)
        extra = {
            "can_send_again": bool(
                message and message.can_be_resent and self.has_resend_permission(request)
            ),
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
