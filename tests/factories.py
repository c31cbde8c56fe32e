import datetime

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import BOARD_GROUP, STAFF_GROUP, User
from members.models import (
    Category,
    Membership,
    MembershipKind,
    Organisation,
    Qualification,
    Representative,
    yearly_period,
)

PASSWORD = "correct-horse-battery-staple"


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
            obj.groups.add(Group.objects.get(name=STAFF_GROUP))


class DirectorFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def role(obj: User, create: bool, extracted, **kwargs) -> None:
        if create:
            obj.groups.add(Group.objects.get(name=BOARD_GROUP))


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
