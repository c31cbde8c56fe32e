"""The yearly renewal at scale, for `make bench` (bench/run.py calls ``bench_renewal``).

Memberships due on one day are seeded with set-based SQL (organisations, representatives'
accounts, representatives, memberships; marked by their names, so that the next run removes
them first). Then, on the same data, in the same run:

- the floor: one hand-written statement that does what the renewal must do, as plain SQL can:
  move every due period a year on, insert the renewal records, and insert one outbox row per
  representative with a subject and body concatenated in SQL. It runs in a transaction that is
  rolled back, so the renewal then starts from the very same rows (vacuumed in between);
- the renewal: ``renew_due_memberships`` as the daily task runs it, in a process of its own:
  batches claimed with SKIP LOCKED, the emails rendered from their templates in each
  representative's language and written to the outbox, one delivery queued per email after
  each commit (to a Redis keyspace of the benchmark's own, emptied afterwards; in-process to a
  dummy mail backend when no broker is configured);
- a rerun the same day, which must change 0 rows;
- the peak RSS of the renewal process at each size (resource.getrusage, fresh process each).

Each step is this file run as a script in a fresh process (``python bench/renewal.py STEP``).
The last size's memberships stay in the database: the membership changelist is measured over
them. Knob: BENCH_RENEWAL_SIZES (default "10000,100000").
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(n) for n in os.environ.get("BENCH_RENEWAL_SIZES", "10000,100000").split(",") if n]
# The bench memberships' periods end the day before; nothing else in a portal's database is
# due this long ago, and the rerun (same day) finds nothing.
DUE_ON = datetime.date(2001, 3, 1)
ORG_PREFIX = "Renewal bench organisation"
EMAIL_PREFIX = "renewal-bench-"
# The goal: the renewal takes at most this many times the floor.
GOAL_RATIO = 2.0


# --- Steps, each run in a process of its own -----------------------------------------------


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icpc_portal.settings")
    import django

    django.setup()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _execute(sql: str, params: list | dict | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def step_cleanup() -> dict:
    """Remove what an earlier bench seeded, with its renewals and emails."""
    from django.db import transaction

    bench_memberships = (
        "SELECT m.id FROM members_membership m JOIN members_organisation o "
        "ON o.id = m.organisation_id WHERE o.name LIKE %(orgs)s"
    )
    params = {"orgs": f"{ORG_PREFIX} %", "emails": f"{EMAIL_PREFIX}%"}
    with transaction.atomic():
        emails = _execute('DELETE FROM core_outboxmessage WHERE "to" LIKE %(emails)s', params)
        for table in (
            "members_membershiprenewal",
            "members_renewalnotice",
            "members_membershipevent",
            "members_membershipstatuschange",
        ):
            sql = f"DELETE FROM {table} WHERE membership_id IN ({bench_memberships})"  # noqa: S608
            _execute(sql, params)
        sql = f"DELETE FROM members_membership WHERE id IN ({bench_memberships})"  # noqa: S608
        memberships = _execute(sql, params)
        _execute(
            "DELETE FROM members_representative WHERE organisation_id IN "
            "(SELECT id FROM members_organisation WHERE name LIKE %(orgs)s)",
            params,
        )
        _execute("DELETE FROM members_organisation WHERE name LIKE %(orgs)s", params)
        _execute("DELETE FROM accounts_user WHERE email LIKE %(emails)s", params)
    return {"memberships": memberships, "emails": emails}


def step_seed(size: int) -> dict:
    """``size`` general memberships due on DUE_ON, each with a current representative."""
    from django.db import transaction

    from members.models import yearly_period

    start, end = yearly_period(DUE_ON.replace(year=DUE_ON.year - 1))
    assert end == DUE_ON - datetime.timedelta(days=1)
    params = {
        "n": size,
        "org": ORG_PREFIX,
        "email": EMAIL_PREFIX,
        "start": start,
        "end": end,
        # Every third representative reads French: both catalogues are rendered.
    }
    began = time.perf_counter()
    with transaction.atomic():
        _execute(
            """
            INSERT INTO members_organisation
                (name, category, country, city, website, description, created_at, updated_at)
            SELECT %(org)s || ' ' || lpad(i::text, 6, '0'),
                   (ARRAY['city', 'ngo', 'institute', 'private'])[1 + i %% 4],
                   (ARRAY['CA', 'FR', 'BR', 'ZA', 'IN', 'MX'])[1 + i %% 6],
                   'City ' || (i %% 500), '', '', now(), now()
            FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        _execute(
            """
            INSERT INTO accounts_user
                (password, is_superuser, first_name, last_name, is_staff, is_active,
                 date_joined, email, language, is_board_president)
            SELECT '!', false, 'Bench', 'Representative ' || i, false, true, now(),
                   %(email)s || lpad(i::text, 6, '0') || '@example.org',
                   CASE WHEN i %% 3 = 0 THEN 'fr' ELSE 'en' END, false
            FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        _execute(
            """
            INSERT INTO members_representative
                (organisation_id, user_id, title, qualification, status, started_on)
            SELECT o.id, u.id, 'Programme Director', 'director', 'current', %(start)s
            FROM members_organisation o
            JOIN accounts_user u
              ON u.email = %(email)s || right(o.name, 6) || '@example.org'
            WHERE o.name LIKE %(org)s || ' %%'
            """,
            params,
        )
        seeded = _execute(
            """
            INSERT INTO members_membership
                (organisation_id, kind, status, started_on, period_start, period_end,
                 end_reason, end_note, not_qualifying_reason, resigns_at_period_end,
                 resignation_note)
            SELECT o.id, 'general', 'active', %(start)s, %(start)s, %(end)s, '', '', '', false, ''
            FROM members_organisation o WHERE o.name LIKE %(org)s || ' %%'
            """,
            params,
        )
    _execute(
        "VACUUM ANALYZE members_organisation, accounts_user, members_representative, "
        "members_membership"
    )
    return {"seeded": seeded, "seconds": time.perf_counter() - began}


FLOOR_SQL = """
WITH due AS (
    SELECT id, period_end FROM members_membership
    WHERE status = 'active' AND kind = 'general' AND period_end < %(on)s
    FOR UPDATE
),
moved AS (
    UPDATE members_membership m
    SET period_start = due.period_end + 1,
        period_end = (due.period_end + 1 + interval '1 year' - interval '1 day')::date
    FROM due WHERE m.id = due.id
    RETURNING m.id, m.organisation_id, m.period_start, m.period_end
),
renewals AS (
    INSERT INTO members_membershiprenewal (membership_id, period_start, period_end, renewed_at)
    SELECT id, period_start, period_end, now() FROM moved
)
INSERT INTO core_outboxmessage
    ("to", language, subject, body, html_body, from_email, reply_to, headers, attachments,
     purpose, sensitive, status, attempts, last_error)
SELECT u.email, u.language,
       '[ICPC] ' || o.name || ': your membership is renewed',
       'Hello ' || u.first_name || ' ' || u.last_name || E',\n\nThe membership of ' || o.name
           || ' has been renewed for one more year, from ' || moved.period_start || ' to '
           || moved.period_end || E'.\n',
       '', %(sender)s, '[]', jsonb_build_object('Message-ID', '<' || gen_random_uuid() || '>'),
       '[]', 'members.renewed:' || moved.id || ':' || moved.period_start, false, 'pending', 0, ''
FROM moved
JOIN members_representative r ON r.organisation_id = moved.organisation_id
     AND r.status = 'current'
JOIN accounts_user u ON u.id = r.user_id
JOIN members_organisation o ON o.id = moved.organisation_id
ON CONFLICT DO NOTHING
"""


def step_floor() -> dict:
    """The hand-written statement, timed, then rolled back."""
    from django.conf import settings
    from django.db import connection, transaction

    with transaction.atomic():
        began = time.perf_counter()
        emails = _execute(FLOOR_SQL, {"on": DUE_ON, "sender": settings.DEFAULT_FROM_EMAIL})
        seconds = time.perf_counter() - began
        renewals = _execute(
            "SELECT 1 FROM members_membershiprenewal WHERE period_start = %s", [DUE_ON]
        )
        transaction.set_rollback(True)
    connection.close()
    _setup_vacuum()
    return {"seconds": seconds, "renewals": renewals, "emails": emails}


def _setup_vacuum() -> None:
    # The rolled-back rows are dead: clear them so that the renewal starts as the floor did.
    _execute("VACUUM ANALYZE members_membership, members_membershiprenewal, core_outboxmessage")


def _private_broker() -> str | None:
    """Deliveries go to a Redis keyspace of this process's own, emptied by ``_drop_broker``."""
    from celery import current_app

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        return None
    prefix = f"bench-renewal-{os.getpid()}-{time.time_ns()}:"
    current_app.conf.update(
        broker_read_url=url,
        broker_write_url=url,
        broker_transport_options={"global_keyprefix": prefix},
    )
    return prefix


def _drop_broker(prefix: str | None) -> None:
    if prefix is None:
        return
    import redis

    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


def step_renew() -> dict:
    """``renew_due_memberships`` as the daily task runs it; time and peak RSS."""
    from django.db import connection

    from members.services.renewal import renew_due_memberships

    prefix = _private_broker()
    baseline = _peak_rss_mb()
    try:
        began = time.perf_counter()
        summary = renew_due_memberships(on=DUE_ON)
        seconds = time.perf_counter() - began
    finally:
        _drop_broker(prefix)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM members_membershiprenewal WHERE period_start = %s", [DUE_ON]
        )
        (renewals,) = cursor.fetchone()
        cursor.execute(
            'SELECT count(*) FROM core_outboxmessage WHERE "to" LIKE %s', [f"{EMAIL_PREFIX}%"]
        )
        (emails,) = cursor.fetchone()
    return {
        "seconds": seconds,
        **summary._asdict(),
        "renewals": renewals,
        "emails": emails,
        "baseline_mb": baseline,
        "peak_mb": _peak_rss_mb(),
        "broker": "redis (private keyspace)" if prefix else "none: delivered in-process",
    }


