"""Load the demo data: people for every role and a few member organisations.

Running it twice changes nothing. ``--size N`` adds N more member organisations (each with its
representative's account and a membership) with set-based inserts, for benchmarks.
"""

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import BOARD_GROUP, STAFF_GROUP, User
from applications import demo as applications_demo
from members.models import (
    Category,
    Membership,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Qualification,
    Representative,
    yearly_period,
)
from members.services import designate_representative, start_membership

DEMO_PASSWORD = "icpc-demo-2026"  # noqa: S105 - printed for the demo, never used in production
# Base32 TOTP secrets for the demo staff and directors, so they can add them to an app.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
BENCH_PREFIX = "Benchmark organisation"


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    last_name: str
    role: str  # shown in the printed list of logins
    group: str | None = None
    is_superuser: bool = False
    is_president: bool = False
    language: str = "en"


PEOPLE = [
    Person("applicant@example.org", "Amara", "Diallo", "applicant"),
    Person(
        "administration@example.org",
        "Claire",
        "Tremblay",
        "staff (Director of Administration, superuser)",
        STAFF_GROUP,
        is_superuser=True,
        language="fr",
    ),
    Person("staff@example.org", "Jonas", "Weber", "staff", STAFF_GROUP),
    Person(
        "president@example.org",
        "Helena",
        "Costa",
        "Board director, President",
        BOARD_GROUP,
        is_president=True,
    ),
    Person("director2@example.org", "Kwame", "Mensah", "Board director", BOARD_GROUP),
    Person("director3@example.org", "Sofía", "Ramírez", "Board director", BOARD_GROUP),
    Person("director4@example.org", "Marc", "Gagnon", "Board director", BOARD_GROUP, language="fr"),
    Person("director5@example.org", "Priya", "Nair", "Board director", BOARD_GROUP),
    Person("director6@example.org", "Lars", "Eriksen", "Board director", BOARD_GROUP),
    Person("director7@example.org", "Aiko", "Tanaka", "Board director", BOARD_GROUP),
    Person("representative@example.org", "Nadia", "Benali", "member representative", language="fr"),
]

