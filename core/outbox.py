"""The email outbox's services: write a row with the change, send it after the commit, once.

- ``enqueue`` writes one row per recipient in the caller's transaction and, once it commits,
  queues ``core.deliver_email`` (in-process when there is no broker). A purpose already queued
  for that recipient is not queued again.
- ``write_many`` writes many rows with one insert (from arrays, on PostgreSQL) and queues
  nothing, for a job that sends them itself with ``deliver_many`` (one claimed row after
  another over one reused connection); ``enqueue_many`` writes them so and queues one sweep
  for as many rows after the commit.
- ``deliver`` claims the row with a conditional update (pending and due -> sending), so of two
  deliveries of the same row only one sends; it marks it sent, or puts it back to pending with
  an exponential back-off, or failed after ``OUTBOX_MAX_ATTEMPTS``.
- ``sweep`` (beat, every minute) sends what is still pending and due (the broker or the mail
  server was down), and returns rows claimed by a worker that died to pending once their lease
  (``OUTBOX_CLAIM_LEASE``, longer than the task time limit) has passed.
- ``purge`` (beat, daily) deletes sent and failed rows older than ``OUTBOX_RETENTION_DAYS``.
- ``resend`` puts failed rows back to pending and queues them (the admin's "Send again").

Call ``deliver`` and ``sweep`` outside a transaction (as tasks are): a claim must be committed
to be seen by other workers.
"""

import base64
import contextlib
import datetime
import functools
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.utils import parseaddr
from typing import Any, NamedTuple

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Lower, Now
from django.utils import timezone

from .mime import envelope_sender, smtp_bytes
from .models import RESENDABLE, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A sweep stops claiming rows after this long, well within the task's soft time limit; what is
# left waits for the next sweep.
SWEEP_BUDGET_SECONDS = 180
MESSAGE_ID_DOMAIN = "portal.cipc-icpc.org"

# The task that sends a row after the commit (core.tasks, registered by core's AppConfig).
DELIVER_TASK = "core.deliver_email"

# (filename, content, mimetype), as Django's EmailMessage.attachments holds them.
Attachment = tuple[str, str | bytes, str]


def _message_id(from_email: str) -> str:
    # make_msgid's own random part comes from a generator whose next values can be worked
    # out from past ones; the newsletter's bounce reports are believed on the Message-ID they
    # return (newsletter.inbound), so each carries unguessable digits too.
    return make_msgid(idstring=secrets.token_hex(8), domain=_sender_domain(from_email))


@functools.lru_cache(maxsize=16)
def _sender_domain(from_email: str) -> str:
    # Parsing an address is slow next to the rest: a batch job has one sender.
    return parseaddr(from_email)[1].rpartition("@")[2] or MESSAGE_ID_DOMAIN


def _stored_attachment(filename: str, content: str | bytes, mimetype: str) -> dict[str, str]:
    data = content.encode() if isinstance(content, str) else content
    return {
        "filename": filename,
        "mimetype": mimetype or "application/octet-stream",
        "content": base64.b64encode(data).decode("ascii"),
    }


def _queue_delivery(message_id: int) -> Callable[[], None]:
    """A named callable (Django logs a failed after-commit hook by its __qualname__)."""

    def deliver_email_after_commit() -> None:
        # Through the task: queued for a worker, or run right here when there is no broker.
        current_app.tasks[DELIVER_TASK].delay(message_id)

    return deliver_email_after_commit


