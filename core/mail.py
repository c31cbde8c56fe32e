"""Every email sent through Django becomes outbox rows, in the current transaction.

``OutboxEmailBackend`` is settings.EMAIL_BACKEND: allauth's confirmations, resets and sign-in
codes, mail_admins and the portal's own emails all go through it. It writes one row per
recipient (see core.outbox); the row is sent after the commit through the backend EMAIL_URL
names (``EMAIL_DELIVERY_BACKEND``: SMTP in production, the console for a developer), by a
Celery worker, or in-process when there is no broker.

The portal's emails are ``PortalEmail``s, which say what they are about (``purpose``), whether
their body carries a sign-in, reset or invitation link (``sensitive``) and their language. Any
other message (allauth's) is stored as sensitive: nothing says it carries no such link.
"""

from collections.abc import Sequence

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import translation
from django.utils.html import strip_tags


class PortalEmail(EmailMultiAlternatives):
    """An email of the portal's own, with what the outbox needs to know about it."""

    def __init__(
        self, *args, purpose: str = "", sensitive: bool = False, language: str = "", **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.purpose = purpose
        self.sensitive = sensitive
        self.language = language


def _bodies(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a message."""
    body = str(message.body)
    html = ""
    if message.content_subtype == "html":
        html, body = body, strip_tags(body)
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype != "text/html":
            raise ValueError(f"The outbox keeps only HTML alternatives, not {mimetype}.")
        html = str(content)
    return body, html


def _attachments(message: EmailMessage) -> list[tuple[str, str | bytes, str]]:
    attachments: list[tuple[str, str | bytes, str]] = []
    for attachment in message.attachments:
        if not isinstance(attachment, tuple):
            raise ValueError("Attach files as (filename, content, mimetype), not as MIME parts.")
        filename, content, mimetype = attachment
        attachments.append((str(filename), content, mimetype or "application/octet-stream"))
    return attachments


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Queue every message, one row per recipient. Returns how many messages were queued
        (a message whose purpose was already queued for all its recipients is not counted)."""
        from . import outbox  # models: not at import time, the app registry may not be ready

        count = 0
        for message in email_messages:
            body, html_body = _bodies(message)
            attachments = _attachments(message)
            queued = [
                outbox.enqueue(
                    to=recipient,
                    subject=str(message.subject),
                    body=body,
                    html_body=html_body,
                    from_email=str(message.from_email),
                    reply_to=[str(address) for address in message.reply_to],
                    headers=message.extra_headers,
                    attachments=attachments,
                    language=getattr(message, "language", "") or translation.get_language() or "",
                    purpose=getattr(message, "purpose", ""),
                    sensitive=getattr(message, "sensitive", True),
                )
                for recipient in message.recipients()
            ]
            count += any(queued)
        return count
