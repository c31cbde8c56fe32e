"""An edition as an email and as a page: its Markdown made into safe HTML and plain text, with
the upcoming events added at the end.

Each language is rendered once per batch (``RenderedEdition``); what differs per subscriber
(the links to their preferences and to unsubscribe) is put in afterwards, in place of markers,
so that five hundred emails cost two renders.
"""

import datetime
from dataclasses import dataclass
from email.utils import parseaddr

import markdown
import nh3
from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from core.emails import MARKER, absolute_url
from events.models import Event, EventStatus

from . import tokens
from .models import Edition

UPCOMING_EVENTS = 5

# What the staff's Markdown may become: text structure and links, nothing that runs or styles.
ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "blockquote",
    "code",
    "pre",
    "br",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}

PERSONAL = ("unsubscribe_url", "preferences_url")


def markdown_to_html(text: str) -> SafeString:
    """The Markdown as HTML, with only ``ALLOWED_TAGS`` kept (a pasted script or style is
    dropped, a javascript: link loses its address)."""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitized by nh3 just above


def upcoming_events(now: datetime.datetime | None = None) -> list[Event]:
    now = now or timezone.now()
    return list(
        Event.objects.listed()
        .upcoming(now)
        .filter(status=EventStatus.PUBLISHED)
        .order_by("starts_at", "pk")[:UPCOMING_EVENTS]
    )


# Stands for a subscriber's token while their links are reversed once per language: URL-safe,
# so reverse() leaves it as it is.
_TOKEN = "--token--"  # noqa: S105 - a placeholder, not a secret


@dataclass(frozen=True)
class Links:
    """Where one language's personal links go: each URL cut where the subscriber's token goes,
    and the domain of the unsubscribe mailbox (reversed and parsed once a batch, not twice
    for each of its five hundred subscribers)."""

    unsubscribe: tuple[str, str]
    preferences: tuple[str, str]
    domain: str

    def personal(self, token: str) -> dict[str, str]:
        (before, after), (pre, post) = self.unsubscribe, self.preferences
        return {
            "token": token,
            "unsubscribe_url": before + token + after,
            "preferences_url": pre + token + post,
            "unsubscribe_address": f"{UNSUBSCRIBE_MAILBOX}+{token}@{self.domain}",
        }


def links_in(language: str) -> Links:
    def cut(name: str) -> tuple[str, str]:
        before, _token, after = absolute_url(reverse(name, args=[_TOKEN])).partition(_TOKEN)
        return before, after

    with translation.override(language):
        return Links(
            unsubscribe=cut("newsletter:unsubscribe"),
            preferences=cut("newsletter:preferences"),
            domain=mail_domain(),
        )


@dataclass(frozen=True)
class Version:
    """One language's email: subject, plain text and HTML, with markers for the links."""

    language: str
    subject: str
    text: str
    html: str
    links: Links

    def personal(self, *, subscriber_id: int, email: str) -> tuple[str, str, dict[str, str]]:
        """(text, HTML, headers) for one subscriber."""
        token = tokens.make_token(tokens.MANAGE, pk=subscriber_id, email=email)
        links = self.links.personal(token)
        text, html = self.text, self.html
        for name in PERSONAL:
            text = text.replace(MARKER.format(name), links[name])
            html = html.replace(MARKER.format(name), links[name])
        return text, html, unsubscribe_headers(links, domain=self.links.domain)


# The local part of the mailto: in every edition's List-Unsubscribe, before "+<token>":
# newsletter.inbound reads mail sent there.
UNSUBSCRIBE_MAILBOX = "unsubscribe"


def mail_domain() -> str:
    """The domain of the portal's mailboxes (the unsubscribe one, the List-Id)."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "cipc-icpc.org"


def unsubscribe_headers(links: dict[str, str], *, domain: str) -> dict[str, str]:
    """RFC 2369's List-Unsubscribe with an HTTPS link and a mailto:, and RFC 8058's one-click.
    The mailto: goes to ``unsubscribe+<token>@<our domain>``, a mailbox newsletter.inbound
    reads."""
    return {
        "List-Unsubscribe": (
            f"<{links['unsubscribe_url']}>, <mailto:{links['unsubscribe_address']}>"
        ),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"ICPC newsletter <newsletter.{domain}>",
    }


def render_version(
    edition: Edition, language: str, *, events: list[Event] | None = None
) -> Version:
    subject, body = edition.version(language)
    events = upcoming_events() if events is None else events
    markers = {name: MARKER.format(name) for name in PERSONAL}
    with translation.override(language):
        context = {
            "edition": edition,
            "subject": subject,
            "language": language,
            "body_html": markdown_to_html(body),
            "body_text": body.strip(),
            "events": [
                {
                    "title": event.title,
                    "starts_at": event.starts_at,
                    "zone": event.zone,
                    "url": absolute_url(event.get_absolute_url()),
                    "place": event.city or "",
                    "online": event.online,
                }
                for event in events
            ],
            "archive_url": absolute_url(reverse("newsletter:edition", args=[edition.pk])),
            "site_url": settings.SITE_URL,
            **markers,
        }
        # Plain text: what staff typed goes out as typed, not HTML-escaped.
        text = get_template("newsletter/email/edition.txt").template.render(  # type: ignore[attr-defined]
            Context(context, autoescape=False)
        )
        html = render_to_string("newsletter/email/edition.html", context)
    return Version(
        language=language,
        subject=settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        text=text,
        html=html,
        links=links_in(language),
    )


class RenderedEdition:
    """An edition's versions, each rendered the first time a subscriber needs it."""

    def __init__(self, edition: Edition) -> None:
        self.edition = edition
        self.events = upcoming_events()
        self._versions: dict[str, Version] = {}

    def version(self, language: str) -> Version:
        if language not in self._versions:
            self._versions[language] = render_version(self.edition, language, events=self.events)
        return self._versions[language]
