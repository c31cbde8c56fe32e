"""The demo events for seed_demo: upcoming and past events of every kind, an annual meeting with
two professional visits, the AGM with registrations, a full seminar with a waitlist, a
cancelled event and a draft. Registrations go through the same service people use."""

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.demo import demo_users
from accounts.models import User
from core.demo import DemoContext
from members.models import MembershipKind, Representative

from . import services
from .models import (
    Event,
    EventKind,
    EventLanguage,
    EventStatus,
    FeeAudience,
    FeeTier,
    Registration,
    RegistrationStatus,
)


class Tier(NamedTuple):
    name: str
    audience: str
    amount: int
    until_days: int | None = None  # early-bird: the last day, counted from today


class DemoEvent(NamedTuple):
    slug: str
    kind: str
    title: str
    summary: str
    in_days: int
    hours: int
    zone: str
    city: str
    country: str
    language: str
    capacity: int | None
    currency: str = "CAD"
    tiers: tuple[Tier, ...] = ()
    parent: str = ""
    status: str = EventStatus.PUBLISHED
    online: bool = False
    venue: str = ""
    requires_meeting: bool = False


MEMBER_AND_PUBLIC = (
    Tier("Member fee", FeeAudience.MEMBERS, 120),
    Tier("Non-member fee", FeeAudience.EVERYONE, 220),
)

