"""The newsletter's writes: subscribing (with a confirmation), preferences, unsubscribing,
bounces; composing, scheduling and sending editions.

Exactly one copy each
---------------------
``start_sending`` writes one ``Delivery`` per subscriber of the audience with one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: the unique (edition, subscriber) constraint
makes a second start, or two at once, add nothing. ``send_batch`` claims pending deliveries
with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers take different ones), writes each
one's email to the outbox (purpose ``newsletter:<edition>:<subscriber>``, unique per
recipient) and marks it queued in the same transaction; after the commit it sends those rows
over one reused SMTP connection (``core.outbox.deliver_many``), each claimed by a conditional
update before it is sent, and marked sent with the others the server has just accepted (see
below).

A worker that dies before the batch commits leaves its deliveries pending: the next run claims
them again, and nothing was written. One that dies after the commit leaves queued rows that are
still pending in the outbox: the next batch of any worker, or the outbox's sweep, sends them,
once (they are claimed). The crash window that remains is the messages the SMTP server accepted
whose rows the worker had not yet marked sent when it died. The outbox marks accepted rows
together once they have taken ``core.outbox.MARK_WITHIN`` (0.05 s) to send, and at the end of
each chunk of ``core.outbox.CHUNK`` (25): so at most the messages sent in the 0.05 s before
the one then in flight (a chunk at most), and that one; with a server slower than that, each
row is marked as soon as it is accepted, and the window is the message in flight alone.
Those rows stay "sending" until their claim lease (``OUTBOX_CLAIM_LEASE``) runs out and the
sweep sends them again. The outbox's claims and marks do not wait for PostgreSQL's disk flush
(``core.outbox.deliver_many``): a crash of the database server itself (not of a worker) could
also lose the marks of its last fraction of a second (about three times ``wal_writer_delay``,
0.6 s by default), and those messages would go out twice.

An edition is sent once every copy has been sent or given up on by the outbox; until then its
task goes on, and when what is left only waits on the outbox (a retry not yet due, a claim
another worker holds) it stops and the beat takes the edition over later.
"""

import datetime
import logging
import time
from collections.abc import Callable, Collection, Iterable
from typing import NamedTuple

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.emails import absolute_url, send_templated_email
from core.locking import lock, lock_name
from core.mail import PortalEmail
from core.models import OutboxMessage
from core.outbox import Draft, deliver_many, write_many
from core.pagecache import Generation
from core.status import move_status, record_start
from members.models import Contact, Membership, Representative

from . import tokens
from .models import (
    EDITION_MOVES,
    SUBSCRIBER_MOVES,
    Audience,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    EditionStatusChange,
    Language,
    Subscriber,
    SubscriberSource,
    SubscriberStatus,
    SubscriberStatusChange,
    Topic,
)
from .rendering import RenderedEdition, render_version

log = logging.getLogger(__name__)

# The public archive: an edition sent retires the cached pages.
ARCHIVE_PAGES = Generation("newsletter-archive")

SEND_TASK = "newsletter.send_edition"
SYNC_MEMBERS_TASK = "newsletter.sync_member_subscribers"
BATCH_SIZE = 500
# One task sends for this long, then queues the next (well within the soft time limit).
TASK_BUDGET_SECONDS = 180
# An edition still sending that no worker stamped for this long has lost its worker: the beat
# queues another run (the claims make two at once safe).
STALE_SECONDS = 120


# --- subscribers ----------------------------------------------------------------------------


def move_subscriber(
    subscriber: Subscriber, to: str, *, by: User | None = None, note: str = ""
) -> None:
    """Record a subscriber's move in its history (by the one table of allowed moves); the
    caller saves the row."""
    move_status(
        subscriber,
        to=to,
        transitions=SUBSCRIBER_MOVES,
        history=SubscriberStatusChange,
        by=by,
        note=note,
        subscriber=subscriber,
    )


