"""The batch jobs' outbox insert: many emails in one statement, each stored exactly as written."""

import pytest

from core import outbox as outbox_service
from core.models import OutboxMessage, OutboxStatus
from core.outbox import Draft

pytestmark = pytest.mark.django_db

AWKWARD = "Back\\slash, \"quotes\", {braces}, commas, NULL, 'apostrophe', %s, Zoë\n\ttabs  "


def test_every_text_is_stored_as_written_whatever_characters_it_holds(outbox):
    drafts = [
        Draft(
            to=f"person{i}@example.org",
            language="fr" if i % 2 else "en",
            subject=f"{AWKWARD} {i}",
            body=f"{AWKWARD}\n{i}\n",
            purpose=f"batch:{AWKWARD}:{i}",
            sensitive=i == 1,
        )
        for i in range(3)
    ] + [Draft(to="empty@example.org", language="", subject="", body="", purpose="batch:empty")]

    assert outbox_service.enqueue_many(drafts) == 4

    stored = {row.to: row for row in OutboxMessage.objects.all()}
    for draft in drafts:
        row = stored[draft.to]
        assert (row.language, row.subject, row.body, row.purpose, row.sensitive) == (
            draft.language,
            draft.subject,
            draft.body,
            draft.purpose,
            draft.sensitive,
        )
        assert (row.status, row.html_body, row.reply_to, row.attachments) == (
            OutboxStatus.PENDING,
            "",
            [],
            [],
        )
        assert row.headers["Message-ID"].startswith("<")
    assert len({row.headers["Message-ID"] for row in stored.values()}) == 4


def test_a_purpose_already_queued_for_the_recipient_is_skipped_and_the_rest_written(outbox):
    outbox_service.enqueue_many(
        [Draft(to="a@example.org", language="en", subject="1", body="1", purpose="p")]
    )

    outbox_service.enqueue_many(
        [
            Draft(to="A@example.org", language="en", subject="2", body="2", purpose="p"),
            Draft(to="b@example.org", language="en", subject="3", body="3", purpose="p"),
        ]
    )

    assert sorted(OutboxMessage.objects.values_list("to", "subject")) == [
        ("a@example.org", "1"),
        ("b@example.org", "3"),
    ]


def test_a_text_with_a_nul_character_is_refused_not_shifted_into_the_next_column(postgres, outbox):
    drafts = [
        Draft(to="a@example.org", language="en", subject="1", body="one\0two", purpose="p1"),
        Draft(to="b@example.org", language="en", subject="2", body="three", purpose="p2"),
    ]

    with pytest.raises(ValueError, match="NUL"):
        outbox_service.enqueue_many(drafts)

    assert not OutboxMessage.objects.exists()


def test_one_sweep_after_the_commit_sends_every_email_of_a_batch_larger_than_a_sweep(
    outbox, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_SWEEP_BATCH = 2
    drafts = [
        Draft(to=f"p{i}@example.org", language="en", subject="S", body="B", purpose=f"b:{i}")
        for i in range(5)
    ]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox_service.enqueue_many(drafts)

    assert len(callbacks) == 1
    assert sorted(message.to[0] for message in outbox) == [d.to for d in drafts]
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()


def test_write_many_stores_html_and_headers_and_returns_the_ids_of_the_rows_written(outbox):
    outbox_service.write_many(
        [Draft(to="a@example.org", language="en", subject="0", body="0", purpose="n:a")]
    )
    drafts = [
        Draft(
            to="a@example.org", language="en", subject="1", body="1", purpose="n:a", html_body="x"
        ),
        Draft(
            to="b@example.org",
            language="fr",
            subject="2",
            body=AWKWARD,
            purpose="n:b",
            html_body=f"<p>{AWKWARD}</p>",
            headers={"List-Unsubscribe": f"<https://example.org/u?{AWKWARD}>"},
        ),
        Draft(
            to="c@example.org",
            language="en",
            subject="3",
            body="3",
            purpose="n:c",
            headers={"Message-Id": "<own@example.org>"},
        ),
    ]

    written = outbox_service.write_many(drafts)

    assert set(written) == {"n:b", "n:c"}
    b, c = (
        OutboxMessage.objects.get(pk=written["n:b"]),
        OutboxMessage.objects.get(pk=written["n:c"]),
    )
    assert (b.to, b.body, b.html_body) == ("b@example.org", AWKWARD, f"<p>{AWKWARD}</p>")
    assert b.headers["List-Unsubscribe"] == f"<https://example.org/u?{AWKWARD}>"
    assert b.headers["Message-ID"].startswith("<")
    assert c.headers == {"Message-Id": "<own@example.org>"}
    assert outbox_service.write_many([]) == {}
