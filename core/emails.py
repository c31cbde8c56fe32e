"""Emails written from templates, in the recipient's language.

``templates/<app>/email/<name>_subject.txt`` and ``<name>_body.txt`` make one message. It is
written to the outbox in the surrounding transaction and sent once that commits (core.mail,
core.outbox). ``purpose`` names what it is about, unique per recipient: a second email with the
same purpose to the same person is not queued ("board-reminder:<ballot>:<director>").
``sensitive`` says the body carries a sign-in, reset or invitation link: staff never see it.
"""

from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.template import Context
from django.template.loader import get_template
from django.utils import translation

from .mail import PortalEmail

# (filename, content, mimetype): an event's ``.ics`` is ("event.ics", text, "text/calendar").
Attachment = tuple[str, str | bytes, str]


class Addressee(Protocol):
    """Whom a personal email goes to: an account's address and language (accounts.User)."""

    email: str
    language: str


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _render_text(name: str, context: dict[str, Any]) -> str:
    """Plain text: what people typed goes out as typed, not HTML-escaped."""
    return get_template(name).template.render(Context(context, autoescape=False))  # type: ignore[attr-defined]


def send_templated_email(
    *,
    template: str,
    to: Iterable[str],
    context: dict[str, Any],
    language: str | None = None,
    reply_to: Iterable[str] = (),
    purpose: str = "",
    sensitive: bool = False,
    attachments: Iterable[Attachment] = (),
) -> None:
    recipients = [address for address in to if address]
    if not recipients:
        return
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, **context}
        subject = _render_text(f"{template}_subject.txt", context).strip()
        body = _render_text(f"{template}_body.txt", context)
    PortalEmail(
        subject=settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body=body,
        to=recipients,
        reply_to=list(reply_to),
        attachments=list(attachments),
        purpose=purpose,
        sensitive=sensitive,
        language=language,
    ).send()


def send_to_user(
    *,
    template: str,
    user: Addressee,
    context: dict[str, Any],
    purpose: str = "",
    sensitive: bool = False,
    attachments: Iterable[Attachment] = (),
) -> None:
    send_templated_email(
        template=template,
        to=[user.email],
        context={"user": user, **context},
        language=user.language,
        purpose=purpose,
        sensitive=sensitive,
        attachments=attachments,
    )