def _send_confirmation(subscriber: Subscriber) -> None:
    token = tokens.make_token(tokens.CONFIRM, pk=subscriber.pk, email=subscriber.email)
    with translation.override(subscriber.language):
        confirm_url = absolute_url(reverse("newsletter:confirm", args=[token]))
    send_templated_email(
        template="newsletter/email/confirm",
        to=[subscriber.email],
        context={"confirm_url": confirm_url},
        language=subscriber.language,
        # At most one a day: the page cannot be used to flood an address.
        purpose=f"newsletter.confirm:{subscriber.pk}:{timezone.localdate().isoformat()}",
        sensitive=True,
    )


def new_public_subscriber(*, email: str, language: str, note: str) -> Subscriber:
    """A new address from the public page, awaiting its confirmation, with its history begun.
    Sends nothing: ``subscribe`` emails the confirmation."""
    subscriber = Subscriber.objects.create(
        email=email,
        language=language,
        status=SubscriberStatus.PENDING,
        source=SubscriberSource.PUBLIC,
    )
    record_start(
        subscriber,
        transitions=SUBSCRIBER_MOVES,
        history=SubscriberStatusChange,
        note=note,
        subscriber=subscriber,
    )
    return subscriber


def subscribe(*, email: str, language: str, topics: Iterable[Topic] = ()) -> None:
    """The public page: a new or unsubscribed address waits for its confirmation (emailed);
    nothing is sent to it before. An address already subscribed is left as it is (its
    preferences change from the link in every email). Says nothing about which happened: the
    page must not tell a visitor whether an address is on the list."""
    email = email.strip().lower()
    with transaction.atomic():
        lock_name(f"newsletter-subscriber:{email}")
        subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
        if subscriber is None:
            subscriber = new_public_subscriber(email=email, language=language, note="public page")
        elif subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            move_subscriber(subscriber, SubscriberStatus.PENDING, note="public page")
            subscriber.language = language
            subscriber.save(update_fields=["status", "language"])
        elif subscriber.status == SubscriberStatus.PENDING:
            subscriber.language = language
            subscriber.save(update_fields=["language"])
        else:
            return
        subscriber.topics.set(list(topics))
        _send_confirmation(subscriber)


def confirm_subscription(*, subscriber: Subscriber) -> bool:
    """Pending -> subscribed. True if it was confirmed now (or already was)."""
    with transaction.atomic():
        subscriber = lock(subscriber)
        if subscriber.status == SubscriberStatus.SUBSCRIBED:
            return True
        if subscriber.status != SubscriberStatus.PENDING:
            return False
        move_subscriber(subscriber, SubscriberStatus.SUBSCRIBED, note="confirmed from the email")
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["status", "confirmed_at"])
    return True


def update_preferences(*, subscriber: Subscriber, language: str, topics: Iterable[Topic]) -> None:
    with transaction.atomic():
        subscriber = lock(subscriber)
        subscriber.language = language
        subscriber.save(update_fields=["language"])
        subscriber.topics.set(list(topics))


def unsubscribe(*, subscriber: Subscriber, note: str = "", by: User | None = None) -> bool:
    """At once; again is harmless (False: they already were). Deliveries not yet written to the
    outbox are skipped."""
    with transaction.atomic():
        subscriber = lock(subscriber)
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            return False
        move_subscriber(subscriber, SubscriberStatus.UNSUBSCRIBED, by=by, note=note)
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["status", "unsubscribed_at"])
    return True


def mark_bouncing(*, subscribers: Iterable[Subscriber], by: User | None, note: str = "") -> int:
    """Staff, or the mail server's bounce reports (newsletter.inbound): no more editions to
    these addresses. Returns how many were marked."""
    marked = 0
    with transaction.atomic():
        for subscriber in subscribers:
            subscriber = lock(subscriber)
            if not SUBSCRIBER_MOVES.allows(subscriber.status, SubscriberStatus.BOUNCING):
                continue
            move_subscriber(
                subscriber, SubscriberStatus.BOUNCING, by=by, note=note or "marked by staff"
            )
            subscriber.save(update_fields=["status"])
            marked += 1
    return marked


