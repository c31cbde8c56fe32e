"""Emails written from templates, in the recipient's language.

``templates/<app>/email/<name>_subject.txt`` and ``<name>_body.txt`` make one message. It is
written to the outbox in the surrounding transaction and sent once that commits (core.mail,
core.outbox). ``purpose`` names what it is about, unique per recipient: a second email with the
same purpose to the same person is not queued ("board-reminder:<ballot>:<director>").
``sensitive`` says the body carries a sign-in, reset or invitation link: staff never see it.
"""

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from django.conf import settings
from django.core.mail import get_connection
from django.template import Context
from django.template.loader import get_template
from django.utils import translation

from .mail import OutboxEmailBackend, PortalEmail

if TYPE_CHECKING:
    from .outbox import Draft

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


class Recipient(NamedTuple):
    """One person a batch email goes to."""

    email: str
    name: str  # as User.get_full_name() says it, or the address
    language: str


MARKER = "\ue000{}\ue001"  # private-use characters: no template has them, strip() keeps them
MARKERS = re.compile("\ue000([^\ue000\ue001]*)\ue001")


class BulkEmails:
    """One template's emails to many people, for the batch jobs: what ``send_to_user`` does for
    one person, for a whole batch, at a fraction of the cost.

    Each email is in its recipient's language, with its purpose (a purpose already queued for
    that recipient is not queued again, as with ``send_to_user``). The templates are rendered
    once per language and ``shared`` context (dates, links common to all); the values that
    differ per email (``personal``: plain text such as a name, or a link with a token) are
    rendered as markers and put in afterwards, so that five hundred emails cost a few renders.
    A template that transforms a personal value (a filter on it) would leave its marker behind:
    that is refused. ``write`` puts the batch in the outbox with one insert or a few, and
    queues its sweeps after the commit (``core.outbox.enqueue_many``); with any other email
    backend (tests' locmem) the messages go through it as ``send_to_user``'s would.
    """

    def __init__(self, template: str, *, sensitive: bool = False) -> None:
        """``sensitive``: the bodies carry a link that acts for the recipient (see above)."""
        from . import outbox  # models: not at import time

        self.template = template
        self.sensitive = sensitive
        self.drafts: list[Draft] = []
        self._draft = outbox.Draft
        self._rendered: dict[tuple, tuple[_Fillable, _Fillable]] = {}
        self._default_language = settings.LANGUAGE_CODE
        self._subject_prefix = settings.EMAIL_SUBJECT_PREFIX

    def add(
        self,
        *,
        to: Recipient,
        purpose: str,
        shared: dict[str, Any],
        personal: dict[str, str],
    ) -> None:
        """``personal``: dotted names as the templates read them (``"organisation.name"``)."""
        values = {"user.get_full_name": to.name, "user.email": to.email, **personal}
        language = to.language or self._default_language
        subject, body = self._render(language, shared, values)
        filled_subject = self._subject_prefix + " ".join(subject.fill(values).split())
        filled_body = body.fill(values)
        # Draft(to, language, subject, body, purpose, sensitive), positional: a little faster.
        self.drafts.append(
            self._draft(to.email, language, filled_subject, filled_body, purpose, self.sensitive)
        )

    def _render(
        self, language: str, shared: dict[str, Any], values: dict[str, str]
    ) -> tuple["_Fillable", "_Fillable"]:
        """Subject and body, rendered once per language, shared context and names of personal
        values (a batch has one or two of each)."""
        key = (language, tuple(shared.items()), tuple(values))
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = self._render_once(language, shared, sorted(values))
        return rendered

    def _render_once(
        self, language: str, shared: dict[str, Any], names: list[str]
    ) -> tuple["_Fillable", "_Fillable"]:
        context: dict[str, Any] = {"site_url": settings.SITE_URL, **shared}
        for name in names:
            *path, last = name.split(".")
            place = context
            for part in path:
                place = place.setdefault(part, {})
            place[last] = MARKER.format(name)
        with translation.override(language):
            subject = _render_text(f"{self.template}_subject.txt", context).strip()
            body = _render_text(f"{self.template}_body.txt", context)
        # Split at the markers: literal text at the even places, the names at the odd ones.
        parts = (MARKERS.split(subject), MARKERS.split(body))
        literals = "".join(text for split in parts for text in split[::2])
        if "\ue000" in literals or any(n not in names for p in parts for n in p[1::2]):
            raise ValueError(f"{self.template}: a personal value is changed by the template.")
        return _Fillable(parts[0]), _Fillable(parts[1])

    def write(self) -> None:
        """Queue the batch in the current transaction."""
        if not self.drafts:
            return
        connection = get_connection()
        if isinstance(connection, OutboxEmailBackend):
            from .outbox import enqueue_many  # models: not at import time

            enqueue_many(self.drafts)
        else:
            connection.send_messages(
                [
                    PortalEmail(
                        subject=draft.subject,
                        body=draft.body,
                        to=[draft.to],
                        purpose=draft.purpose,
                        language=draft.language,
                        sensitive=draft.sensitive,
                    )
                    for draft in self.drafts
                ]
            )
        self.drafts = []


class _Fillable:
    """A rendered text split at its markers, to be filled with each email's personal values:
    a format string whose fields are the markers' places (the literal text's braces doubled),
    so that filling it is one ``str.format``."""

    def __init__(self, parts: list[str]) -> None:
        literals = [text.replace("{", "{{").replace("}", "}}") for text in parts[::2]]
        self.format = "{}".join(literals).format
        self.names = parts[1::2]

    def fill(self, values: dict[str, str]) -> str:
        return self.format(*[values[name] for name in self.names])
