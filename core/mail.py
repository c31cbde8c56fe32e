"""Email goes out through Celery, so a slow or failing mail server never holds up a page.

``CeleryEmailBackend`` turns each message into JSON and queues ``send_email`` once the current
transaction commits (a message about a change that rolled back is never sent). The task hands the
message to the delivery backend (``EMAIL_DELIVERY_BACKEND``: SMTP in production, the console
for a developer). Without a broker the task runs in-process, right after the commit.
"""

from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.db import transaction


def message_to_dict(message: EmailMessage) -> dict[str, Any]:
    if message.attachments:
        raise ValueError("Attachments are not sent through the queue; link to the document.")
    headers = dict(message.extra_headers)
    headers.setdefault("Message-ID", make_msgid(domain="portal.cipc-icpc.org"))
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": headers,
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
    }


def message_from_dict(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


def _queue(task, data: dict[str, Any]):
    """A named callable (Django logs a failed after-commit hook by its __qualname__)."""

    def queue_email() -> None:
        task.delay(data)

    return queue_email


class CeleryEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from .tasks import send_email

        count = 0
        for message in email_messages:
            # robust: a broker that is down is logged; it never turns a saved change into an
            # error page, nor stops the other after-commit work (other emails, file clean-up).
            transaction.on_commit(_queue(send_email, message_to_dict(message)), robust=True)
            count += 1
        return count
