"""The email outbox: every email the portal sends is first a row here.

A row is written in the same transaction as the change that caused it (a change that rolls
back leaves none), then sent after the commit by ``core.outbox.deliver``; see core.outbox.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils.translation import gettext_lazy as _

from .status import Transitions


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


# Who makes each move (all of them in core.outbox): enqueue creates a pending row; a delivery
# claims it (sending); the send marks it sent, or puts it back to pending (back-off) or failed
# (too many attempts); the sweep returns a row whose claim outlived the lease to pending (or
# failed); staff send a failed row again (pending).
OUTBOX_MOVES: Transitions[OutboxStatus] = Transitions(
    {
        "": [OutboxStatus.PENDING],
        OutboxStatus.PENDING: [OutboxStatus.SENDING],
        OutboxStatus.SENDING: [OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.FAILED],
        OutboxStatus.FAILED: [OutboxStatus.PENDING],
    }
)
# The statuses staff may send again from (the sweep, not staff, takes care of "sending").
RESENDABLE = frozenset({OutboxStatus.FAILED})


class OutboxMessage(models.Model):
    """One email to one recipient, as it will be sent (and sent again after a failure)."""

    to = models.CharField(_("recipient"), max_length=320)
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("body"), blank=True)
    html_body = models.TextField(_("HTML body"), blank=True)
    from_email = models.CharField(_("sender"), max_length=320)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    # Includes the Message-ID fixed when the row is written: a retried send carries the same one.
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # [{"filename", "mimetype", "content" (base64)}]
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # What the email is about, unique per recipient ("board-reminder:12:48"): a job run twice
    # cannot queue the same notice twice. Blank for one-off messages (allauth's, error reports).
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    # The body carries a sign-in, reset or invitation link: it is never shown, and it is
    # erased once the email is sent.
    sensitive = models.BooleanField(_("sensitive"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The database's clock, so that web servers and workers whose clocks differ agree.
    next_attempt_at = models.DateTimeField(_("next attempt"), db_default=Now())
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), db_default=Now())

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-pk"]
        permissions = [("resend_outboxmessage", _("Can send an email again"))]
        constraints = [
            models.UniqueConstraint(
                "purpose",
                Lower("to"),
                condition=~Q(purpose=""),
                name="core_outbox_one_per_purpose_and_recipient",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="core_outbox_known_status"
            ),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENT) | Q(sent_at__isnull=False),
                name="core_outbox_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENDING) | Q(claimed_at__isnull=False),
                name="core_outbox_sending_is_claimed",
            ),
            models.CheckConstraint(condition=~Q(to=""), name="core_outbox_has_recipient"),
        ]
        indexes = [
            # The sweep: pending rows that are due, and claims past their lease.
            models.Index(fields=["status", "next_attempt_at"], name="core_outbox_due"),
            # The admin's list (newest first) and the purge.
            models.Index(fields=["created_at"], name="core_outbox_created"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    @property
    def can_be_resent(self) -> bool:
        return self.status in RESENDABLE and OUTBOX_MOVES.allows(self.status, OutboxStatus.PENDING)

    @property
    def attachment_names(self) -> list[str]:
        return [str(item.get("filename") or "") for item in self.attachments]
