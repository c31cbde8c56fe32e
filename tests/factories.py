"""Factories and small test data every test folder uses: people, organisations, applications,
a real PDF, and an authenticator for the admin's two factors."""

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import BOARD_GROUP, STAFF_GROUP, User
from applications.models import Application, ApplicationEvent, Status
from events.models import Event, EventKind, EventStatus, FeeAudience, FeeTier
from members.models import (
    Category,
    Contact,
    Membership,
    MembershipKind,
    Organisation,
    Qualification,
    Representative,
    yearly_period,
)
from newsletter.models import (
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberSource,
    SubscriberStatus,
    Topic,
)

PASSWORD = "correct-horse-battery-staple"

# A small but real PDF: the upload checks read the content, not the name.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_upload(name: str = "letter.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def with_totp(user: User, secret: str | None = None) -> User:
    """Turn on an authenticator app for ``user``: the admin lets no one in without it."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret or generate_totp_secret())
    return user


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj: User, create: bool, extracted, **kwargs) -> None:
        """Users have a verified primary email, as after allauth's confirmation."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def role(obj: User, create: bool, extracted, **kwargs) -> None:
        if create:
            # After a transactional test's flush the group is gone: make it again.
            obj.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])


class DirectorFactory(UserFactory):
    """A sitting director who can vote: in the Board group, with an authenticator app (the
    admin, where the Board votes, lets no one in without it). ``two_factor=False`` for one who
    has not set it up yet."""

    is_staff = True

    @factory.post_generation
    def role(obj: User, create: bool, extracted, **kwargs) -> None:
        if create:
            obj.groups.add(Group.objects.get(name=BOARD_GROUP))

    @factory.post_generation
    def two_factor(obj: User, create: bool, extracted, **kwargs) -> None:
        if create and extracted is not False:
            with_totp(obj)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Safer Cities Network {n}")
    category = Category.CITY
    country = "CA"
    city = "Montréal"
    website = "https://example.org"
    description = "Works with neighbourhoods on crime prevention."


class RepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representative

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    title = "Director of Prevention"
    qualification = Qualification.DIRECTOR
    started_on = factory.LazyFunction(datetime.date.today)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    kind = MembershipKind.GENERAL
    started_on = factory.LazyFunction(datetime.date.today)
    period_start = factory.LazyAttribute(lambda o: yearly_period(o.started_on)[0])
    period_end = factory.LazyAttribute(lambda o: yearly_period(o.started_on)[1])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)


class EventFactory(factory.django.DjangoModelFactory):
    """A published seminar in Montréal a month from now, with ten seats."""

    class Meta:
        model = Event

    kind = EventKind.SEMINAR
    status = EventStatus.PUBLISHED
    title = factory.Sequence(lambda n: f"Safer streets seminar {n}")
    slug = factory.Sequence(lambda n: f"safer-streets-{n}")
    summary = "How cities prevent crime with their neighbourhoods."
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=8))
    city = "Montréal"
    country = "CA"
    venue = "Maison du développement durable"
    capacity = 10


class FeeTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeTier

    event = factory.SubFactory(EventFactory)
    name = "Non-member fee"
    audience = FeeAudience.EVERYONE
    amount = 250


def with_member_and_public_fees(event: Event, *, member: int = 150, public: int = 250) -> Event:
    """The usual pair: the member fee and the non-member fee."""
    FeeTierFactory(event=event, name="Member fee", audience=FeeAudience.MEMBERS, amount=member)
    FeeTierFactory(event=event, name="Non-member fee", audience=FeeAudience.EVERYONE, amount=public)
    return event


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A draft, as just started by its applicant (with its history; ``history=False`` for none)."""

    class Meta:
        model = Application
        skip_postgeneration_save = True

    applicant = factory.SubFactory(UserFactory)

    @factory.post_generation
    def history(obj: Application, create: bool, extracted, **kwargs) -> None:
        if not create or extracted is False:
            return
        events = [ApplicationEvent(application=obj, to_status=Status.DRAFT, actor=obj.applicant)]
        if obj.status != Status.DRAFT:
            events.append(
                ApplicationEvent(
                    application=obj,
                    from_status=Status.DRAFT,
                    to_status=obj.status,
                    actor=obj.applicant,
                )
            )
        ApplicationEvent.objects.bulk_create(events)


class SubmittedApplicationFactory(ApplicationFactory):
    """A complete application in the staff queue (references in 1999, clear of today's count)."""

    status = Status.SUBMITTED
    reference = factory.Sequence(lambda n: f"APP-1999-{n + 1:04d}")
    submitted_at = factory.LazyFunction(timezone.now)
    org_name = factory.Sequence(lambda n: f"Community Safety Council {n}")
    category = "ngo"
    country = "FR"
    city = "Lyon"
    activities = "Prevention work with young people."
    rep_first_name = "Jeanne"
    rep_last_name = "Martin"
    rep_title = "Director"
    rep_email = factory.Sequence(lambda n: f"rep{n}@example.org")
    rep_qualification = "director"
    rep_declaration = True
    motivation = "To share what works."
    agrees_to_statutes = True


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    name_en = factory.Sequence(lambda n: f"Topic {n}")
    name_fr = factory.Sequence(lambda n: f"Thème {n}")


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A confirmed public subscriber reading in English."""

    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.net")
    language = "en"
    status = SubscriberStatus.SUBSCRIBED
    source = SubscriberSource.PUBLIC
    confirmed_at = factory.LazyFunction(timezone.now)


class EditionFactory(factory.django.DjangoModelFactory):
    """A draft to everyone, written in both languages."""

    class Meta:
        model = Edition

    subject_en = factory.Sequence(lambda n: f"News from the network {n}")
    subject_fr = factory.Sequence(lambda n: f"Nouvelles du réseau {n}")
    body_en = (
        "Dear members,\n\n## This month\n\n- **Safer** streets\n- [Read more](https://example.org)"
    )
    body_fr = "Chers membres,\n\n## Ce mois-ci\n\n- Des rues **plus sûres**"
    status = EditionStatus.DRAFT