EVENTS = [
    DemoEvent(
        "webinar-youth-violence-online",
        EventKind.WEBINAR,
        "Webinar: preventing youth violence online",
        "Researchers and city practitioners on what works against online recruitment and "
        "harassment of young people.",
        10,
        2,
        "America/Montreal",
        "",
        "",
        EventLanguage.ENGLISH,
        300,
        online=True,
    ),
    DemoEvent(
        "seminaire-securite-des-femmes",
        EventKind.SEMINAR,
        "Séminaire : la sécurité des femmes dans l'espace public",
        "Marches exploratoires, aménagement urbain et transports : retours d'expérience de "
        "villes membres.",
        25,
        7,
        "Europe/Paris",
        "Lyon",
        "FR",
        EventLanguage.FRENCH,
        60,
        "EUR",
        (
            Tier("Tarif membre", FeeAudience.MEMBERS, 120),
            Tier("Tarif non-membre", FeeAudience.EVERYONE, 220),
            Tier("Inscription anticipée", FeeAudience.EVERYONE, 180, 10),
        ),
        venue="Hôtel de Ville de Lyon",
    ),
    DemoEvent(
        "night-time-economy-seminar",
        EventKind.SEMINAR,
        "Seminar: the night-time economy and safety",
        "Bars, transport and policing after dark: a small working seminar, seats limited.",
        40,
        6,
        "Europe/London",
        "Leeds",
        "GB",
        EventLanguage.ENGLISH,
        3,
        "EUR",
        MEMBER_AND_PUBLIC,
        venue="Leeds Civic Hall",
    ),
    DemoEvent(
        "colloquium-2027",
        EventKind.COLLOQUIUM,
        "International Colloquium on Crime Prevention and Community Safety 2027",
        "Three days on prevention policies that last: evaluation, funding and partnerships "
        "between cities, police and communities.",
        70,
        56,
        "America/Montreal",
        "Montréal",
        "CA",
        EventLanguage.INTERPRETED,
        250,
        "CAD",
        (
            Tier("Member fee", FeeAudience.MEMBERS, 450),
            Tier("Non-member fee", FeeAudience.EVERYONE, 650),
            Tier("Early-bird member fee", FeeAudience.MEMBERS, 380, 30),
            Tier("Student", FeeAudience.ASSIGNED, 150),
            Tier("Speaker", FeeAudience.ASSIGNED, 0),
        ),
        venue="Palais des congrès de Montréal",
    ),
    DemoEvent(
        "annual-meeting-2027",
        EventKind.ANNUAL_MEETING,
        "Annual meeting 2027: safer cities in Africa",
        "The Centre's annual meeting, hosted by a member city, with professional visits.",
        120,
        32,
        "Africa/Johannesburg",
        "Cape Town",
        "ZA",
        EventLanguage.ENGLISH,
        150,
        "USD",
        (
            Tier("Member fee", FeeAudience.MEMBERS, 300),
            Tier("Non-member fee", FeeAudience.EVERYONE, 450),
        ),
        venue="Cape Town International Convention Centre",
    ),
    DemoEvent(
        "visit-community-safety-centre",
        EventKind.VISIT,
        "Visit: a community safety centre in Khayelitsha",
        "A morning with the centre's mediators and youth workers.",
        121,
        4,
        "Africa/Johannesburg",
        "Cape Town",
        "ZA",
        EventLanguage.ENGLISH,
        25,
        "USD",
        (Tier("Visit fee", FeeAudience.EVERYONE, 40),),
        parent="annual-meeting-2027",
        requires_meeting=True,
    ),
    DemoEvent(
        "visit-violence-prevention-unit",
        EventKind.VISIT,
        "Visit: the city's violence prevention unit",
        "How the unit works with health services and schools.",
        122,
        3,
        "Africa/Johannesburg",
        "Cape Town",
        "ZA",
        EventLanguage.ENGLISH,
        20,
        "USD",
        parent="annual-meeting-2027",
    ),
    DemoEvent(
        "agm-2027",
        EventKind.AGM,
        "Annual General Meeting 2027",
        "The members' General Meeting: the year's report, the accounts and the Board's "
        "election. General members vote through their representative.",
        123,
        3,
        "Africa/Johannesburg",
        "Cape Town",
        "ZA",
        EventLanguage.INTERPRETED,
        None,
        "USD",
        (Tier("Members", FeeAudience.MEMBERS, 0),),
        venue="Cape Town International Convention Centre",
    ),
    DemoEvent(
        "seminar-urban-safety-bogota",
        EventKind.SEMINAR,
        "Seminar: urban safety in Bogotá",
        "Postponed to next year.",
        50,
        6,
        "America/Bogota",
        "Bogotá",
        "CO",
        EventLanguage.SPANISH,
        80,
        "USD",
        MEMBER_AND_PUBLIC,
        status=EventStatus.CANCELLED,
    ),
    DemoEvent(
        "seminar-schools-and-prevention",
        EventKind.SEMINAR,
        "Seminar: schools and prevention (in preparation)",
        "A draft the staff are still writing.",
        150,
        6,
        "America/Montreal",
        "Québec",
        "CA",
        EventLanguage.FRENCH,
        40,
        "CAD",
        MEMBER_AND_PUBLIC,
        status=EventStatus.DRAFT,
    ),
    DemoEvent(
        "webinar-safety-audits",
        EventKind.WEBINAR,
        "Webinar: local safety audits",
        "How to run a local safety audit, with the Centre's guide.",
        -30,
        2,
        "America/Montreal",
        "",
        "",
        EventLanguage.ENGLISH,
        200,
        online=True,
    ),
    DemoEvent(
        "colloquium-2025",
        EventKind.COLLOQUIUM,
        "International Colloquium 2025",
        "Prevention in a changing world: the 2025 colloquium.",
        -300,
        48,
        "Europe/Paris",
        "Paris",
        "FR",
        EventLanguage.INTERPRETED,
        200,
        "EUR",
        MEMBER_AND_PUBLIC,
    ),
    DemoEvent(
        "annual-meeting-2026",
        EventKind.ANNUAL_MEETING,
        "Annual meeting 2026",
        "The 2026 annual meeting.",
        -200,
        24,
        "America/Mexico_City",
        "Mexico City",
        "MX",
        EventLanguage.SPANISH,
        120,
        "USD",
        MEMBER_AND_PUBLIC,
    ),
]


def seed(ctx: DemoContext) -> None:
    users = demo_users(ctx)
    with transaction.atomic():
        created = _events()
    if created:
        _registrations(users)


