"""Demo applications for seed_demo: one in every state, and a Board vote in progress.

``--size N`` adds N submitted applications to the staff queue, for benchmarks.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from tqdm import tqdm

from accounts.demo import demo_users
from accounts.models import User
from board import services as board
from board.models import Choice
from core.demo import DemoContext

from . import services
from .models import Application, AreaOfWork, DocumentKind, Status

BENCH_APPLICANT = "bench-applicant@example.org"

LETTER = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _letter(name: str = "application-letter.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, LETTER, content_type="application/pdf")


def _fields(name: str, country: str, city: str, category: str, rep: tuple[str, str, str]) -> dict:
    first, last, email = rep
    return {
        "org_name": name,
        "category": category,
        "country": country,
        "city": city,
        "website": "https://example.org/" + name.split()[0].lower(),
        "activities": f"{name} runs neighbourhood crime prevention and victim support programmes.",
        "rep_first_name": first,
        "rep_last_name": last,
        "rep_title": "Executive Director",
        "rep_email": email,
        "rep_phone": "+1 514 555 0100",
        "rep_qualification": "director",
        "rep_declaration": True,
        "motivation": "To learn from other cities and share what our programmes have taught us.",
        "agrees_to_statutes": True,
    }


DEMO = [
    # name, country, city, category, representative, the state to bring it to
    ("Observatoire dakarois de la sécurité", "SN", "Dakar", "institute",
     ("Awa", "Ndiaye", "awa.ndiaye@example.org"), Status.DRAFT),
    ("Youth Safety Coalition", "KE", "Nairobi", "ngo",
     ("Grace", "Wanjiru", "grace.wanjiru@example.org"), Status.SUBMITTED),
    ("Municipalidad de Valparaíso", "CL", "Valparaíso", "city",
     ("Diego", "Fuentes", "diego.fuentes@example.org"), Status.INFO_REQUESTED),
    ("Nordic Centre for Safer Communities", "NO", "Oslo", "institute",
     ("Ingrid", "Solberg", "ingrid.solberg@example.org"), Status.WITH_BOARD),
    ("Brisbane Community Safety Partnership", "AU", "Brisbane", "city",
     ("Liam", "O'Connor", "liam.oconnor@example.org"), Status.APPROVED),
    ("QuickGuard Security Products", "US", "Phoenix", "private",
     ("Brad", "Miller", "brad.miller@example.org"), Status.REJECTED),
    ("Association des quartiers solidaires", "BE", "Liège", "ngo",
     ("Chloé", "Dubois", "chloe.dubois@example.org"), Status.WITHDRAWN),
]  # fmt: skip


def seed(ctx: DemoContext) -> None:
    """Bring one application to each state through the same services the portal uses, then
    ``ctx.size`` benchmark applications if asked."""
    users = demo_users(ctx)
    applicant = users["applicant@example.org"]
    staff = users["staff@example.org"]
    directors = [u for e, u in users.items() if e.startswith(("president", "director"))]
    areas = list(AreaOfWork.objects.all()[:3])
    # The draft comes last: starting an application hands back the applicant's draft, so a draft
    # made first would become the next demo application, and a second run would add it again.
    in_order = sorted(DEMO, key=lambda row: row[-1] == Status.DRAFT)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for name, country, city, category, rep, target in in_order:
            if Application.objects.filter(org_name=name).exists():
                continue
            with transaction.atomic():
                _bring_to(target, applicant, staff, directors, areas,
                          _fields(name, country, city, category, rep))  # fmt: skip
    if ctx.size:
        bulk(ctx.size)


def _bring_to(target, applicant, staff, directors, areas, fields) -> None:
    application = services.start_application(applicant=applicant)
    if target == Status.DRAFT:
        partial = {k: v for k, v in fields.items() if k.startswith(("org", "country", "city"))}
        services.save_draft(application=application, data=partial, areas=areas)
        return
    services.save_draft(application=application, data=fields, areas=areas)
    services.add_document(
        application=application, kind=DocumentKind.LETTER, upload=_letter(), by=applicant
    )
    application = services.submit_application(application=application, by=applicant)
    if target == Status.SUBMITTED:
        return
    if target == Status.WITHDRAWN:
        services.withdraw_application(
            application=application, by=applicant, reason="We will apply after our merger."
        )
        return
    if target == Status.INFO_REQUESTED:
        services.request_information(
            application=application,
            by=staff,
            message="Please send the decision of your municipal council naming the representative.",
        )
        return
    ballot = services.send_to_board(
        application=application,
        by=staff,
        deadline=timezone.now() + datetime.timedelta(days=7),
    )
    if target == Status.WITH_BOARD:
        # A vote in progress: three directors have voted, the President has not.
        voters = [d for d in directors if not d.is_board_president][:3]
        for director, choice in zip(voters, [Choice.FOR, Choice.FOR, Choice.ABSTAIN], strict=True):
            board.cast_vote(ballot=ballot, director=director, choice=choice, comment="")
        return
    choice = Choice.FOR if target == Status.APPROVED else Choice.AGAINST
    for director in directors[:4]:
        board.cast_vote(
            ballot=ballot,
            director=director,
            choice=choice,
            comment="" if choice == Choice.FOR else "Selling products does not fit the statutes.",
        )


def bulk(size: int) -> None:
    """``size`` submitted applications in the staff queue, made with set-based inserts."""
    existing = Application.objects.filter(applicant__email=BENCH_APPLICANT).count()
    missing = max(0, size - existing)
    if not missing:
        return
    applicant, _ = User.objects.get_or_create(
        email=BENCH_APPLICANT, defaults={"first_name": "Bench", "last_name": "Applicant"}
    )
    categories = ["city", "ngo", "institute", "private"]
    countries = ["CA", "FR", "BR", "ZA", "IN", "MX", "BE", "CO", "SN", "AU", "JP", "DE"]
    now = timezone.now()
    batch = 2000
    with tqdm(total=missing, desc="applications", unit="app") as bar:
        for start in range(existing, existing + missing, batch):
            stop = min(start + batch, existing + missing)
            with transaction.atomic():
                Application.objects.bulk_create(
                    Application(
                        reference=f"APP-B{n:07d}",
                        applicant=applicant,
                        status=Status.SUBMITTED if n % 5 else Status.INFO_REQUESTED,
                        org_name=f"Applicant organisation {n:06d}",
                        category=categories[n % 4],
                        country=countries[n % len(countries)],
                        city=f"City {n % 300}",
                        activities="Made by seed_demo --size for benchmarks.",
                        rep_first_name="Bench",
                        rep_last_name=f"Rep {n}",
                        rep_title="Director",
                        rep_email=f"bench-app-rep-{n}@example.org",
                        rep_qualification="director",
                        rep_declaration=True,
                        motivation="Benchmark.",
                        agrees_to_statutes=True,
                        submitted_at=now - datetime.timedelta(hours=n % 2000),
                    )
                    for n in range(start + 1, stop + 1)
                )
            bar.update(stop - start)
