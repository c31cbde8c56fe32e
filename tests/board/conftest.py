"""A Board of seven sitting directors, one of them the President, and an application before it."""

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from applications import services as applications
from applications.models import Application, AreaOfWork, DocumentKind
from board import services
from board.models import Ballot, Choice, VotingRule
from members.models import Category, Qualification
from tests import factories

APPLICATION_FIELDS = {
    "org_name": "Observatoire lyonnais de la tranquillité publique",
    "org_acronym": "OLTP",
    "category": Category.NGO,
    "country": "FR",
    "city": "Lyon",
    "website": "https://oltp.example.org",
    "activities": "Runs neighbourhood safety audits with residents and the city prevention teams.",
    "rep_first_name": "Camille",
    "rep_last_name": "Rousseau",
    "rep_title": "Executive Director",
    "rep_email": "camille.rousseau@oltp.example.org",
    "rep_phone": "+33 4 72 00 00 00",
    "rep_qualification": Qualification.DIRECTOR,
    "rep_declaration": True,
    "motivation": "To share our audits with cities abroad and learn from theirs.",
    "agrees_to_statutes": True,
}


@dataclass
class Board:
    president: User
    directors: list[User]  # all seven, the President first

    @property
    def others(self) -> list[User]:
        return self.directors[1:]


@pytest.fixture
def board(db) -> Board:
    president = factories.DirectorFactory(is_board_president=True)
    others = factories.DirectorFactory.create_batch(6)
    return Board(president=president, directors=[president, *others])


@pytest.fixture
def rule(db) -> VotingRule:
    """The rule in force (the migration's): quorum 50 %, for v. against, the President's tie."""
    return services.current_rule()


@pytest.fixture
def staff(db) -> User:
    return factories.StaffFactory()


@pytest.fixture
def applicant(db) -> User:
    return factories.UserFactory(first_name="Alex", last_name="Martin")


def in_days(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def letter(name: str = "Letter to the President.pdf") -> SimpleUploadedFile:
    return factories.pdf_upload(name)


def application_with_board(
    *, applicant: User, staff: User, deadline: datetime.datetime | None = None, **fields
) -> tuple[Application, Ballot]:
    """An application taken through every step up to the Board's vote, by the services."""
    application = applications.start_application(applicant=applicant)
    area, _ = AreaOfWork.objects.get_or_create(
        name_en="Urban safety audits", defaults={"name_fr": "Diagnostics de sécurité"}
    )
    applications.save_draft(
        application=application, data={**APPLICATION_FIELDS, **fields}, areas=[area]
    )
    applications.add_document(
        application=application, kind=DocumentKind.LETTER, upload=letter(), by=applicant
    )
    applications.submit_application(application=application, by=applicant)
    ballot = applications.send_to_board(
        application=application, by=staff, deadline=deadline or in_days(14)
    )
    application.refresh_from_db()
    return application, ballot


@pytest.fixture
def application_and_ballot(board, rule, applicant, staff) -> tuple[Application, Ballot]:
    return application_with_board(applicant=applicant, staff=staff)


@pytest.fixture
def application(application_and_ballot) -> Application:
    return application_and_ballot[0]


@pytest.fixture
def ballot(application_and_ballot) -> Ballot:
    return application_and_ballot[1]


def vote(ballot: Ballot, director: User, choice: Choice, comment: str = ""):
    return services.cast_vote(ballot=ballot, director=director, choice=choice, comment=comment)


def past_deadline(ballot: Ballot) -> Ballot:
    """Move the vote into the past: it opened two days ago and its deadline has just gone."""
    now = timezone.now()
    Ballot.objects.filter(pk=ballot.pk).update(
        opened_at=now - datetime.timedelta(days=2), deadline=now - datetime.timedelta(minutes=1)
    )
    ballot.refresh_from_db()
    return ballot


with_totp = factories.with_totp
