"""The demo member organisations for seed_demo, and ``--size N`` more for benchmarks.

The demo organisations get their representative and membership through the same services staff
use; the benchmark ones are made with set-based inserts, so ten thousand take seconds.
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.demo import demo_users
from accounts.models import User
from core.demo import DemoContext

from .models import (
    Category,
    Membership,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Qualification,
    Representative,
    RepresentativeStatus,
    RepresentativeStatusChange,
    yearly_period,
)
from .services import designate_representative, start_membership

BENCH_PREFIX = "Benchmark organisation"

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


def seed(ctx: DemoContext) -> None:
    """The demo organisations, then ``ctx.size`` benchmark organisations if asked."""
    with transaction.atomic():
        _organisations(demo_users(ctx))
    if ctx.size:
        _bulk_members(ctx, ctx.size)


def _organisations(users: dict[str, User]) -> None:
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


def _bulk_members(ctx: DemoContext, size: int) -> None:
    """Member organisations up to ``size`` benchmark ones, each with its representative's
    account and an active membership, in batches of set-based inserts."""
    existing = Organisation.objects.filter(name__startswith=BENCH_PREFIX).count()
    missing = max(0, size - existing)
    if not missing:
        ctx.stdout.write(f"{existing} benchmark organisations already there.")
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
                representatives = Representative.objects.bulk_create(
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
                        note="Benchmark data",
                    )
                    for m in memberships
                )
                RepresentativeStatusChange.objects.bulk_create(
                    RepresentativeStatusChange(
                        representative=r,
                        to_status=RepresentativeStatus.CURRENT,
                        note="Benchmark data",
                    )
                    for r in representatives
                )
            bar.update(stop - start)