def member_people(on: datetime.date):
    """The accounts that belong to members in good standing on ``on``: current
    representatives and contacts of member organisations, and honorary members in person."""
    standing = Membership.objects.in_good_standing(on)
    organisations = standing.filter(organisation__isnull=False).values("organisation")
    return User.objects.filter(is_active=True).filter(
        Q(
            pk__in=Representative.objects.current()
            .filter(organisation__in=organisations)
            .values("user")
        )
        | Q(pk__in=Contact.objects.current().filter(organisation__in=organisations).values("user"))
        | Q(pk__in=standing.filter(person__isnull=False).values("person"))
    )


def sync_member_subscribers(
    *, on: datetime.date | None = None, people: Collection[int] | None = None
) -> int:
    """Subscribe the members' representatives and contacts who have no subscriber row yet, in
    their account's language, with one ``INSERT ... SELECT``. An address already known (one who
    unsubscribed, bounces, or subscribed on the public page) is left alone. Idempotent; run for
    ``people`` (account ids) as soon as the members app announces them (``subscribe_joined``),
    and for everyone by the beat daily, before each edition is sent, and by seed_demo. Returns
    how many were added.

    This is how members join the newsletter: the members app does not know the newsletter.
    """
    on = on or timezone.localdate()
    members = member_people(on)
    if people is not None:
        members = members.filter(pk__in=list(people))
    member_ids = members.values_list("pk", flat=True).order_by()
    sql, params = member_ids.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Subscriber._meta.db_table)
    users = quote(User._meta.db_table)
    statement = (
        f"INSERT INTO {table} (email, language, user_id, status, source, created_at, confirmed_at) "  # noqa: S608 - names quoted, values parameters
        f"SELECT LOWER(u.email), CASE WHEN u.language = %s THEN %s ELSE %s END, u.id, %s, %s, "
        f"%s, %s FROM {users} u WHERE u.id IN ({sql}) "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            statement,
            [
                Language.FRENCH,
                Language.FRENCH,
                Language.ENGLISH,
                SubscriberStatus.SUBSCRIBED,
                SubscriberSource.MEMBER,
                now,
                now,
                *params,
            ],
        )
        added = [row[0] for row in cursor.fetchall()]
        SubscriberStatusChange.objects.bulk_create(
            SubscriberStatusChange(
                subscriber_id=pk,
                from_status="",
                to_status=SubscriberStatus.SUBSCRIBED,
                at=now,
                note="member's representative or contact",
            )
            for pk in added
        )
    return len(added)


def subscribe_joined(*, people: list[int], **kwargs: object) -> None:
    """The members app's ``member_people_joined`` (sent after its commit): queue their
    subscription at once, rather than wait for the next daily sync. The receiver changes
    nothing itself: the task runs ``sync_member_subscribers`` for them. Connected in
    NewsletterConfig.ready."""
    current_app.tasks[SYNC_MEMBERS_TASK].delay(people=people)


# --- editions -------------------------------------------------------------------------------


def readiness_problems(edition: Edition) -> list[str]:
    """Why the edition cannot be sent as it is (empty: it can)."""
    problems = []
    if not edition.subject_en.strip() or not edition.body_en.strip():
        problems.append(_("The English subject and text are required."))
    if not edition.has_french and not edition.english_for_french:
        problems.append(
            _(
                "The French subject and text are missing. Write them, or tick “send the English "
                "text to French subscribers”."
            )
        )
    if edition.audience == Audience.TOPIC and edition.topic_id is None:
        problems.append(_("Choose the topic whose subscribers receive it."))
    return problems


def check_ready(edition: Edition) -> None:
    problems = readiness_problems(edition)
    if problems:
        raise ValidationError(problems, code="not_ready")


def move_edition(edition: Edition, to: str, *, by: User | None, note: str = "") -> None:
    """Record an edition's move in its history (by the one table of allowed moves); the caller
    saves the row."""
    move_status(
        edition,
        to=to,
        transitions=EDITION_MOVES,
        history=EditionStatusChange,
        by=by,
        note=note,
        edition=edition,
    )


def create_edition(*, edition: Edition, by: User | None) -> Edition:
    with transaction.atomic():
        edition.status = EditionStatus.DRAFT
        edition.created_by = by
        edition.save()
        record_start(
            edition, transitions=EDITION_MOVES, history=EditionStatusChange, by=by, edition=edition
        )
    return edition


