"""The demo people for seed_demo: an applicant, the Centre's staff, the Board, a representative.

Staff and directors get two-factor authentication (a TOTP key of their own and recovery
codes), since the portal asks them for it. The logins are printed at the end, unless
``--quiet-logins``.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.contrib.auth.models import Group
from django.db import transaction

from core.demo import DemoContext

from .models import BOARD_GROUP, STAFF_GROUP, User

DEMO_PASSWORD = "icpc-demo-2026"  # noqa: S105 - printed for the demo, never used in production
USERS = "users"  # the key under which seed leaves the demo people in ctx.shared


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
    Person(
        "colleague@example.org",
        "Théo",
        "Martin",
        "the representative's colleague (a contact: member fee at events)",
        language="fr",
    ),
]


def seed(ctx: DemoContext) -> None:
    """Make the demo people, and leave them by email in ``ctx.shared`` for the other parts."""
    with transaction.atomic():
        ctx.shared[USERS] = {person.email: _person(person) for person in PEOPLE}


def demo_users(ctx: DemoContext) -> dict[str, User]:
    """The demo people by email, for the parts that run after this one."""
    try:
        return ctx.shared[USERS]
    except KeyError:
        raise RuntimeError(
            "accounts' demo part must run before the parts that use its people"
        ) from None


def summary(ctx: DemoContext) -> None:
    """Print the logins, and each staff member's and director's first recovery codes."""
    if ctx.quiet_logins:
        return
    users = demo_users(ctx)
    out = ctx.stdout
    out.write("")
    out.write(ctx.style.SUCCESS(f"Demo logins (password for everyone: {DEMO_PASSWORD})"))
    for person in PEOPLE:
        out.write(f"  {person.email:<30} {person.role}")
    out.write("")
    out.write(
        "Staff and Board directors have two-factor authentication turned on. When asked for a"
    )
    out.write(
        "code, type one of their recovery codes below (each works once), or add their own key "
        "to an authenticator app."
    )
    for person in PEOPLE:
        if not person.group:
            continue
        user = users[person.email]
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
        codes = RecoveryCodes(authenticator).get_unused_codes()[:3]
        totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        key = decrypt(totp.data["secret"])
        out.write(f"  {person.email:<30} {' '.join(codes) or '(all recovery codes used)'}")
        out.write(f"  {'':<30} key {key}")
    out.write("")


def _person(person: Person) -> User:
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
        _two_factor(user)
    return user


def _two_factor(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        # A key of their own each: one person's authenticator never opens another's account.
        TOTP.activate(user, generate_totp_secret())
    RecoveryCodes.activate(user)  # returns the existing codes when there are some