def enqueue(
    *,
    to: str,
    subject: str,
    body: str,
    from_email: str | None = None,
    html_body: str = "",
    reply_to: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
    attachments: Iterable[Attachment] = (),
    language: str = "",
    purpose: str = "",
    sensitive: bool = False,
) -> OutboxMessage | None:
    """Write the email to ``to`` in the current transaction; send it once that commits.

    Returns None, and writes nothing, when ``purpose`` was already queued for this recipient
    (the database's unique constraint decides, so two jobs racing cannot both queue it). The
    insert runs in a savepoint: a duplicate never breaks the caller's transaction.
    """
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    stored_headers = {str(name): str(value) for name, value in (headers or {}).items()}
    if not any(name.lower() == "message-id" for name in stored_headers):
        stored_headers["Message-ID"] = _message_id(from_email)
    row = OutboxMessage(
        to=to,
        language=language,
        subject=subject[: OutboxMessage._meta.get_field("subject").max_length],
        body=body,
        html_body=html_body,
        from_email=from_email,
        reply_to=list(reply_to),
        headers=stored_headers,
        attachments=[_stored_attachment(*attachment) for attachment in attachments],
        purpose=purpose,
        sensitive=sensitive,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        if purpose and already_queued(purpose=purpose, to=to):
            return None
        raise
    transaction.on_commit(_queue_delivery(row.pk), robust=True)
    return row


SWEEP_TASK = "core.sweep_outbox"


def _queue_sweep(rows: int) -> Callable[[], None]:
    """A named callable (Django logs a failed after-commit hook by its __qualname__)."""

    def sweep_outbox_after_commit() -> None:
        # Through the task: queued for a worker, or run right here when there is no broker.
        current_app.tasks[SWEEP_TASK].delay(rows)

    return sweep_outbox_after_commit


class Draft(NamedTuple):
    """An email to one recipient, for ``enqueue_many`` and ``write_many``: plain text, with
    an HTML alternative and extra headers if given."""

    to: str
    language: str
    subject: str
    body: str
    purpose: str
    sensitive: bool = False
    from_email: str = ""
    html_body: str = ""
    headers: Mapping[str, str] | None = None


_MANY_COLUMNS = (
    "to",
    "language",
    "subject",
    "body",
    "html_body",
    "from_email",
    "reply_to",
    "headers",
    "attachments",
    "purpose",
    "sensitive",
    "status",
    "attempts",
    "last_error",
)
_MANY_CHUNK = 500  # 14 parameters a row: well under SQLite's limit of 32,766 a statement


def enqueue_many(drafts: Iterable[Draft]) -> int:
    """Write many emails in the current transaction, as ``write_many`` does, and queue one outbox
    sweep, after the commit, for that many rows, rather than one delivery task each: they all
    go out soon after the commit, whatever the size of the caller's batches (a sweep otherwise
    takes ``OUTBOX_SWEEP_BATCH``). For the batch jobs (the yearly renewal). Returns how many
    rows were offered.
    """
    drafts = list(drafts)
    if not drafts:
        return 0
    _insert_many(drafts, returning=False)
    transaction.on_commit(_queue_sweep(max(len(drafts), settings.OUTBOX_SWEEP_BATCH)), robust=True)
    return len(drafts)


def write_many(drafts: Iterable[Draft]) -> dict[str, int]:
    """Write many emails in the current transaction and queue nothing: the caller sends them
    (``deliver_many``), or the sweep does. Returns ``{purpose: id}`` of the rows written; a
    row whose purpose was already queued for its recipient is skipped (the unique constraint
    decides, as for ``enqueue``) and left out."""
    return _insert_many(list(drafts), returning=True)


def _insert_many(drafts: list[Draft], *, returning: bool) -> dict[str, int]:
    """The one batch insert behind ``enqueue_many`` and ``write_many``, where a row each
    through the ORM would cost more than the job's own work: ``INSERT ... ON CONFLICT DO
    NOTHING`` from arrays on PostgreSQL, from multi-row VALUES lists elsewhere (SQLite), one
    per sender (a batch has one). With ``returning``, ``{purpose: id}`` of the rows written
    (``enqueue_many`` needs no ids, and fetching 100,000 back would only slow the renewal)."""
    by_sender: dict[str, list[Draft]] = {}
    for draft in drafts:
        by_sender.setdefault(draft.from_email or settings.DEFAULT_FROM_EMAIL, []).append(draft)
    quote = connection.ops.quote_name
    insert = (
        f"INSERT INTO {quote(OutboxMessage._meta.db_table)} "
        f"({', '.join(quote(name) for name in _MANY_COLUMNS)})"
    )
    insert_group = _insert_as_arrays if connection.vendor == "postgresql" else _insert_as_values
    written: dict[str, int] = {}
    with connection.cursor() as cursor:
        for sender, group in by_sender.items():
            written.update(
                (purpose, pk)
                for pk, purpose in insert_group(cursor, insert, sender, group, returning)
            )
    return written


def _on_conflict(returning: bool) -> str:
    quote = connection.ops.quote_name
    suffix = " ON CONFLICT DO NOTHING"
    return suffix + f" RETURNING {quote('id')}, {quote('purpose')}" if returning else suffix


def _subject(draft: Draft) -> str:
    return draft.subject[: OutboxMessage._meta.get_field("subject").max_length]


def _headers(draft: Draft) -> dict[str, str]:
    """The draft's own headers as text ({} for most batch emails)."""
    return {str(name): str(value) for name, value in (draft.headers or {}).items()}


def _has_message_id(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "message-id" for name in headers)


# PostgreSQL: what differs from row to row, each column one array; the rest is written here.
# A row without a Message-ID of its own gets the statement's (as _message_id makes it: time,
# process, random bits) numbered by the row's place, as unique, and random digits of its own
# (PostgreSQL's strong generator): one recipient's copy tells nothing of another's
# (newsletter.inbound believes a bounce report on the Message-ID it returns).
_MANY_FROM_ARRAYS = """
    SELECT d.recipient, d.language, d.subject, d.body, d.html_body, %(sender)s, '[]',
           d.headers::jsonb || CASE WHEN d.own_id THEN '{}'::jsonb ELSE jsonb_build_object(
               'Message-ID', '<' || %(stem)s || '.' || d.n || '.'
                   || replace(gen_random_uuid()::text, '-', '') || '@' || %(domain)s || '>'
           ) END,
           '[]', d.purpose, d.sensitive, %(status)s, 0, ''
    FROM unnest(%(to)s::text[], %(language)s::text[], %(subject)s::text[], %(body)s::text[],
                %(html_body)s::text[], %(headers)s::text[], %(own_id)s::boolean[],
                %(purpose)s::text[], %(sensitive)s::boolean[]) WITH ORDINALITY
         AS d(recipient, language, subject, body, html_body, headers, own_id, purpose,
              sensitive, n)
"""


def _insert_as_arrays(
    cursor: Any, insert: str, sender: str, drafts: list[Draft], returning: bool
) -> list[tuple[int, str]]:
    """PostgreSQL: one statement, each column passed as one array literal ('{"a","b"}'). The
    server reads these in a fraction of the time it takes to parse a VALUES list of fourteen
    parameters a row (the renewal's 100,000 emails: about 2 s rather than 5 s). Returns the
    (id, purpose) of the rows written if ``returning``."""
    stem, domain = _message_id(sender)[1:-1].rsplit("@", 1)
    headers = [_headers(draft) for draft in drafts]
    cursor.execute(
        insert + _MANY_FROM_ARRAYS + _on_conflict(returning),
        {
            "sender": sender,
            "stem": stem,
            "domain": domain,
            "status": OutboxStatus.PENDING,
            "to": _text_array([draft.to for draft in drafts]),
            "language": _text_array([draft.language for draft in drafts]),
            "subject": _text_array([_subject(draft) for draft in drafts]),
            "body": _text_array([draft.body for draft in drafts]),
            "html_body": _text_array([draft.html_body for draft in drafts]),
            "headers": _text_array([json.dumps(each) if each else "{}" for each in headers]),
            "own_id": _bool_array([_has_message_id(each) for each in headers]),
            "purpose": _text_array([draft.purpose for draft in drafts]),
            "sensitive": _bool_array([draft.sensitive for draft in drafts]),
        },
    )
    return cursor.fetchall() if returning else []


def _bool_array(values: list[bool]) -> str:
    return "{" + ",".join("t" if value else "f" for value in values) + "}"


def _text_array(values: list[str]) -> str:
    """PostgreSQL's literal of a text array: each element in double quotes, its backslashes
    and double quotes escaped (the array input syntax). No element is NULL, nor holds a NUL
    (no PostgreSQL text may)."""
    if not values:
        return "{}"
    joined = '","'.join(values)
    if "\0" in joined:
        raise ValueError("A text for PostgreSQL holds a NUL character.")
    # Checked on the whole column at once: most texts need no escape.
    if "\\" in joined or joined.count('"') != 2 * (len(values) - 1):
        joined = '","'.join(v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + joined + '"}'


def _insert_as_values(
    cursor: Any, insert: str, sender: str, drafts: list[Draft], returning: bool
) -> list[tuple[int, str]]:
    """Elsewhere (SQLite): multi-row VALUES lists, ``_MANY_CHUNK`` rows a statement. Returns
    the (id, purpose) of the rows written if ``returning``."""
    rows = []
    for draft in drafts:
        headers = _headers(draft)
        if not _has_message_id(headers):
            headers["Message-ID"] = _message_id(sender)
        rows.append(
            (draft.to, draft.language, _subject(draft), draft.body, draft.html_body, sender)
            + ("[]", json.dumps(headers), "[]", draft.purpose, draft.sensitive)
            + (OutboxStatus.PENDING, 0, "")
        )
    one_row = "(" + ", ".join(["%s"] * len(_MANY_COLUMNS)) + ")"
    written = []
    for start in range(0, len(rows), _MANY_CHUNK):
        chunk = rows[start : start + _MANY_CHUNK]
        cursor.execute(
            f"{insert} VALUES {', '.join([one_row] * len(chunk))}{_on_conflict(returning)}",
            [value for row in chunk for value in row],
        )
        if returning:
            written += cursor.fetchall()
    return written


def already_queued(*, purpose: str, to: str) -> bool:
    return (
        OutboxMessage.objects.annotate(to_lower=Lower("to"))
        .filter(purpose=purpose, to_lower=to.lower())
        .exists()
    )


def as_email(message: OutboxMessage) -> EmailMultiAlternatives:
    """The row as Django's email, the same on every attempt (the Message-ID included)."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=[message.to],
        reply_to=list(message.reply_to),
        headers=dict(message.headers),
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    for item in message.attachments:
        email.attach(item["filename"], base64.b64decode(item["content"]), item["mimetype"])
    return email


def _delivery_connection() -> BaseEmailBackend:
    return get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: doubling, up to a ceiling."""
    seconds = settings.OUTBOX_RETRY_DELAY * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_DELAY))