def schedule_edition(*, edition: Edition, at: datetime.datetime, by: User | None) -> Edition:
    with transaction.atomic():
        edition = lock(edition)
        check_ready(edition)
        move_edition(edition, EditionStatus.SCHEDULED, by=by, note=at.isoformat())
        edition.scheduled_at = at
        edition.save(update_fields=["status", "scheduled_at"])
    return edition


def unschedule_edition(*, edition: Edition, by: User | None) -> Edition:
    with transaction.atomic():
        edition = lock(edition)
        move_edition(edition, EditionStatus.DRAFT, by=by)
        edition.save(update_fields=["status"])
    return edition


def audience_of(edition: Edition, *, on: datetime.date | None = None):
    subscribers = Subscriber.objects.receiving()
    if edition.audience == Audience.MEMBERS:
        people = member_people(on or timezone.localdate())
        # By account, or by address: a representative may have subscribed on the public page
        # before their organisation joined (addresses are kept lower-case on both sides).
        subscribers = subscribers.filter(Q(user__in=people) | Q(email__in=people.values("email")))
    elif edition.audience == Audience.TOPIC:
        subscribers = subscribers.filter(topics=edition.topic_id)
    return subscribers


def _queue_sending(edition_id: int) -> Callable[[], None]:
    def queue_newsletter_sending_after_commit() -> None:
        current_app.tasks[SEND_TASK].delay(edition_id)

    return queue_newsletter_sending_after_commit


def start_sending(*, edition: Edition, by: User | None = None, queue: bool = True) -> int:
    """Draft or scheduled -> sending: one delivery per subscriber of the audience now, and the
    sending task queued after the commit. An edition already sending (or sent) gains nothing:
    returns how many deliveries it has. Refused (ValidationError) when it is not ready."""
    sync_member_subscribers()
    with transaction.atomic():
        edition = lock(edition)
        if edition.status in (EditionStatus.SENDING, EditionStatus.PAUSED, EditionStatus.SENT):
            return edition.deliveries.count()
        check_ready(edition)
        move_edition(edition, EditionStatus.SENDING, by=by)
        edition.started_at = edition.last_batch_at = timezone.now()
        edition.save(update_fields=["status", "started_at", "last_batch_at"])
        recipients = (
            audience_of(edition)
            .order_by()
            .values_list(Value(edition.pk), "pk", Value(DeliveryStatus.PENDING), Now(), flat=False)
        )
        sql, params = recipients.query.sql_with_params()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(Delivery._meta.db_table)} "  # noqa: S608 - names quoted
                f"(edition_id, subscriber_id, status, created_at) {sql} ON CONFLICT DO NOTHING",
                params,
            )
        if queue:
            transaction.on_commit(_queue_sending(edition.pk), robust=True)
        return edition.deliveries.count()


def pause_sending(*, edition: Edition, by: User | None) -> Edition:
    """Workers stop after the batch they are sending."""
    with transaction.atomic():
        edition = lock(edition)
        move_edition(edition, EditionStatus.PAUSED, by=by)
        edition.save(update_fields=["status"])
    return edition


def resume_sending(*, edition: Edition, by: User | None) -> Edition:
    with transaction.atomic():
        edition = lock(edition)
        move_edition(edition, EditionStatus.SENDING, by=by)
        edition.last_batch_at = timezone.now()
        edition.save(update_fields=["status", "last_batch_at"])
        transaction.on_commit(_queue_sending(edition.pk), robust=True)
    return edition


class BatchResult(NamedTuple):
    queued: int  # written to the outbox by this batch
    skipped: int  # unsubscribed or bouncing since the sending started
    sent: int  # sent by this batch (its own rows, and rows a dead worker left)
    done: bool  # nothing pending is left, or the edition is not sending


def _personal_purpose(edition_id: int, subscriber_id: int) -> str:
    return f"newsletter:{edition_id}:{subscriber_id}"


