"""seed_demo: core's frame runs each app's demo part; running it again changes nothing."""

import re
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.apps import apps
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, PEOPLE
from accounts.models import User
from applications.demo import DEMO as DEMO_APPLICATIONS
from applications.models import Application
from core.demo import demo_parts
from members.demo import BENCH_PREFIX, ORGANISATIONS
from members.models import Membership, Organisation, Representative

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("postgres")


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.db_table: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


def test_seeding_twice_changes_nothing():
    seed("--quiet-logins")
    first = row_counts()
    seed("--quiet-logins")

    assert row_counts() == first
    assert first["accounts_user"] >= len(PEOPLE)
    assert first["applications_application"] == len(DEMO_APPLICATIONS)


def test_size_adds_that_many_member_organisations_once():
    seed("--quiet-logins")
    before = row_counts()

    seed("--quiet-logins", "--size", "5")
    after = row_counts()
    bench = Organisation.objects.filter(name__startswith=BENCH_PREFIX)
    assert bench.count() == 5
    assert after["members_organisation"] == before["members_organisation"] + 5
    assert Representative.objects.filter(organisation__in=bench).count() == 5
    assert Membership.objects.filter(organisation__in=bench, status="active").count() == 5
    assert after["applications_application"] == before["applications_application"] + 5

    out = seed("--quiet-logins", "--size", "5")
    assert row_counts() == after
    assert "5 benchmark organisations already there." in out


def test_the_logins_are_printed_unless_quiet():
    out = seed()
    assert f"Demo logins (password for everyone: {DEMO_PASSWORD})" in out
    for person in PEOPLE:
        assert person.email in out
    # Each staff member and director is printed with three of their recovery codes.
    with_codes = re.findall(r"^  (\S+@example\.org) +\d{8} \d{8} \d{8}$", out, re.MULTILINE)
    assert with_codes == [person.email for person in PEOPLE if person.group]

    quiet = seed("--quiet-logins")
    assert DEMO_PASSWORD not in quiet
    assert "example.org" not in quiet


def test_staff_and_directors_sign_in_with_the_demo_password_and_two_factor():
    seed("--quiet-logins")
    for person in PEOPLE:
        user = User.objects.get(email=person.email)
        assert user.check_password(DEMO_PASSWORD)
        assert EmailAddress.objects.get(user=user).verified
        kinds = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
        expected = {"totp", "recovery_codes"} if person.group else set()
        assert kinds == expected, person.email
    # Each has a key of their own: one person's authenticator never opens another's account.
    keys = [
        decrypt(totp.data["secret"])
        for totp in Authenticator.objects.filter(type=Authenticator.Type.TOTP)
    ]
    assert len(keys) == len({*keys}) == sum(1 for p in PEOPLE if p.group)


def test_the_printed_logins_give_each_their_own_key():
    out = seed()
    keys = re.findall(r"^\s+key (\S+)$", out, re.M)
    assert len(keys) == len(set(keys)) == sum(1 for p in PEOPLE if p.group)


def test_every_app_with_a_demo_module_takes_part_in_installed_apps_order():
    ours = {path.parent.name for path in ROOT.glob("*/apps.py")}
    with_demo = {name for name in ours if (ROOT / name / "demo.py").exists()} - {"core"}
    installed = [config.name for config in apps.get_app_configs()]

    parts = [part.__name__.removesuffix(".demo") for part in demo_parts()]

    assert set(parts) == with_demo
    assert {"accounts", "members", "applications"} <= set(parts)
    assert parts == sorted(parts, key=installed.index)

    seed("--quiet-logins")
    assert User.objects.filter(email__in=[p.email for p in PEOPLE]).count() == len(PEOPLE)
    names = [row[0] for row in ORGANISATIONS]
    assert Organisation.objects.filter(name__in=names, memberships__isnull=False).count() == len(
        names
    )
    by_name = dict(Application.objects.values_list("org_name", "status"))
    assert by_name == {row[0]: row[-1] for row in DEMO_APPLICATIONS}
