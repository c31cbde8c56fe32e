"""The renewal and its notices on real Celery workers, over Redis, against real PostgreSQL.

Each worker is a process of its own (``celery worker --pool solo``, as in production), on a
Redis broker whose keys are private to the test, and on the test database. The tests queue the
beat's tasks by name, as the beat does, and read the outcome from the database: two runs at
once, two runs in a day, and a worker killed in the middle of a batch.

The failure is injected from the test only, with a PostgreSQL trigger on the renewal table: it
holds the insert of one chosen membership's renewal (``pg_sleep``) so that the test can kill
the worker with SIGKILL while that batch's transaction is open. Triggers, tables and workers the
test creates are removed whatever the outcome.
"""

import datetime
import email
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from core.models import OutboxMessage, OutboxStatus
from members.models import Membership, MembershipRenewal, RenewalNotice, yearly_period
from tests import factories
from tests.celery_workers import Workers, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class FileMailWorkers(Workers):
    """Workers whose emails go to files (Django's file backend), read back by ``delivered``."""

    def __init__(self, broker_url: str, *, mail_dir: Path, logs: Path) -> None:
        super().__init__(
            broker_url, email_url=f"filemail:///{mail_dir}", logs=logs, label="renewal"
        )
        self.mail_dir = mail_dir

    def delivered(self) -> list[email.message.Message]:
        """Every email the workers handed to the mail server."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for part in path.read_text().split("-" * 79):
                if part.strip():
                    messages.append(email.message_from_string(part.strip()))
        return messages


@pytest.fixture
def workers(postgres, redis_url, tmp_path) -> Iterator[FileMailWorkers]:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    pool = FileMailWorkers(redis_url.rsplit("/", 1)[0] + "/14", mail_dir=mail_dir, logs=tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def sql(postgres) -> Iterator[Callable[[str], None]]:
    """Run SQL on the test database; the triggers, functions and tables it names
    ``renewal_test_*`` are dropped at the end, whatever happened."""

    def run(statement: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement)

    try:
        yield run
    finally:
        run("DROP TRIGGER IF EXISTS renewal_test_hold ON members_membershiprenewal")
        run("DROP TRIGGER IF EXISTS renewal_test_trace ON members_membershiprenewal")
        run("DROP FUNCTION IF EXISTS renewal_test_hold()")
        run("DROP FUNCTION IF EXISTS renewal_test_trace()")
        run("DROP TABLE IF EXISTS renewal_test_log")


def today() -> datetime.date:
    return timezone.localdate()


def due_today(count: int) -> list[Membership]:
    """General members whose period ended yesterday, each with a representative."""
    start = today() - datetime.timedelta(days=366)
    while yearly_period(start)[1] != today() - datetime.timedelta(days=1):
        start += datetime.timedelta(days=1)
    memberships = []
    for _ in range(count):
        membership = factories.MembershipFactory(started_on=start)
        factories.RepresentativeFactory(organisation=membership.organisation, started_on=start)
        memberships.append(membership)
    return sorted(memberships, key=lambda m: m.pk)


def renewal_rows() -> Counter[int]:
    return Counter(MembershipRenewal.objects.values_list("membership_id", flat=True))


def renewal_emails():
    return OutboxMessage.objects.filter(purpose__startswith="members.renewed:")


def all_sent() -> bool:
    return not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()


def assert_each_renewed_once_with_one_email(
    memberships: list[Membership], workers: Workers
) -> None:
    new_start = today()
    assert renewal_rows() == Counter({m.pk: 1 for m in memberships})
    assert set(
        Membership.objects.filter(pk__in=[m.pk for m in memberships]).values_list(
            "period_start", flat=True
        )
    ) == {new_start}
    purposes = Counter(renewal_emails().values_list("purpose", flat=True))
    assert purposes == Counter(
        {f"members.renewed:{m.pk}:{new_start.isoformat()}": 1 for m in memberships}
    )
    assert wait_for(all_sent), "the workers did not deliver every email"
    delivered = workers.delivered()
    recipients = Counter(message["To"] for message in delivered)
    expected = {m.organisation.representatives.get().user.email for m in memberships}
    assert recipients == Counter({address: 1 for address in expected})
    assert all("your membership is renewed" in message["Subject"] for message in delivered)


def test_two_workers_renewing_at_once_renew_each_membership_once_with_one_email(workers, sql):
    memberships = due_today(24)
    # Each renewal written leaves the worker's connection and the time, and takes a little
    # while, so that the two runs overlap and both claim batches.
    sql("CREATE TABLE renewal_test_log (pid int, membership_id bigint, at timestamptz)")
    sql(
        """
        CREATE FUNCTION renewal_test_trace() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO renewal_test_log
                VALUES (pg_backend_pid(), NEW.membership_id, clock_timestamp());
            PERFORM pg_sleep(0.05);
            RETURN NEW;
        END $$
        """
    )
    sql(
        "CREATE TRIGGER renewal_test_trace BEFORE INSERT ON members_membershiprenewal "
        "FOR EACH ROW EXECUTE FUNCTION renewal_test_trace()"
    )
    workers.start()
    workers.start()

    workers.queue("members.renew_memberships", batch_size=3)
    workers.queue("members.renew_memberships", batch_size=3)

    assert wait_for(lambda: sum(renewal_rows().values()) >= 24 and workers.idle())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, count(*), min(at), max(at) FROM renewal_test_log GROUP BY pid")
        runs = cursor.fetchall()
    assert len(runs) == 2, runs  # both workers renewed memberships...
    (_a, _na, a_first, a_last), (_b, _nb, b_first, b_last) = runs
    assert a_first < b_last and b_first < a_last, runs  # ...at the same time
    assert sum(n for _pid, n, _first, _last in runs) == 24
    assert_each_renewed_once_with_one_email(memberships, workers)


def test_the_renewal_run_twice_in_a_day_on_a_worker_gives_the_result_of_one_run(workers):
    memberships = due_today(7)
    workers.start()

    workers.queue("members.renew_memberships", batch_size=3)
    assert wait_for(lambda: sum(renewal_rows().values()) >= 7 and workers.idle())
    assert wait_for(all_sent)
    once = (
        renewal_rows(),
        sorted(Membership.objects.values_list("pk", "period_start", "period_end")),
        sorted(OutboxMessage.objects.values_list("purpose", "to")),
        len(workers.delivered()),
    )
    workers.queue("members.renew_memberships", batch_size=3)
    workers.queue("members.send_renewal_notices", batch_size=3)
    workers.queue("members.send_renewal_notices", batch_size=3)
    assert wait_for(workers.idle)

    twice = (
        renewal_rows(),
        sorted(Membership.objects.values_list("pk", "period_start", "period_end")),
        sorted(OutboxMessage.objects.values_list("purpose", "to")),
        len(workers.delivered()),
    )
    assert twice == once
    assert not RenewalNotice.objects.exists()  # renewed today: the next renewal is a year away
    assert_each_renewed_once_with_one_email(memberships, workers)


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_it_whole_for_the_next_run(workers, sql):
    memberships = due_today(9)
    held = memberships[6]  # the first of the third batch of three
    sql(
        f"""
        CREATE FUNCTION renewal_test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.membership_id = {held.pk} THEN PERFORM pg_sleep(60); END IF;
            RETURN NEW;
        END $$
        """
    )
    sql(
        "CREATE TRIGGER renewal_test_hold BEFORE INSERT ON members_membershiprenewal "
        "FOR EACH ROW EXECUTE FUNCTION renewal_test_hold()"
    )
    worker = workers.start()

    workers.queue("members.renew_memberships", batch_size=3)

    def sleeping_backend() -> int | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event = 'PgSleep' AND query LIKE %s",
                ["%INSERT INTO%members_membershiprenewal%"],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    assert wait_for(lambda: sleeping_backend() is not None), "the third batch never started"
    backend = sleeping_backend()
    workers.kill(worker)
    # The server notices the dead client when it next talks to it; do not wait 60 seconds.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    assert wait_for(lambda: sleeping_backend() is None)

    # The first two batches committed, with their emails; the third left nothing behind.
    first_two = memberships[:6]
    assert renewal_rows() == Counter({m.pk: 1 for m in first_two})
    starts = dict(Membership.objects.values_list("pk", "period_start"))
    assert [starts[m.pk] == today() for m in memberships] == [True] * 6 + [False] * 3
    assert renewal_emails().count() == 6
    assert (
        not Membership.objects.filter(pk__in=[m.pk for m in memberships[6:]])
        .exclude(period_start=memberships[6].period_start)
        .exists()
    )

    # The next run (tomorrow's beat, or ops by hand) finishes the rest, on a new worker.
    sql("DROP TRIGGER renewal_test_hold ON members_membershiprenewal")
    workers.start()
    workers.queue("members.renew_memberships", batch_size=3)
    assert wait_for(lambda: sum(renewal_rows().values()) >= 9)
    assert wait_for(all_sent)

    assert_each_renewed_once_with_one_email(memberships, workers)