def _mark_queued(deliveries: list[Delivery]) -> None:
    """These deliveries queued, each linked to its outbox row, by one ``UPDATE ... CASE`` (the
    ORM's bulk_update builds an expression per row, which costs more than the statement)."""
    quote = connection.ops.quote_name
    for start in range(0, len(deliveries), BATCH_SIZE):
        chunk = deliveries[start : start + BATCH_SIZE]
        cases = " ".join(["WHEN %s THEN %s"] * len(chunk))
        ids = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(Delivery._meta.db_table)} SET {quote('status')} = %s, "  # noqa: S608 - names quoted, values parameters
                f"{quote('message_id')} = CASE {quote('id')} {cases} END "
                f"WHERE {quote('id')} IN ({ids})",
                [
                    DeliveryStatus.QUEUED,
                    *(value for d in chunk for value in (d.pk, d.message_id)),
                    *(d.pk for d in chunk),
                ],
            )


def send_batch(
    *,
    edition_id: int,
    batch_size: int = BATCH_SIZE,
    rendered: RenderedEdition | None = None,
    budget: float | None = None,
) -> BatchResult:
    """Claim up to ``batch_size`` pending deliveries, write their emails to the outbox, then
    send them (and any left queued by a worker that died) over one connection. Call it outside
    a transaction: the claims must be committed before the sending."""
    edition = Edition.objects.get(pk=edition_id)
    if edition.status != EditionStatus.SENDING:
        return BatchResult(0, 0, 0, True)
    rendered = rendered or RenderedEdition(edition)
    with transaction.atomic():
        claimed = list(
            Delivery.objects.filter(edition_id=edition_id, status=DeliveryStatus.PENDING)
            .select_related("subscriber")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")[:batch_size]
        )
        skipped = [d.pk for d in claimed if not d.subscriber.receives_editions]
        drafts = []
        for delivery in claimed:
            subscriber = delivery.subscriber
            if not subscriber.receives_editions:
                continue
            version = rendered.version(subscriber.language)
            text, html, headers = version.personal(
                subscriber_id=subscriber.pk, email=subscriber.email
            )
            drafts.append(
                Draft(
                    to=subscriber.email,
                    language=subscriber.language,
                    subject=version.subject,
                    body=text,
                    html_body=html,
                    headers=headers,
                    purpose=_personal_purpose(edition_id, subscriber.pk),
                    # The links act for the subscriber (preferences, unsubscribe): staff never
                    # see them, and the body is erased once sent (10,000 copies of an edition).
                    sensitive=True,
                )
            )
        written = write_many(drafts)
        missing = [d.purpose for d in drafts if d.purpose not in written]
        if missing:  # written by an earlier run whose delivery row was lost: link, never resend
            written.update(
                OutboxMessage.objects.filter(purpose__in=missing).values_list("purpose", "pk")
            )
        queued = []
        for delivery in claimed:
            message_id = written.get(_personal_purpose(edition_id, delivery.subscriber_id))
            if message_id is not None:
                delivery.status = DeliveryStatus.QUEUED
                delivery.message_id = message_id
                queued.append(delivery)
        _mark_queued(queued)
        Delivery.objects.filter(pk__in=skipped).update(status=DeliveryStatus.SKIPPED)
        Edition.objects.filter(pk=edition_id).update(last_batch_at=Now())
    # Rows a worker wrote and died before sending: claimed again here (or by the sweep), once.
    leftover = list(
        Delivery.objects.filter(
            edition_id=edition_id, status=DeliveryStatus.QUEUED, message__status="pending"
        )
        .exclude(pk__in=[d.pk for d in queued])
        .values_list("message_id", flat=True)[:batch_size]
    )
    ids = [d.message_id for d in queued if d.message_id is not None] + [
        pk for pk in leftover if pk is not None
    ]
    outcome = deliver_many(ids, budget=budget) if ids else {}
    sent_ids = [pk for pk, sent in outcome.items() if sent]
    if sent_ids:
        Delivery.objects.filter(message_id__in=sent_ids).update(status=DeliveryStatus.SENT)
    done = not _unfinished(edition_id).exists()
    if done:
        _finish(edition_id)
    return BatchResult(len(queued), len(skipped), len(sent_ids), done)


def _unfinished(edition_id: int):
    """Deliveries not yet sent or given up on: pending, or queued with their email still
    waiting in the outbox (or being sent)."""
    return Delivery.objects.filter(edition_id=edition_id).filter(
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.QUEUED, message__status__in=["pending", "sending"])
    )