def _claim(message_id: int, moment: datetime.datetime | BaseExpression) -> OutboxMessage | None:
    """pending and due -> sending, in one conditional update: of two claims, one wins."""
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=moment
    ).update(status=OutboxStatus.SENDING, claimed_at=moment, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OutboxMessage.objects.get(pk=message_id)


def deliver(
    *,
    message_id: int,
    now: datetime.datetime | None = None,
    connection: BaseEmailBackend | None = None,
) -> bool:
    """Send the row if it is pending and due, and no one else has claimed it. True if sent.

    ``now`` defaults to the database's clock. ``connection`` is a delivery backend to reuse
    (the sweep's); by default ``EMAIL_DELIVERY_BACKEND``.
    """
    moment: datetime.datetime | BaseExpression = now if now is not None else Now()
    message = _claim(message_id, moment)
    if message is None:
        return False
    backend = connection or _delivery_connection()
    try:
        # Opened here, so that the backend does not close it (SMTP's QUIT) before the row is
        # marked: nothing that can fail stands between the server's acceptance and the mark.
        _send(backend, message)
    except Exception as error:  # noqa: BLE001 - any failure is recorded on the row and retried
        _close_quietly(backend)  # a shared connection may be broken: the next send reopens it
        _record_failure(message, error)
        return False
    _mark_sent([message], moment)
    if connection is None:
        _close_quietly(backend)
    return True


def _send(backend: BaseEmailBackend, message: OutboxMessage) -> None:
    """Hand the row to the mail server; raises if it is not accepted.

    The backend is opened here, so that it does not close the connection (SMTP's QUIT) before
    the row is marked: nothing that can fail stands between the server's acceptance and the
    mark. Through Django's SMTP backend (not a subclass of it, which may send otherwise), the
    bytes are written by ``core.mime`` when it covers the row: the same bytes as Django's,
    for a fraction of the cost.
    """
    data = smtp_bytes(message) if type(backend) is SMTPBackend else None
    backend.open()
    if data is None:
        if not backend.send_messages([as_email(message)]):
            raise RuntimeError("The mail server accepted nothing.")
        return
    assert isinstance(backend, SMTPBackend)
    if backend.connection is None:
        raise RuntimeError("The mail server could not be reached.")
    backend.connection.sendmail(envelope_sender(message.from_email), [message.to], data)


def _close_quietly(backend: BaseEmailBackend) -> None:
    try:
        backend.close()
    except Exception as error:  # noqa: BLE001 - the message is already sent or recorded
        log.warning("Closing the mail connection failed: %s", error)


def _record_failure(message: OutboxMessage, error: BaseException) -> None:
    """Back to pending after a delay that doubles with each attempt; failed after the last."""
    assert message.claimed_at is not None
    give_up = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    log.warning(
        "Email %s to %s: attempt %s failed: %s", message.pk, message.to, message.attempts, error
    )
    # Only while this claim still holds (each claim counts one attempt): a row the sweep has
    # since handed to another worker is theirs.
    OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, attempts=message.attempts
    ).update(
        status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
        next_attempt_at=message.claimed_at + retry_delay(message.attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def release_expired_claims(*, now: datetime.datetime | None = None) -> int:
    """Rows claimed longer ago than the lease: their worker died (a live one would have been
    stopped by the task time limit already). Back to pending, or failed after the last attempt.
    """
    now = now or timezone.now()
    expired = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING,
        claimed_at__lt=now - datetime.timedelta(seconds=settings.OUTBOX_CLAIM_LEASE),
    )
    error = "The worker stopped before it reported the result of the attempt."
    failed = expired.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=OutboxStatus.FAILED, last_error=error
    )
    released = expired.update(status=OutboxStatus.PENDING, next_attempt_at=now, last_error=error)
    return failed + released