def _events() -> bool:
    if Event.objects.filter(slug__in=[item.slug for item in EVENTS]).exists():
        return False
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    by_slug: dict[str, Event] = {}
    for item in EVENTS:
        start = (now + datetime.timedelta(days=item.in_days)).replace(hour=13)
        event = Event.objects.create(
            kind=item.kind,
            status=EventStatus.PUBLISHED if item.status == EventStatus.CANCELLED else item.status,
            title=item.title,
            slug=item.slug,
            summary=item.summary,
            programme="09:00 Welcome\n09:30 Opening session\n11:00 Workshops\n"
            "14:00 Field experience from member cities\n16:30 Conclusions",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=item.hours),
            time_zone=item.zone,
            online=item.online,
            venue=item.venue,
            city=item.city,
            country=item.country,
            language=item.language,
            capacity=item.capacity,
            currency=item.currency,
            cancellation_cutoff=start - datetime.timedelta(days=7) if item.in_days > 14 else None,
            payment_instructions="Bank transfer to the Centre (account details on the invoice), "
            "or by card at the desk. Quote your payment reference.",
            parent=by_slug.get(item.parent),
            requires_parent_registration=item.requires_meeting,
        )
        today = timezone.localdate()
        FeeTier.objects.bulk_create(
            FeeTier(
                event=event,
                name=tier.name,
                audience=tier.audience,
                amount=Decimal(tier.amount),
                available_until=today + datetime.timedelta(days=tier.until_days)
                if tier.until_days is not None
                else None,
                position=position,
            )
            for position, tier in enumerate(item.tiers)
        )
        by_slug[item.slug] = event
    return True


DETAILS = {"job_title": "", "dietary_needs": "", "accessibility_needs": "", "listed": True}


def _register(event: Event, user: User, organisation: str = "") -> None:
    services.register(
        event=event,
        user=user,
        details={
            **DETAILS,
            "first_name": user.first_name or "Demo",
            "last_name": user.last_name or "Attendee",
            "organisation_name": organisation,
        },
    )


def _registrations(users: dict[str, User]) -> None:
    events = {
        event.slug: event for event in Event.objects.filter(slug__in=[e.slug for e in EVENTS])
    }
    representative = users["representative@example.org"]
    colleague = users["colleague@example.org"]
    staff = users["administration@example.org"]
    # The demo member registers with a colleague at the member fee; a non-member too.
    for slug in ("colloquium-2027", "annual-meeting-2027"):
        _register(events[slug], representative)
        _register(events[slug], colleague)
        _register(events[slug], users["applicant@example.org"])
    _register(events["visit-community-safety-centre"], representative)
    # The full seminar: three seats taken, two waiting (the member first, though she came last).
    full = events["night-time-economy-seminar"]
    for email in ("director2@example.org", "director3@example.org", "applicant@example.org"):
        _register(full, users[email])
    _register(full, users["director5@example.org"])
    _register(full, representative)
    # The AGM: the general members' representatives who registered, and an honorary member.
    agm = events["agm-2027"]
    representatives = (
        Representative.objects.current()
        .filter(organisation__memberships__status="active")
        .select_related("user", "organisation")
        .order_by("organisation__name")
    )
    for index, current in enumerate(representatives):
        if index % 3 == 2:
            continue  # not every member comes
        try:
            _register(agm, current.user, current.organisation.name)
        except ValidationError:  # a lapsed member may not register: the demo goes on
            continue
    honorary = User.objects.filter(
        honorary_memberships__status="active", honorary_memberships__kind=MembershipKind.HONORARY
    ).first()
    if honorary is not None:
        _register(agm, honorary)
    # Past events: the demo member attended them.
    for slug in ("webinar-safety-audits", "colloquium-2025"):
        event = events[slug]
        Registration.objects.create(
            event=event,
            user=representative,
            status=RegistrationStatus.CONFIRMED,
            first_name=representative.first_name,
            last_name=representative.last_name,
            email=representative.email,
            fee_basis="member",
            fee_name="Member fee" if event.fee_tiers.exists() else "",
            amount=Decimal(120 if event.fee_tiers.exists() else 0),
            currency=event.currency,
            registered_at=event.starts_at - datetime.timedelta(days=20),
            confirmed_at=event.starts_at - datetime.timedelta(days=20),
            attended_at=event.starts_at,
            paid_at=event.starts_at - datetime.timedelta(days=10),
        )
        Event.objects.filter(pk=event.pk).update(seats_taken=1)
    # The cancelled seminar: cancelled by the staff after a registration.
    cancelled = events["seminar-urban-safety-bogota"]
    _register(cancelled, users["director6@example.org"])
    services.cancel_event(
        event=cancelled, by=staff, reason="The venue is unavailable; it moves to next year."
    )


def summary(ctx: DemoContext) -> None:
    ctx.stdout.write(
        f"Events: {Event.objects.count()} (see /events/); the demo representative and their "
        "colleague are registered at the member fee."
    )