def _finish(edition_id: int) -> None:
    """Sending -> sent, once every copy has been sent or given up on by the outbox."""
    with transaction.atomic():
        edition = Edition.objects.select_for_update().get(pk=edition_id)
        if edition.status != EditionStatus.SENDING:
            return
        if _unfinished(edition_id).exists():
            return
        move_edition(edition, EditionStatus.SENT, by=None, note="every copy sent")
        edition.sent_at = timezone.now()
        edition.save(update_fields=["status", "sent_at"])
        # What the outbox has sent or given up on since: recorded on the deliveries.
        for outbox_status, status in (
            ("sent", DeliveryStatus.SENT),
            ("failed", DeliveryStatus.FAILED),
        ):
            Delivery.objects.filter(
                edition_id=edition_id, status=DeliveryStatus.QUEUED, message__status=outbox_status
            ).update(status=status)
        ARCHIVE_PAGES.bump_on_commit()


class SendSummary(NamedTuple):
    queued: int
    skipped: int
    sent: int
    finished: bool
    # Stopped because what is left waits on the outbox (a claim another worker holds, a
    # retry not yet due): the beat takes the edition over once no batch has run for a while.
    waiting: bool = False


def send_edition(
    *,
    edition_id: int,
    batch_size: int = BATCH_SIZE,
    budget: float | None = TASK_BUDGET_SECONDS,
    progress: Callable[[int], object] | None = None,
) -> SendSummary:
    """Batch after batch until nothing is pending, the edition is paused, or the ``budget``
    (seconds; None: no limit) runs out. Returns what this run did."""
    edition = Edition.objects.get(pk=edition_id)
    rendered = RenderedEdition(edition)
    deadline = time.monotonic() + budget if budget is not None else None
    queued = skipped = sent = 0
    while True:
        left = None if deadline is None else max(deadline - time.monotonic(), 1.0)
        result = send_batch(
            edition_id=edition_id, batch_size=batch_size, rendered=rendered, budget=left
        )
        queued += result.queued
        skipped += result.skipped
        sent += result.sent
        if progress is not None:
            progress(result.queued + result.skipped)
        if result.done or (deadline is not None and time.monotonic() >= deadline):
            return SendSummary(queued, skipped, sent, result.done)
        if not (result.queued or result.skipped or result.sent):
            return SendSummary(queued, skipped, sent, False, waiting=True)


def continue_later(edition_id: int) -> None:
    """Queue the next run of an edition still sending (a task ran out of its budget)."""
    if Edition.objects.filter(pk=edition_id, status=EditionStatus.SENDING).exists():
        current_app.tasks[SEND_TASK].delay(edition_id)


def editions_to_send(*, now: datetime.datetime | None = None) -> list[int]:
    """For the beat: start the scheduled editions that are due, and name every edition still
    sending whose worker has not sent a batch for ``STALE_SECONDS`` (it died)."""
    now = now or timezone.now()
    started = []
    for edition in Edition.objects.due(now):
        try:
            start_sending(edition=edition, queue=False)
        except ValidationError as error:
            log.warning("Edition %s cannot be sent: %s", edition.pk, " ".join(error.messages))
        else:
            started.append(edition.pk)
    stale = now - datetime.timedelta(seconds=STALE_SECONDS)
    abandoned = (
        Edition.objects.filter(status=EditionStatus.SENDING)
        .filter(Q(last_batch_at__isnull=True) | Q(last_batch_at__lt=stale))
        .exclude(pk__in=started)
        .values_list("pk", flat=True)
    )
    return started + list(abandoned)


def send_test(*, edition: Edition, to: User) -> None:
    """Both language versions to the staff member, with example links (not a subscriber's)."""
    for language in (Language.ENGLISH, Language.FRENCH):
        version = render_version(edition, language)
        text, html, headers = version.personal(subscriber_id=0, email=to.email)
        email = PortalEmail(
            subject=_("[Test]") + " " + version.subject,
            body=text,
            to=[to.email],
            headers=headers,
            language=language,
        )
        email.attach_alternative(html, "text/html")
        email.send()
