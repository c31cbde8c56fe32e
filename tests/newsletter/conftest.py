"""What the newsletter's tests share: links from the emails, and sending an edition through
the outbox in-process."""

import re

import pytest

from newsletter import services, tokens
from newsletter.models import Edition
from tests.factories import StaffFactory, with_totp

LINK = re.compile(r"https?://\S+")


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def manage_token(subscriber) -> str:
    return tokens.make_token(tokens.MANAGE, pk=subscriber.pk, email=subscriber.email)


def send_now(edition: Edition, *, batch_size: int = 500) -> services.SendSummary:
    """Start the edition and send every batch here (the task's work, without a worker)."""
    services.start_sending(edition=edition, queue=False)
    return services.send_edition(edition_id=edition.pk, batch_size=batch_size, budget=None)


@pytest.fixture
def staff_client(client, db):
    staff = with_totp(StaffFactory())
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what waits for the commit (the emails) at the end of the block,
    as the real commit of a request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