def main() -> None:
    step, *args = sys.argv[1:]
    if not os.environ.get("CELERY_BROKER_URL"):
        os.environ["EMAIL_URL"] = "dummymail://"  # in-process delivery: discard, do not print
    _setup()
    steps = {
        "cleanup": step_cleanup,
        "seed": lambda: step_seed(int(args[0])),
        "floor": step_floor,
        "renew": step_renew,
    }
    print(json.dumps(steps[step](), default=str))


# --- Driven by bench/run.py ----------------------------------------------------------------


class RenewalBenchError(Exception):
    pass


def _step(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RenewalBenchError(f"bench/renewal.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_renewal(env: dict[str, str], log=print) -> tuple[list[str], bool]:
    """Run the renewal benchmark at each size; the lines to print, and whether it held."""
    lines: list[str] = []
    ok = True
    for size in SIZES:
        log(f"bench: renewal: seeding {size} memberships due on {DUE_ON}")
        _step(env, "cleanup")
        seeded = _step(env, "seed", str(size))
        if seeded["seeded"] != size:
            raise RenewalBenchError(f"seeded {seeded['seeded']} memberships, not {size}")
        floor = _step(env, "floor") if size == max(SIZES) else None
        log(f"bench: renewal: renewing {size} memberships")
        run = _step(env, "renew")
        rerun = _step(env, "renew")
        if (run["renewed"], run["renewals"]) != (size, size):
            ok = False
        changed = rerun["renewed"] + rerun["ended"]
        if changed or rerun["renewals"] != run["renewals"] or rerun["emails"] != run["emails"]:
            ok = False
        text = (
            f"bench renewal {size}: {run['seconds']:.1f} s ({size / run['seconds']:.0f}/s), "
            f"renewed {run['renewed']}, ended {run['ended']}, skipped {run['skipped']}, "
            f"{run['emails']} emails; rerun changed {changed} rows; "
            f"peak RSS {run['peak_mb']:.0f} MB (Django loaded: {run['baseline_mb']:.0f} MB)"
        )
        lines.append(text)
        if floor is not None:
            ratio = run["seconds"] / floor["seconds"] if floor["seconds"] else 0.0
            lines.append(
                f"bench renewal floor {size}: {floor['seconds']:.1f} s for one SQL statement "
                f"(update + {floor['renewals']} renewals + {floor['emails']} outbox rows, body "
                f"concatenated in SQL, no template, no delivery queued); renewal/floor "
                f"{ratio:.1f} (goal <= {GOAL_RATIO:.0f}); the renewal also renders each email "
                f"from its templates and queues its delivery (broker: {run['broker']})"
            )
    return lines, ok


if __name__ == "__main__":
    main()
