"""The admin is reached through allauth's sign-in, and only with two-factor authentication."""

import functools
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import BOARD_GROUP, STAFF_GROUP, User
from tests import factories
from tests.accounts.conftest import change_form_data, current_totp_code, signed_in_user_id

pytestmark = pytest.mark.django_db

ADMIN_TITLE = "ICPC Portal administration"
MFA_AUTHENTICATE = "/accounts/2fa/authenticate/"


def admin_sign_in(client, sign_in_with_password, user):
    """Start where a person typing the admin's address starts, and sign in with a password."""
    response = client.get("/admin/", follow=True)
    login_url = response.redirect_chain[-1][0]
    assert login_url == "/accounts/login/?next=%2Fadmin%2F"
    return sign_in_with_password(client, user.email, login_url=login_url)


def test_admin_login_page_sends_anonymous_visitors_to_allauth_sign_in(client):
    response = client.get("/admin/login/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_admin_login_keeps_where_the_visitor_was_going(client):
    response = client.get("/admin/login/?next=/admin/members/organisation/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fmembers%2Forganisation%2F"


def test_admin_login_ignores_a_next_on_another_site(client):
    response = client.get("/admin/login/?next=https://evil.example.com/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


@pytest.mark.parametrize(
    "factory",
    [factories.StaffFactory, functools.partial(factories.DirectorFactory, two_factor=False)],
    ids=["staff", "director"],
)
def test_staff_without_two_factor_is_sent_to_set_up_an_authenticator_not_the_admin(
    client, sign_in_with_password, factory
):
    person = factory()

    response = admin_sign_in(client, sign_in_with_password, person)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in_user_id(client) == str(person.pk)

    response = client.get("/admin/", follow=True)

    hops = [url for url, _status in response.redirect_chain]
    activate_url = f"{reverse('mfa_activate_totp')}?next=%2Fadmin%2F"
    assert hops[:2] == ["/admin/login/?next=/admin/", activate_url]
    # allauth asks for the password once more before an authenticator may be added.
    assert response.status_code == 200
    assert response.resolver_match.url_name == "account_reauthenticate"
    html = response.content.decode()
    assert "The administration requires two-factor authentication" in html
    assert ADMIN_TITLE not in html

    response = client.post(
        "/accounts/reauthenticate/", {"password": factories.PASSWORD, "next": activate_url}
    )
    assert response["Location"] == activate_url
    response = client.get(activate_url)
    assert response.status_code == 200
    assert response.resolver_match.url_name == "mfa_activate_totp"
    assert ADMIN_TITLE not in response.content.decode()

    # Every admin page stays closed, not only the index.
    for path in ["/admin/", "/admin/accounts/user/", "/admin/members/organisation/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path


def test_staff_who_activates_totp_through_the_pages_then_reaches_the_admin(
    client, sign_in_with_password
):
    person = factories.StaffFactory.create()
    admin_sign_in(client, sign_in_with_password, person)
    client.post("/accounts/reauthenticate/", {"password": factories.PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = re.search(r'id="authenticator_secret"\s+value="([A-Z2-7]+)"', page.content.decode())
    assert secret, "the activation page shows no secret"

    response = client.post(
        reverse("mfa_activate_totp"), {"code": current_totp_code(secret.group(1))}
    )

    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 200
    assert ADMIN_TITLE in response.content.decode()


def test_staff_with_totp_enters_the_code_after_the_password_and_reaches_the_admin(
    client, sign_in_with_password, with_totp, totp_secret
):
    person = factories.StaffFactory.create()
    with_totp(person)

    response = admin_sign_in(client, sign_in_with_password, person)

    # The password alone does not sign in: allauth asks for the second factor.
    assert response.status_code == 302
    assert response["Location"] == MFA_AUTHENTICATE
    assert signed_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302

    response = client.post(MFA_AUTHENTICATE, {"code": current_totp_code(totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in_user_id(client) == str(person.pk)

    response = client.get("/admin/")
    assert response.status_code == 200
    assert response.resolver_match.url_name == "index"
    html = response.content.decode()
    assert "<title>Membership, applications and the Board | ICPC Portal</title>" in html
    assert f'<a href="/admin/">{ADMIN_TITLE}</a>' in html


def test_wrong_totp_code_is_refused(client, sign_in_with_password, with_totp, totp_secret):
    person = factories.StaffFactory.create()
    with_totp(person)
    admin_sign_in(client, sign_in_with_password, person)
    wrong = f"{(int(current_totp_code(totp_secret)) + 1) % 1_000_000:06d}"

    response = client.post(MFA_AUTHENTICATE, {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_recovery_code_also_opens_the_admin_once(client, sign_in_with_password, with_totp):
    person = factories.DirectorFactory.create(two_factor=False)
    recovery_codes = with_totp(person)

    admin_sign_in(client, sign_in_with_password, person)
    response = client.post(MFA_AUTHENTICATE, {"code": recovery_codes[0]})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    response = client.get("/admin/")
    assert response.status_code == 200
    assert ADMIN_TITLE in response.content.decode()

    # A used recovery code does not work a second time.
    client.post("/accounts/logout/")
    admin_sign_in(client, sign_in_with_password, person)
    response = client.post(MFA_AUTHENTICATE, {"code": recovery_codes[0]})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_signed_in_person_who_is_not_staff_is_refused_the_admin(client, sign_in_with_password):
    person = factories.UserFactory.create()
    sign_in_with_password(client, person.email)
    assert signed_in_user_id(client) == str(person.pk)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert ADMIN_TITLE not in response.content.decode()
    assert client.get("/admin/accounts/user/", follow=True).status_code == 403


def test_inactive_staff_cannot_sign_in_to_the_admin(client, sign_in_with_password, with_totp):
    person = factories.StaffFactory.create(is_active=False)
    with_totp(person)

    response = admin_sign_in(client, sign_in_with_password, person)

    assert signed_in_user_id(client) is None
    assert response["Location"] == "/accounts/inactive/"


@pytest.fixture
def admin_client_for(client, with_totp):
    """A client signed in (with two-factor authentication on) as the given person."""

    def sign_in(person):
        with_totp(person)
        client.force_login(person)
        return client

    return sign_in


def test_staff_sees_roles_as_read_only_when_editing_a_person(admin_client_for):
    staff = admin_client_for(factories.StaffFactory.create())
    person = factories.UserFactory.create()

    response = staff.get(f"/admin/accounts/user/{person.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="first_name"' in html
    for role_field in [
        "is_superuser",
        "groups",
        "is_staff",
        "user_permissions",
        "is_board_president",
    ]:
        assert f'name="{role_field}"' not in html, role_field
        assert f"field-{role_field}" in html, role_field  # still shown, read-only


def test_staff_cannot_make_anyone_a_superuser_or_change_their_groups(admin_client_for):
    staff = admin_client_for(factories.StaffFactory.create())
    person = factories.UserFactory.create(first_name="Ana")
    board = Group.objects.get(name=BOARD_GROUP)
    form = change_form_data(staff.get(f"/admin/accounts/user/{person.pk}/change/").content.decode())

    response = staff.post(
        f"/admin/accounts/user/{person.pk}/change/",
        {
            **form,
            "first_name": "Ana Maria",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [str(board.pk)],
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.first_name == "Ana Maria"  # the edit itself went through
    assert not person.is_superuser
    assert not person.is_staff
    assert not person.groups.exists()


def test_a_superuser_can_hand_out_roles(admin_client_for):
    superuser = admin_client_for(factories.UserFactory.create(is_staff=True, is_superuser=True))
    person = factories.UserFactory.create()
    staff_group = Group.objects.get(name=STAFF_GROUP)

    html = superuser.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert 'name="is_superuser"' in html
    assert 'name="groups"' in html
    response = superuser.post(
        f"/admin/accounts/user/{person.pk}/change/",
        {**change_form_data(html), "is_staff": "on", "groups": [str(staff_group.pk)]},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(pk=person.pk)
    assert person.is_staff
    assert list(person.groups.values_list("name", flat=True)) == [STAFF_GROUP]


@pytest.mark.parametrize(
    "target",
    [
        lambda: factories.DirectorFactory.create(),
        lambda: factories.StaffFactory.create(),
        lambda: factories.UserFactory.create(is_superuser=True, is_staff=True),
    ],
    ids=["director", "staff", "superuser"],
)
def test_staff_cannot_change_the_account_of_anyone_with_a_role_in_the_admin(
    client, with_totp, target
):
    staff = factories.StaffFactory.create()
    with_totp(staff)
    client.force_login(staff)
    person = target()

    change = client.get(f"/admin/accounts/user/{person.pk}/change/")
    password = client.get(f"/admin/accounts/user/{person.pk}/password/")
    posted = client.post(
        f"/admin/accounts/user/{person.pk}/change/", {"email": person.email, "is_active": ""}
    )

    assert b'name="is_active"' not in change.content  # a read-only page, if any
    assert password.status_code == 403
    assert posted.status_code == 403
    person.refresh_from_db()
    assert person.is_active
