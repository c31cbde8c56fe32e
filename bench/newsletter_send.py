"""Sending a newsletter edition at scale, for `make bench` (bench/run.py calls
``bench_newsletter``); standalone: ``python bench/newsletter_send.py``.

(Not bench/newsletter.py: with bench/ first on sys.path that name would shadow the newsletter
app, and ``mypy .`` refuses two top-level modules named ``newsletter``.)

At each size (BENCH_NEWSLETTER_SIZES, default "1000,10000"), on the same data, in the same run:

- seeding: N subscribers (a third French) of a topic of the benchmark's own, and one edition
  in English and French for that topic's subscribers, with set-based SQL, marked by their
  address prefix, subject and topic name so that the next run removes them first. The topic
  audience keeps the demo's subscribers (and the members that ``start_sending`` subscribes)
  out: the edition goes to exactly N addresses;
- the portal: ``start_sending`` then ``send_edition`` (the ``send_batch`` loop the Celery task
  runs), in a fresh process, with EMAIL_URL pointed at an SMTP sink; wall time, peak RSS
  (resource.getrusage) and the baseline once Django is loaded; the sink must count exactly N
  and every delivery must be marked sent;
- the floor: a bare smtplib loop over one connection, in a fresh process without Django,
  sending N messages to the same addresses: the portal's own English and French messages
  (rendered from the edition as a batch renders them, MIME built by the outbox's ``as_email``),
  in the subscribers' proportions, so the bytes on the wire match.

The sink is aiosmtpd's Controller in a process of its own, started afresh for each
measurement (its count is that run's alone) and left out of both timings. In the sender's
process it would share the sender's GIL and core, slowing the portal (which has more Python
work for the sink's thread to interrupt) more than the floor, and its memory would count in
the portal's peak RSS; out of process, both senders talk to it over loopback as to a real mail
server. It counts recipients and bytes, and discards the messages.
"""

from __future__ import annotations

import json
import os
import resource
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SIZES = [int(n) for n in os.environ.get("BENCH_NEWSLETTER_SIZES", "1000,10000").split(",") if n]
EMAIL_PREFIX = "newsletter-bench-"
SUBJECT_PREFIX = "Newsletter bench edition"
TOPIC_NAME = "Newsletter bench topic"
# The goal: the portal sends at least this fraction of the bare loop's rate.
GOAL_RATIO = 0.5

BODY_EN = """## Safer cities: news from the network

The International Centre for the Prevention of Crime brings together cities, governments and
researchers who prevent crime before it happens. This edition gathers what our members did
this season, what the Board decided, and what is coming.

## From our members

- **Montréal** opened three new neighbourhood mediation points, staffed by young people
  trained over the winter; the first figures are encouraging.
- **Lyon** published its evaluation of the night-time economy programme: fewer incidents
  around bars, and residents who feel heard.
- **Cape Town** shared its violence-interruption toolkit with the network; it is in the
  members' library.
- **Bogotá** hosted a week of exchanges on safe public transport for women.

## The International Report

Work on the next *International Report on Crime Prevention and Community Safety* has begun.
Members who wish to contribute a case study can write to the secretariat before the end of
next month. We are looking in particular for evaluations of programmes that work with young
people, and for examples of cooperation between police and social services.

## Training

Our online course on local safety audits starts again in the autumn, in English and in
French. Places are limited; members' staff come first.

> Prevention is not a cost, it is an investment: every dollar spent on it saves several in
> the justice system.

Read more on [our website](https://cipc-icpc.org/en/) and follow the network's news there.
"""

BODY_FR = """## Villes plus sûres : nouvelles du réseau

Le Centre international pour la prévention de la criminalité réunit des villes, des
gouvernements et des chercheurs qui préviennent la criminalité avant qu'elle ne survienne.
Cette édition rassemble ce que nos membres ont fait cette saison, ce que le Conseil a décidé
et ce qui s'annonce.

## De nos membres

- **Montréal** a ouvert trois nouveaux points de médiation de quartier, animés par des
  jeunes formés pendant l'hiver ; les premiers chiffres sont encourageants.
- **Lyon** a publié l'évaluation de son programme sur la vie nocturne : moins d'incidents
  autour des bars, et des habitants qui se sentent écoutés.
- **Le Cap** a partagé avec le réseau sa trousse d'interruption de la violence ; elle est
  dans la bibliothèque des membres.
- **Bogotá** a accueilli une semaine d'échanges sur la sécurité des femmes dans les
  transports publics.

## Le Rapport international

Les travaux du prochain *Rapport international sur la prévention de la criminalité et la
sécurité quotidienne* ont commencé. Les membres qui souhaitent y contribuer une étude de cas
peuvent écrire au secrétariat avant la fin du mois prochain. Nous cherchons en particulier
des évaluations de programmes menés avec les jeunes, et des exemples de coopération entre la
police et les services sociaux.

## Formation

Notre cours en ligne sur les diagnostics locaux de sécurité reprend à l'automne, en français
et en anglais. Les places sont limitées ; le personnel des membres passe en premier.

> La prévention n'est pas une dépense, c'est un investissement : chaque dollar qui y est
> consacré en épargne plusieurs dans le système de justice.

Pour en savoir plus, consultez [notre site](https://cipc-icpc.org/fr/).
"""