def sweep(*, now: datetime.datetime | None = None, rows: int | None = None) -> int:
    """Send the pending rows that are due, through one connection. Returns how many were sent.

    ``rows``: how many at most (``OUTBOX_SWEEP_BATCH`` by default; a batch job that has just
    written more asks for its number). Either way the sweep stops after SWEEP_BUDGET_SECONDS.
    Safe to run twice at once and beside the delivery tasks: every row is claimed before it is
    sent. A large backlog is worked through over several sweeps.
    """
    release_expired_claims(now=now)
    due = (
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now or Now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: rows or settings.OUTBOX_SWEEP_BATCH]
    )
    ids = list(due)
    if not ids:
        return 0
    outcome = deliver_many(ids, now=now, budget=SWEEP_BUDGET_SECONDS)
    return sum(outcome.values())


# ``deliver_many`` claims this many rows at a time, in one transaction, instead of one each.
CHUNK = 25


def _claim_chunk(ids: list[int], moment: datetime.datetime | BaseExpression) -> list[OutboxMessage]:
    """The rows of ``ids`` that are pending and due, claimed (-> sending) in one transaction.

    PostgreSQL skips the rows another worker has locked; the update is conditional all the
    same (pending and due), so a row claimed by anyone else is never taken: the rows returned
    are those this claim moved, recognised by its own time stamp.
    """
    stamp = timezone.now()
    if connection.vendor == "postgresql":
        return _claim_chunk_returning(ids, moment, stamp)
    with transaction.atomic():
        free = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status=OutboxStatus.PENDING, next_attempt_at__lte=moment)
            .values_list("pk", flat=True)
        )
        if not free:
            return []
        claimed = OutboxMessage.objects.filter(
            pk__in=free, status=OutboxStatus.PENDING, next_attempt_at__lte=moment
        ).update(status=OutboxStatus.SENDING, claimed_at=stamp, attempts=F("attempts") + 1)
        if not claimed:
            return []
        mine = {
            message.pk: message
            for message in OutboxMessage.objects.filter(
                pk__in=free, status=OutboxStatus.SENDING, claimed_at=stamp
            )
        }
    return [mine[pk] for pk in ids if pk in mine]


