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
    Contact,
    EndReason,
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
from .services import designate_representative, end_membership, start_membership

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


LIFECYCLE = [
    # name, category, country, city, member since (days ago), state
    ("Observatorio Municipal de Convivencia", Category.CITY, "CL", "Valparaíso", 345, "notice"),
    ("Kenya Safer Neighbourhoods Trust", Category.NGO, "KE", "Nairobi", 352, "confirmed"),
    ("Centre for Youth Justice Studies", Category.INSTITUTE, "AU", "Melbourne", 320, "resigning"),
    ("Nordic Safety Lab", Category.PRIVATE, "SE", "Malmö", 300, "flagged"),
    ("Ciudad Segura Consultores", Category.PRIVATE, "MX", "Puebla", 900, "resigned"),
    ("Collectif des quartiers solidaires", Category.NGO, "SN", "Dakar", 1200, "dismissed"),
    ("Metro Watch Volunteers", Category.NGO, "GB", "Leeds", 700, "disqualified"),
    ("Safe Harbour Logistics", Category.PRIVATE, "NL", "Rotterdam", 500, "dismissal_vote"),
]


def seed(ctx: DemoContext) -> None:
    """The demo organisations and members in every state of the lifecycle, then ``ctx.size``
    benchmark organisations if asked."""
    users = demo_users(ctx)
    with transaction.atomic():
        _organisations(users)
    with transaction.atomic():
        _lifecycle(users)
    with transaction.atomic():
        _contacts(users)
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
        # The demo representative's membership renews in three weeks: its notice awaits them.
        days_ago = 345 if index == 0 else 30 + 75 * index
        start_membership(
            organisation=organisation,
            kind=kind,
            on=today - datetime.timedelta(days=days_ago),
            by=users["administration@example.org"],
            reason="Demo data",
        )


def _lifecycle(users: dict[str, User]) -> None:
    """A member in each state, each put there by the services staff and members use: renewals
    due in the coming weeks with their notices (one unanswered), a resignation taking effect at
    the end of the period, a member flagged as no longer qualifying, members that ended
    (resigned, dismissed, no longer qualifying), an open dismissal vote, an honorary person and
    a change of representative awaiting the staff."""
    from board.models import Ballot

    from .services import member as member_actions
    from .services import propose_dismissal
    from .services import renewal as renewals
    from .services import staff as staff_actions

    today = timezone.localdate()
    staff = users["administration@example.org"]
    for index, (name, category, country, city, days_ago, state) in enumerate(LIFECYCLE):
        if Organisation.objects.filter(name=name).exists():
            continue
        organisation = Organisation.objects.create(
            name=name,
            category=category,
            country=country,
            city=city,
            website=f"https://example.org/lifecycle-{index}",
            description="A demo member in one state of the membership lifecycle.",
        )
        representative, _ = User.objects.get_or_create(
            email=f"lifecycle.rep{index}@example.org",
            defaults={"first_name": "Demo", "last_name": f"Member {index}"},
        )
        designate_representative(
            organisation=organisation,
            user=representative,
            title="Head of Prevention",
            qualification=Qualification.EMPLOYEE,
            on=today - datetime.timedelta(days=days_ago),
        )
        membership = start_membership(
            organisation=organisation,
            kind=MembershipKind.GENERAL,
            on=today - datetime.timedelta(days=days_ago),
            by=staff,
            reason="Demo data",
        )
        if state == "resigning":
            member_actions.resign_membership(
                membership=membership,
                by=representative,
                at_period_end=True,
                note="Our prevention unit is merging into the regional government's.",
            )
        elif state == "flagged":
            staff_actions.flag_not_qualifying(
                membership=membership,
                by=staff,
                reason="The company no longer runs prevention projects (annual report).",
                end_now=False,
            )
        elif state == "resigned":
            member_actions.resign_membership(
                membership=membership, by=representative, at_period_end=False, note=""
            )
        elif state == "dismissed":
            end_membership(
                membership=membership,
                reason=EndReason.DISMISSED,
                note="Used the Centre's name to endorse a private security contract.",
                on=today - datetime.timedelta(days=40),
                by=staff,
                tell=False,
            )
        elif state == "disqualified":
            staff_actions.flag_not_qualifying(
                membership=membership,
                by=staff,
                reason="The association was dissolved in March.",
                end_now=True,
            )
        elif state == "dismissal_vote" and not Ballot.objects.about(organisation).exists():
            propose_dismissal(
                organisation=organisation,
                cause="Repeatedly presented the Centre's logo on commercial offers.",
                deadline=timezone.now() + datetime.timedelta(days=12),
                by=staff,
            )
    # Renewals coming up in the next thirty days get their notice; one is then answered.
    renewals.send_renewal_notices(on=today)
    confirmed = Membership.objects.filter(
        organisation__name="Kenya Safer Neighbourhoods Trust"
    ).first()
    notice = confirmed.renewal_notices.unanswered().first() if confirmed else None
    if notice is not None and confirmed is not None:
        member_actions.answer_renewal_notice(
            notice=notice,
            by=confirmed.organisation.representatives.get().user,  # type: ignore[union-attr]
            confirmed=True,
        )
    _honorary_person(staff, today)
    _change_of_representative(users)


def _honorary_person(staff: User, today: datetime.date) -> None:
    person, _ = User.objects.get_or_create(
        email="honorary@example.org",
        defaults={"first_name": "Irvin", "last_name": "Waller", "language": "en"},
    )
    if not Membership.objects.filter(person=person).exists():
        start_membership(
            person=person,
            kind=MembershipKind.HONORARY,
            on=today - datetime.timedelta(days=800),
            by=staff,
            reason="Appointed an honorary member by the Board (demo data).",
        )


def _contacts(users: dict[str, User]) -> None:
    """The demo representative's colleague is one of the organisation's contacts."""
    representative = users["representative@example.org"]
    colleague = users["colleague@example.org"]
    current = Representative.objects.current().filter(user=representative).first()
    if current is None or Contact.objects.filter(user=colleague).exists():
        return
    Contact.objects.create(
        organisation=current.organisation, user=colleague, added_by=representative
    )


def _change_of_representative(users: dict[str, User]) -> None:
    from .services import member as member_actions

    organisation = Organisation.objects.filter(name="Red Latinoamericana de Prevención").first()
    if organisation is None or organisation.representative_changes.exists():
        return
    current = Representative.objects.current().filter(organisation=organisation).first()
    if current is None:
        return
    member_actions.ask_representative_change(
        organisation=organisation,
        by=current.user,
        first_name="Lucía",
        last_name="Fernández",
        email="lucia.fernandez@example.org",
        language="fr",
        title="Coordinadora de la red",
        qualification=Qualification.ELECTED,
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
