"""The events' pages at scale, for `make bench` (bench/run.py calls ``seed_events``).

1,000 published events starting over the coming months and 100,000 registrations to them
(100 each, by 2,000 bench accounts), seeded with set-based SQL and marked by their slugs and
addresses so that the next run removes them first. The pages measured (bench/run.py): the
event list and an event page, anonymous (served from the per-language page cache) and signed
in as the demo member's representative, and "My registrations".

Run as a script in a fresh process: ``python bench/eventpages.py`` (PostgreSQL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 1000
PER_EVENT = 100
PEOPLE = 2000
SLUG_PREFIX = "bench-event-"
EMAIL_PREFIX = "event-bench-"
# The event page measured: one in the middle of the list.
PAGE_SLUG = f"{SLUG_PREFIX}0500"


def _execute(sql: str, params: dict) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def seed() -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icpc_portal.settings")
    import django

    django.setup()
    from django.db import transaction

    from events.services import EVENT_PAGES

    params = {
        "slug": SLUG_PREFIX,
        "slugs": f"{SLUG_PREFIX}%",
        "email": EMAIL_PREFIX,
        "emails": f"{EMAIL_PREFIX}%",
        "events": EVENTS,
        "per_event": PER_EVENT,
        "people": PEOPLE,
    }
    began = time.perf_counter()
    with transaction.atomic():
        bench_events = "SELECT id FROM events_event WHERE slug LIKE %(slugs)s"
        for table in ("events_registrationstatuschange",):
            _execute(
                f"DELETE FROM {table} WHERE registration_id IN "  # noqa: S608
                f"(SELECT id FROM events_registration WHERE event_id IN ({bench_events}))",
                params,
            )
        _execute(f"DELETE FROM events_registration WHERE event_id IN ({bench_events})", params)  # noqa: S608
        _execute(f"DELETE FROM events_feetier WHERE event_id IN ({bench_events})", params)  # noqa: S608
        _execute("DELETE FROM events_event WHERE slug LIKE %(slugs)s", params)
        _execute("DELETE FROM accounts_user WHERE email LIKE %(emails)s", params)
        _execute(
            """
            INSERT INTO events_event
                (kind, status, title, slug, summary, programme, starts_at, ends_at, time_zone,
                 online, venue, city, country, language, capacity, seats_taken, currency,
                 payment_instructions, requires_parent_registration, created_at, updated_at)
            SELECT (ARRAY['seminar', 'colloquium', 'webinar', 'annual_meeting'])[1 + i %% 4],
                   'published',
                   'Benchmark event ' || lpad(i::text, 4, '0'),
                   %(slug)s || lpad(i::text, 4, '0'),
                   'A benchmark event about crime prevention in cities.',
                   '09:00 Opening' || chr(10) || '10:00 Workshops',
                   now() + (i || ' hours')::interval + interval '2 days',
                   now() + (i || ' hours')::interval + interval '2 days 6 hours',
                   (ARRAY['America/Montreal', 'Europe/Paris', 'Africa/Johannesburg'])[1 + i %% 3],
                   i %% 5 = 0, 'Venue ' || i, 'City ' || (i %% 50),
                   CASE WHEN i %% 5 = 0 THEN '' ELSE
                       (ARRAY['CA', 'FR', 'BR', 'ZA', 'IN', 'MX'])[1 + i %% 6] END,
                   (ARRAY['en', 'fr', 'es', 'multi'])[1 + i %% 4],
                   150, %(per_event)s, 'CAD', '', false, now(), now()
            FROM generate_series(0, %(events)s - 1) AS i
            """,
            params,
        )
        _execute(
            """
            INSERT INTO events_feetier (event_id, name, audience, amount, position)
            SELECT e.id, t.name, t.audience, t.amount, t.position
            FROM events_event e,
                 (VALUES ('Member fee', 'members', 150, 0),
                         ('Non-member fee', 'everyone', 250, 1),
                         ('Student', 'assigned', 60, 2)) AS t(name, audience, amount, position)
            WHERE e.slug LIKE %(slugs)s
            """,
            params,
        )
        _execute(
            """
            INSERT INTO accounts_user
                (password, is_superuser, first_name, last_name, is_staff, is_active,
                 date_joined, email, language, is_board_president)
            SELECT '!', false, 'Bench', 'Attendee ' || i, false, true, now(),
                   %(email)s || lpad(i::text, 5, '0') || '@example.org', 'en', false
            FROM generate_series(0, %(people)s - 1) AS i
            """,
            params,
        )
        registrations = _execute(
            """
            INSERT INTO events_registration
                (event_id, user_id, status, first_name, last_name, email, job_title,
                 organisation_name, dietary_needs, accessibility_needs, listed, fee_name,
                 fee_basis, amount, currency, joined_as_member, payment_reference,
                 registered_at, confirmed_at)
            SELECT e.id, u.id, 'confirmed', 'Bench', u.last_name, u.email, '', '', '', '',
                   true, 'Non-member fee', 'non_member', 250, 'CAD', false,
                   'BE-' || lpad(e.id::text, 6, '0') || '-' || lpad(k::text, 3, '0'),
                   now(), now()
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM events_event WHERE slug LIKE %(slugs)s) AS e
            CROSS JOIN generate_series(0, %(per_event)s - 1) AS k
            JOIN accounts_user u
              ON u.email = %(email)s
                 || lpad(((e.n * %(per_event)s + k) %% %(people)s)::text, 5, '0')
                 || '@example.org'
            """,
            params,
        )
    _execute("ANALYZE events_event", {})
    _execute("ANALYZE events_registration", {})
    EVENT_PAGES.bump()
    return {"registrations": registrations, "seconds": time.perf_counter() - began}


def seed_events(env: dict[str, str], log=print) -> str:
    """Seed in a process of its own; the line to print."""
    log(f"bench: events: seeding {EVENTS} events and {EVENTS * PER_EVENT} registrations")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/eventpages.py failed:\n{done.stdout}{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return (
        f"bench events seeded: {EVENTS} events, {result['registrations']} registrations "
        f"in {result['seconds']:.1f} s"
    )


if __name__ == "__main__":
    print(json.dumps(seed()))