# PostgreSQL: the claim in one statement, which returns the rows it moved. The rows are
# locked by id alone (MATERIALIZED keeps the status out of that query), then checked: with the
# status in the locking query, the planner reads every pending row through the status index
# whenever its statistics predate the batch's insert (it then believes few rows pending), and
# each chunk's claim costs a batch's reads, and the dead index entries of the batch's claims.
_CLAIM_RETURNING = """
    WITH locked AS MATERIALIZED (
        SELECT id, status, next_attempt_at FROM {table} WHERE id = ANY(%(ids)s)
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {table} SET status = %(sending)s, claimed_at = %(stamp)s, attempts = attempts + 1
    FROM locked
    WHERE {table}.id = locked.id AND locked.status = %(pending)s
      AND locked.next_attempt_at <= COALESCE(%(now)s, STATEMENT_TIMESTAMP())
    RETURNING {table}.*
"""


def _claim_chunk_returning(
    ids: list[int], moment: datetime.datetime | BaseExpression, stamp: datetime.datetime
) -> list[OutboxMessage]:
    """``_claim_chunk`` on PostgreSQL: one ``UPDATE ... RETURNING`` rather than a transaction
    of three statements. The rows another worker has locked are skipped, and the update is
    conditional all the same (pending and due): the rows returned are those it moved."""
    sql = _CLAIM_RETURNING.format(table=connection.ops.quote_name(OutboxMessage._meta.db_table))
    mine = {
        message.pk: message
        for message in OutboxMessage.objects.raw(
            sql,
            {
                "sending": OutboxStatus.SENDING,
                "pending": OutboxStatus.PENDING,
                "stamp": stamp,
                "now": moment if isinstance(moment, datetime.datetime) else None,
                "ids": ids,
            },
        )
    }
    return [mine[pk] for pk in ids if pk in mine]