ORGANISATIONS = [
    # name, category, country, city, website, description, representative email, title, kind
    (
        "Ville de Lumière – Bureau de la sécurité urbaine",
        Category.CITY,
        "FR",
        "Lyon",
        "https://example.org/lumiere",
        "Coordinates the city's local safety and crime prevention council.",
        "representative@example.org",
        "Directrice de la prévention",
        Qualification.DIRECTOR,
        MembershipKind.GENERAL,
    ),
    (
        "Safer Streets Alliance",
        Category.NGO,
        "ZA",
        "Cape Town",
        "https://example.org/safer-streets",
        "Community mediation and youth programmes in informal settlements.",
        None,
        "",
        Qualification.EMPLOYEE,
        MembershipKind.GENERAL,
    ),
    (
        "Institute for Urban Safety Research",
        Category.INSTITUTE,
        "CA",
        "Montréal",
        "https://example.org/iusr",
        "Evaluates prevention programmes and trains practitioners.",
        None,
        "",
        Qualification.DIRECTOR,
        MembershipKind.GENERAL,
    ),
    (
        "Red Latinoamericana de Prevención",
        Category.NGO,
        "CO",
        "Bogotá",
        "https://example.org/redlap",
        "A network of municipal prevention officers across Latin America.",
        None,
        "",
        Qualification.ELECTED,
        MembershipKind.GENERAL,
    ),
    (
        "SecureTransit Solutions",
        Category.PRIVATE,
        "DE",
        "Hamburg",
        "https://example.org/securetransit",
        "Designs safer public transport stations with local authorities.",
        None,
        "",
        Qualification.EMPLOYEE,
        MembershipKind.GENERAL,
    ),
    (
        "Emeritus Council on Community Safety",
        Category.INSTITUTE,
        "BE",
        "Brussels",
        "https://example.org/eccs",
        "Long-standing adviser to the Centre, appointed by the Board.",
        None,
        "",
        Qualification.DIRECTOR,
        MembershipKind.HONORARY,
    ),
]


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent). --size N adds N member organisations and N submitted "
        "applications for benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=0,
            help="Also make this many member organisations with their representatives.",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")

    def handle(self, *args, size: int, quiet_logins: bool, **options) -> None:
        with transaction.atomic():
            users = {person.email: self._person(person) for person in PEOPLE}
            self._organisations(users)
        applications_demo.seed(users)
        if size:
            self._bulk_members(size)
            applications_demo.bulk(size)
        if not quiet_logins:
            self._print_logins(users)

    # --- people ---------------------------------------------------------------------------
    def _person(self, person: Person) -> User:
        user, created = User.objects.get_or_create(
            email=person.email,
            defaults={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "is_staff": person.group is not None,
                "is_superuser": person.is_superuser,
                "is_board_president": person.is_president,
                "language": person.language,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        if person.group:
            user.groups.add(Group.objects.get(name=person.group))
            self._two_factor(user)
        return user

    def _two_factor(self, user: User) -> None:
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(user)  # returns the existing codes when there are some

    # --- organisations --------------------------------------------------------------------
    def _organisations(self, users: dict[str, User]) -> None:
        today = timezone.localdate()
        for index, row in enumerate(ORGANISATIONS):
            name, category, country, city, website, description, rep_email, title, qual, kind = row
            organisation, created = Organisation.objects.get_or_create(
                name=name,
                defaults={
                    "category": category,
                    "country": country,
                    "city": city,
                    "website": website,
                    "description": description,
                },
            )
            if not created:
                continue
            rep_user = users.get(rep_email) if rep_email else None
            if rep_user is None:
                local = name.lower().split()[0].replace("é", "e")
                rep_user, _ = User.objects.get_or_create(
                    email=f"{local}.rep{index}@example.org",
                    defaults={"first_name": "Demo", "last_name": f"Representative {index}"},
                )
                title = title or "Executive Director"
            designate_representative(
                organisation=organisation,
                user=rep_user,
                title=title,
                qualification=qual,
                on=today - datetime.timedelta(days=400 + 90 * index),
            )
            start_membership(
                organisation=organisation,
                kind=kind,
                on=today - datetime.timedelta(days=30 + 75 * index),
                by=users["administration@example.org"],
                reason="Demo data",
            )

    # --- benchmark volume -----------------------------------------------------------------
    def _bulk_members(self, size: int) -> None:
        existing = Organisation.objects.filter(name__startswith=BENCH_PREFIX).count()
        missing = max(0, size - existing)
        if not missing:
            self.stdout.write(f"{existing} benchmark organisations already there.")
            return
        categories = list(Category.values)
        countries = ["CA", "FR", "BR", "ZA", "IN", "MX", "BE", "CO", "SN", "AU", "JP", "DE"]
        password = make_password(None)
        today = timezone.localdate()
        batch = 2000
        with tqdm(total=missing, desc="member organisations", unit="org") as bar:
            for start in range(existing, existing + missing, batch):
                stop = min(start + batch, existing + missing)
                numbers = range(start + 1, stop + 1)
                with transaction.atomic():
                    orgs = Organisation.objects.bulk_create(
                        Organisation(
                            name=f"{BENCH_PREFIX} {n:06d}",
                            category=categories[n % len(categories)],
                            country=countries[n % len(countries)],
                            city=f"City {n % 500}",
                            website=f"https://example.org/org-{n}",
                            description="Made by seed_demo --size for benchmarks.",
                        )
                        for n in numbers
                    )
                    people = User.objects.bulk_create(
                        User(
                            email=f"bench-rep-{n:06d}@example.org",
                            first_name="Bench",
                            last_name=f"Representative {n}",
                            password=password,
                        )
                        for n in numbers
                    )
                    Representative.objects.bulk_create(
                        Representative(
                            organisation=org,
                            user=person,
                            title="Programme Director",
                            qualification=Qualification.DIRECTOR,
                            started_on=today,
                        )
                        for org, person in zip(orgs, people, strict=True)
                    )
                    period_start, period_end = yearly_period(today)
                    memberships = Membership.objects.bulk_create(
                        Membership(
                            organisation=org,
                            kind=MembershipKind.GENERAL,
                            status=MembershipStatus.ACTIVE,
                            started_on=today,
                            period_start=period_start,
                            period_end=period_end,
                        )
                        for org in orgs
                    )
                    MembershipStatusChange.objects.bulk_create(
                        MembershipStatusChange(
                            membership=m,
                            to_status=MembershipStatus.ACTIVE,
                            reason="Benchmark data",
                        )
                        for m in memberships
                    )
                bar.update(stop - start)

    # --- output ---------------------------------------------------------------------------
    def _print_logins(self, users: dict[str, User]) -> None:
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"Demo logins (password for everyone: {DEMO_PASSWORD})"))
        for person in PEOPLE:
            out.write(f"  {person.email:<30} {person.role}")
        out.write("")
        out.write(
            "Staff and Board directors have two-factor authentication turned on. When asked for a"
        )
        out.write(
            "code, type one of their recovery codes below (each works once), or add the key "
            f"{DEMO_TOTP_SECRET} to an authenticator app."
        )
        for person in PEOPLE:
            if not person.group:
                continue
            authenticator = Authenticator.objects.get(
                user=users[person.email], type=Authenticator.Type.RECOVERY_CODES
            )
            codes = RecoveryCodes(authenticator).get_unused_codes()[:3]
            out.write(f"  {person.email:<30} {' '.join(codes) or '(all recovery codes used)'}")
        out.write("")