def _address(i: int) -> str:
    return f"{EMAIL_PREFIX}{i:06d}@example.org"


def _language(i: int) -> str:
    """Every third subscriber reads French (as seeded in SQL below)."""
    return "fr" if i % 3 == 0 else "en"


# --- Steps, each run in a process of its own -----------------------------------------------


def _setup() -> None:
    # bench/ off the path: the Django app named newsletter must be the one imported.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icpc_portal.settings")
    import django

    django.setup()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _execute(sql: str, params: dict | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def step_cleanup() -> dict:
    """Remove what an earlier run seeded: subscribers, edition, topic, deliveries, emails."""
    from django.db import transaction

    params = {"emails": f"{EMAIL_PREFIX}%", "subject": f"{SUBJECT_PREFIX}%", "topic": TOPIC_NAME}
    subscribers = "SELECT id FROM newsletter_subscriber WHERE email LIKE %(emails)s"
    editions = "SELECT id FROM newsletter_edition WHERE subject_en LIKE %(subject)s"
    with transaction.atomic():
        _execute(
            f"DELETE FROM newsletter_delivery WHERE edition_id IN ({editions}) "  # noqa: S608
            f"OR subscriber_id IN ({subscribers})",
            params,
        )
        emails = _execute('DELETE FROM core_outboxmessage WHERE "to" LIKE %(emails)s', params)
        _execute(
            f"DELETE FROM newsletter_editionstatuschange WHERE edition_id IN ({editions})",  # noqa: S608
            params,
        )
        _execute("DELETE FROM newsletter_edition WHERE subject_en LIKE %(subject)s", params)
        for table in ("newsletter_subscriberstatuschange", "newsletter_subscriber_topics"):
            _execute(f"DELETE FROM {table} WHERE subscriber_id IN ({subscribers})", params)  # noqa: S608
        removed = _execute("DELETE FROM newsletter_subscriber WHERE email LIKE %(emails)s", params)
        _execute(
            "DELETE FROM newsletter_subscriber_topics WHERE topic_id IN "
            "(SELECT id FROM newsletter_topic WHERE name_en = %(topic)s)",
            params,
        )
        _execute("DELETE FROM newsletter_topic WHERE name_en = %(topic)s", params)
    return {"subscribers": removed, "emails": emails}


def step_seed(size: int) -> dict:
    """``size`` confirmed subscribers of the bench topic, and a draft edition for them."""
    from django.db import connection, transaction

    from newsletter import services
    from newsletter.models import Audience, Edition

    params: dict = {"n": size, "email": EMAIL_PREFIX, "emails": f"{EMAIL_PREFIX}%"}
    began = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO newsletter_topic (name_en, name_fr, position) "
                "VALUES (%s, %s, 999) RETURNING id",
                [TOPIC_NAME, "Sujet du banc d'essai"],
            )
            (params["topic"],) = cursor.fetchone()
        seeded = _execute(
            """
            INSERT INTO newsletter_subscriber
                (email, language, user_id, status, source, created_at, confirmed_at)
            SELECT %(email)s || lpad(i::text, 6, '0') || '@example.org',
                   CASE WHEN i %% 3 = 0 THEN 'fr' ELSE 'en' END,
                   NULL, 'subscribed', 'public', now(), now()
            FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        _execute(
            """
            INSERT INTO newsletter_subscriber_topics (subscriber_id, topic_id)
            SELECT id, %(topic)s FROM newsletter_subscriber WHERE email LIKE %(emails)s
            """,
            params,
        )
        _execute(
            """
            INSERT INTO newsletter_subscriberstatuschange
                (subscriber_id, from_status, to_status, actor_id, at, note)
            SELECT id, '', 'subscribed', NULL, now(), 'bench'
            FROM newsletter_subscriber WHERE email LIKE %(emails)s
            """,
            params,
        )
        edition = services.create_edition(
            edition=Edition(
                subject_en=f"{SUBJECT_PREFIX}: safer cities, news from the network",
                subject_fr=f"{SUBJECT_PREFIX} : villes plus sûres, nouvelles du réseau",
                body_en=BODY_EN,
                body_fr=BODY_FR,
                audience=Audience.TOPIC,
                topic_id=params["topic"],
            ),
            by=None,
        )
    _execute(
        "VACUUM ANALYZE newsletter_subscriber, newsletter_subscriber_topics, "
        "newsletter_delivery, core_outboxmessage"
    )
    return {"seeded": seeded, "edition": edition.pk, "seconds": time.perf_counter() - began}


def _bench_edition():
    from newsletter.models import Edition

    return Edition.objects.get(subject_en__startswith=SUBJECT_PREFIX)


def step_send() -> dict:
    """What the Celery task does, here: start the sending, then batch after batch until done."""
    from django.conf import settings
    from django.db import connection

    from newsletter import services

    edition = _bench_edition()
    baseline = _peak_rss_mb()
    began = time.perf_counter()
    deliveries = services.start_sending(edition=edition, queue=False)
    started = time.perf_counter()
    summary = services.send_edition(edition_id=edition.pk, budget=None)
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM newsletter_delivery WHERE edition_id = %s "
            "GROUP BY status",
            [edition.pk],
        )
        by_status = dict(cursor.fetchall())
        cursor.execute(
            'SELECT status, count(*) FROM core_outboxmessage WHERE "to" LIKE %s GROUP BY status',
            [f"{EMAIL_PREFIX}%"],
        )
        outbox = dict(cursor.fetchall())
        cursor.execute("SELECT status FROM newsletter_edition WHERE id = %s", [edition.pk])
        (status,) = cursor.fetchone()
    return {
        "seconds": seconds,
        "start_seconds": started - began,
        "deliveries": deliveries,
        **summary._asdict(),
        "by_status": by_status,
        "outbox": outbox,
        "edition_status": status,
        "baseline_mb": baseline,
        "peak_mb": _peak_rss_mb(),
        "backend": settings.EMAIL_DELIVERY_BACKEND,
        "smtp": f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
    }


def step_sample(directory: str) -> dict:
    """The edition's English and French emails, as a batch writes them to the outbox and the
    outbox turns them into MIME, saved to ``directory`` for the floor."""
    from django.conf import settings

    from core.models import OutboxMessage
    from core.outbox import _message_id, as_email
    from newsletter.models import Subscriber
    from newsletter.rendering import RenderedEdition

    rendered = RenderedEdition(_bench_edition())
    sizes = {}
    for language in ("en", "fr"):
        subscriber = Subscriber.objects.filter(
            email__startswith=EMAIL_PREFIX, language=language
        ).first()
        assert subscriber is not None, f"no {language} bench subscriber"
        version = rendered.version(language)
        text, html, headers = version.personal(subscriber_id=subscriber.pk, email=subscriber.email)
        headers["Message-ID"] = _message_id(settings.DEFAULT_FROM_EMAIL)
        row = OutboxMessage(
            to=subscriber.email,
            language=language,
            subject=version.subject,
            body=text,
            html_body=html,
            from_email=settings.DEFAULT_FROM_EMAIL,
            headers=headers,
        )
        # The bytes Django's SMTP backend sends (its MIME classes take a linesep, not in the stubs).
        data = as_email(row).message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        Path(directory, f"{language}.eml").write_bytes(data)
        sizes[language] = len(data)
    Path(directory, "from").write_text(settings.DEFAULT_FROM_EMAIL)
    return sizes


def step_floor(directory: str, size: int, port: int) -> dict:
    """A bare smtplib loop: one connection, ``size`` messages, the same bytes as the portal's."""
    from email.utils import parseaddr

    messages = {lang: Path(directory, f"{lang}.eml").read_bytes() for lang in ("en", "fr")}
    sender = parseaddr(Path(directory, "from").read_text())[1]
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(1, size + 1):
            smtp.sendmail(sender, [_address(i)], messages[_language(i)])
    return {"seconds": time.perf_counter() - began, "peak_mb": _peak_rss_mb()}


def step_sink() -> None:
    """An SMTP server on a free loopback port that counts recipients and bytes and discards the
    messages. Prints ``{"port": ...}``, serves until its stdin closes, then prints the counts."""
    import socket

    from aiosmtpd.controller import Controller

    class Counter:
        messages = 0
        bytes = 0

        async def handle_DATA(self, server, session, envelope) -> str:
            self.messages += len(envelope.rcpt_tos)
            self.bytes += len(envelope.original_content or b"")
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()
    print(json.dumps({"messages": handler.messages, "bytes": handler.bytes}), flush=True)


def main() -> None:
    if len(sys.argv) == 1:
        sys.exit(standalone())
    step, *args = sys.argv[1:]
    if step == "sink":
        step_sink()
        return
    if step == "floor":
        result = step_floor(args[0], int(args[1]), int(args[2]))
    else:
        _setup()
        steps = {
            "cleanup": step_cleanup,
            "seed": lambda: step_seed(int(args[0])),
            "send": step_send,
            "sample": lambda: step_sample(args[0]),
        }
        result = steps[step]()
    print(json.dumps(result, default=str))


# --- Driven by bench/run.py ----------------------------------------------------------------


class NewsletterBenchError(Exception):
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
        raise NewsletterBenchError(
            f"bench/newsletter_send.py {' '.join(args)} failed:\n{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


class Sink:
    """The SMTP sink in a process of its own, for one measurement."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        # Its log goes to a file: a pipe nobody reads while it serves could fill and block it.
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "sink"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first:
            self.kill()
            raise NewsletterBenchError(f"the SMTP sink did not start:\n{self.log_tail()}")
        self.port = int(json.loads(first)["port"])

    def stop(self) -> dict:
        """Close its stdin; it stops and reports what it counted."""
        out, _err = self.process.communicate(timeout=30)
        if self.process.returncode != 0:
            raise NewsletterBenchError(f"the SMTP sink failed:\n{self.log_tail()}")
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]


def _measure(
    env: dict[str, str], directory: str, *args: str, smtp: bool = False
) -> tuple[dict, dict]:
    """Run a step against a fresh sink; (the step's result, what the sink counted)."""
    sink = Sink(env, Path(directory, "sink.log"))
    try:
        step_env = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"} if smtp else env
        result = _step(step_env, *[arg.replace("{port}", str(sink.port)) for arg in args])
        return result, sink.stop()
    finally:
        sink.kill()


def bench_newsletter(env: dict[str, str], log=print) -> tuple[list[str], bool]:
    """Run the newsletter benchmark at each size; the lines to print, and whether it held (the
    sink counted exactly one message per subscriber, every delivery marked sent)."""
    lines: list[str] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-newsletter-") as directory:
        for size in SIZES:
            log(f"bench: newsletter: seeding {size} subscribers and an edition")
            _step(env, "cleanup")
            seeded = _step(env, "seed", str(size))
            if seeded["seeded"] != size:
                raise NewsletterBenchError(f"seeded {seeded['seeded']} subscribers, not {size}")
            _step(env, "sample", directory)
            log(f"bench: newsletter: sending the edition to {size} subscribers")
            run, counted = _measure(env, directory, "send", smtp=True)
            log(f"bench: newsletter: bare smtplib loop, {size} messages")
            floor, floor_counted = _measure(env, directory, "floor", directory, str(size), "{port}")
            sent_rows = run["by_status"].get("sent", 0)
            held = (
                counted["messages"] == size
                and sent_rows == size
                and run["outbox"] == {"sent": size}
                and run["edition_status"] == "sent"
                and floor_counted["messages"] == size
            )
            ok = ok and held
            rate = size / run["seconds"]
            floor_rate = size / floor["seconds"]
            ratio = rate / floor_rate
            text = (
                f"bench newsletter {size}: {run['seconds']:.1f} s ({rate:.0f} msg/s), "
                f"sent {run['sent']}, sink counted {counted['messages']}; "
                f"peak RSS {run['peak_mb']:.0f} MB (Django loaded: {run['baseline_mb']:.0f} MB)"
                f"; start_sending {run['start_seconds']:.2f} s, deliveries sent {sent_rows}, "
                f"{counted['bytes'] / max(counted['messages'], 1) / 1024:.1f} KiB/message"
            )
            if not held:
                text += (
                    f"  [INVALID: deliveries {run['by_status']}, outbox {run['outbox']}, "
                    f"edition {run['edition_status']}, floor sink {floor_counted['messages']}]"
                )
            lines.append(text)
            lines.append(
                f"bench newsletter floor {size}: {floor['seconds']:.1f} s bare smtplib "
                f"({floor_rate:.0f} msg/s, sink counted {floor_counted['messages']}, "
                f"{floor_counted['bytes'] / max(floor_counted['messages'], 1) / 1024:.1f} "
                f"KiB/message); newsletter/floor {ratio:.2f} (goal >= {GOAL_RATIO})"
            )
    return lines, ok


def standalone() -> int:
    """``python bench/newsletter_send.py``: the benchmark alone, in bench/run.py's settings."""
    sys.path.insert(0, str(HERE))
    from run import portal_env

    env = portal_env()
    lines, ok = bench_newsletter(env, log=lambda text: print(text, file=sys.stderr))
    for text in lines:
        print(text, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    main()