def _mark_sent(messages: list[OutboxMessage], moment: datetime.datetime | BaseExpression) -> None:
    """These rows sent: one update (two if only some are sensitive)."""
    for sensitive in (True, False):
        ids = [message.pk for message in messages if message.sensitive is sensitive]
        if not ids:
            continue
        erased: dict[str, Any] = (
            # A sign-in, reset or invitation link stays in the database no longer than needed.
            {"body": "", "html_body": "", "attachments": []} if sensitive else {}
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.SENT, sent_at=moment, last_error="", **erased
        )


# ``deliver_many`` marks the rows the server accepted together: as soon as they have taken
# this long (seconds) to send, counted from when the first of them began, and at the end of
# each chunk. A worker that dies leaves unmarked at most a chunk's messages, all begun within
# this time before it died; with a server slower than this, each row is marked as soon as it
# is accepted, before the next message is sent.
MARK_WITHIN = 0.05


@contextlib.contextmanager
def _quick_commits() -> Iterator[None]:
    """While it lasts, this connection's commits need not wait for PostgreSQL's disk flush.

    A commit is seen at once by every other connection and survives a worker that dies; only
    a crash of the database server itself within a fraction of a second could lose it. For
    the claims and marks of bulk deliveries, where losing one would at worst send one message
    again, and waiting for the disk on each would cost more than sending it.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def deliver_many(
    ids: Iterable[int],
    *,
    now: datetime.datetime | None = None,
    budget: float | None = None,
    connection: BaseEmailBackend | None = None,
) -> dict[int, bool]:
    """Send these rows over one connection, opened once and reused (reopened after a failure).

    They are claimed ``CHUNK`` at a time (pending and due -> sending, in one transaction that
    skips rows another worker holds), then each is sent, and the rows the server accepted are
    marked sent together: once they have taken ``MARK_WITHIN`` seconds to send (with a slow
    server, each as soon as it is accepted), and at the end of the chunk. A worker that dies
    leaves at most those, a chunk at most, sent and unmarked: they are sent again once their
    claim lease has run out; its claimed rows not yet tried wait for the lease too, then the
    sweep. A row that fails is recorded at once.
    ``{id: sent}`` for each row tried; a row another worker holds, or already sent, is tried
    and not sent. With a ``budget`` in seconds it stops claiming when that has run out (the
    rest stays pending). Call it outside a transaction, as ``deliver``.
    """
    moment: datetime.datetime | BaseExpression = now if now is not None else Now()
    wanted = list(ids)
    outcome: dict[int, bool] = {}
    deadline = time.monotonic() + budget if budget is not None else None
    backend = connection or _delivery_connection()
    try:
        with _quick_commits():
            for start in range(0, len(wanted), CHUNK):
                if deadline is not None and time.monotonic() > deadline:
                    break
                chunk = wanted[start : start + CHUNK]
                outcome.update(dict.fromkeys(chunk, False))
                accepted: list[OutboxMessage] = []
                since = 0.0  # when the first of them began to be sent
                try:
                    for message in _claim_chunk(chunk, moment):
                        if not accepted:
                            since = time.monotonic()
                        try:
                            _send(backend, message)
                        except Exception as error:  # noqa: BLE001 - recorded on the row, retried
                            _close_quietly(backend)  # the connection may be broken: reopen it
                            _record_failure(message, error)
                            continue
                        accepted.append(message)
                        outcome[message.pk] = True
                        if time.monotonic() - since >= MARK_WITHIN:
                            _mark_sent(accepted, moment)
                            accepted = []
                finally:
                    # Whatever stops the chunk: what the server accepted is recorded.
                    if accepted:
                        _mark_sent(accepted, moment)
    finally:
        if connection is None:
            _close_quietly(backend)
    return outcome


def purge(*, now: datetime.datetime | None = None) -> int:
    """Delete sent and failed rows older than ``OUTBOX_RETENTION_DAYS``; pending ones stay."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(
        status__in=[OutboxStatus.SENT, OutboxStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted


def resend(*, ids: Iterable[int]) -> int:
    """Put failed rows back to pending with a fresh count of attempts, and queue them."""
    with transaction.atomic():
        chosen = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=list(ids), status__in=RESENDABLE)
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=chosen).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=Now()
        )
        for message_id in chosen:
            transaction.on_commit(_queue_delivery(message_id), robust=True)
    return len(chosen)
