"""A person's whole account journey through allauth's pages: sign up, confirm, sign out and in,
reset a forgotten password and change their email address."""

import pytest
from allauth.account.models import EmailAddress

from accounts.models import User
from tests import factories
from tests.accounts.conftest import field_error, input_tag, link_to, signed_in_user_id

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "prevention-through-design-2025"
SUBJECT_PREFIX = "[ICPC] "


def test_sign_up_confirm_email_sign_out_and_sign_in_again(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {"email": "Ana.Silva@Example.org", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    # Verification is mandatory: the person is told to check their inbox, not signed in.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    user = User.objects.get(email__iexact="ana.silva@example.org")
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mailoutbox) == 1
    confirmation = mailoutbox[0]
    assert [address.lower() for address in confirmation.to] == ["ana.silva@example.org"]
    assert confirmation.subject.startswith(SUBJECT_PREFIX)
    assert "confirm" in confirmation.subject.lower()
    confirm_path = link_to(confirmation, "/accounts/confirm-email/")

    # Opening the link shows a confirmation page; only the POST confirms (no confirm-on-GET).
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert not EmailAddress.objects.get(user=user).verified

    response = client.post(confirm_path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert EmailAddress.objects.get(user=user).verified
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get("/accounts/profile/").status_code == 200

    # Signing out takes a POST; the visitor is anonymous again and the profile asks to sign in.
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) is None
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")

    response = client.post(
        "/accounts/login/", {"login": "ana.silva@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert signed_in_user_id(client) == str(user.pk)


def test_sign_out_by_get_only_asks_for_confirmation(client, user):
    client.force_login(user)

    response = client.get("/accounts/logout/")

    assert response.status_code == 200
    assert signed_in_user_id(client) == str(user.pk)


def test_unconfirmed_address_cannot_sign_in(client, mailoutbox):
    factories.UserFactory.create(email="pending@example.org", verified=False)
    EmailAddress.objects.create(
        user=User.objects.get(email="pending@example.org"),
        email="pending@example.org",
        primary=True,
        verified=False,
    )

    response = client.post(
        "/accounts/login/", {"login": "pending@example.org", "password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    # A fresh confirmation link is sent so the person can finish signing up.
    assert [m.to for m in mailoutbox] == [["pending@example.org"]]


def test_bad_password_on_sign_up_is_shown_next_to_the_field_and_keeps_the_email(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {"email": "ana@example.org", "password1": "12345678", "password2": "12345678"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    error = field_error(html, "password1")
    assert error == "This password is too common. This password is entirely numeric."
    assert 'value="ana@example.org"' in input_tag(html, "email")
    assert "is-invalid" in input_tag(html, "password1")
    assert "is-invalid" not in input_tag(html, "email")
    assert not User.objects.filter(email="ana@example.org").exists()
    assert mailoutbox == []


def test_sign_up_with_an_address_already_registered_creates_no_second_account(client, mailoutbox):
    factories.UserFactory.create(email="taken@example.org")

    response = client.post(
        "/accounts/signup/",
        {"email": "taken@example.org", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    # allauth does not reveal that the address exists: same answer as a new sign-up...
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    # ...and the owner of the address is told someone tried to sign up with it.
    assert [m.to for m in mailoutbox] == [["taken@example.org"]]
    assert mailoutbox[0].subject.startswith(SUBJECT_PREFIX)


def test_password_reset_link_sets_a_new_password_that_signs_in(client, mailoutbox):
    user = factories.UserFactory.create(email="forgetful@example.org")

    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["forgetful@example.org"]
    assert message.subject.startswith(SUBJECT_PREFIX)
    assert "password" in message.subject.lower()
    reset_path = link_to(message, "/accounts/password/reset/key/")

    # The key in the link is swapped for the session, so it does not linger in the address bar.
    response = client.get(reset_path)
    assert response.status_code == 302
    set_password_path = response["Location"]
    assert set_password_path.endswith("-set-password/")
    response = client.get(set_password_path)
    assert response.status_code == 200
    assert 'name="password1"' in response.content.decode()

    response = client.post(
        set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    # The new password signs the person in at once (ACCOUNT_LOGIN_ON_PASSWORD_RESET).
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert signed_in_user_id(client) == str(user.pk)
    client.post("/accounts/logout/")

    old = client.post(
        "/accounts/login/", {"login": "forgetful@example.org", "password": factories.PASSWORD}
    )
    assert old.status_code == 200
    assert signed_in_user_id(client) is None

    new = client.post(
        "/accounts/login/", {"login": "forgetful@example.org", "password": NEW_PASSWORD}
    )
    assert new.status_code == 302
    assert new["Location"] == "/accounts/profile/"
    assert signed_in_user_id(client) == str(user.pk)


def test_password_reset_link_works_only_once(client, mailoutbox):
    factories.UserFactory.create(email="forgetful@example.org")
    client.post("/accounts/password/reset/", {"email": "forgetful@example.org"})
    reset_path = link_to(mailoutbox[0], "/accounts/password/reset/key/")
    response = client.get(reset_path, follow=True)
    set_password_path = response.redirect_chain[-1][0]
    client.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = client.get(reset_path, follow=True)

    html = again.content.decode()
    assert 'name="password1"' not in html
    assert "The password reset link was invalid" in html


def test_adding_an_email_address_sends_a_verification_and_confirming_it_replaces_the_old(
    client, mailoutbox
):
    user = factories.UserFactory.create(email="old@example.org")
    client.force_login(user)

    page = client.get("/accounts/email/")
    assert page.status_code == 200

    response = client.post("/accounts/email/", {"email": "new@example.org", "action_add": ""})
    assert response.status_code == 302

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new@example.org"]
    assert message.subject.startswith(SUBJECT_PREFIX)
    assert "confirm" in message.subject.lower()
    confirm_path = link_to(message, "/accounts/confirm-email/")

    # Until the new address is confirmed, the old one stays the login.
    user.refresh_from_db()
    assert user.email == "old@example.org"
    assert not EmailAddress.objects.get(email="new@example.org").verified

    response = client.post(confirm_path)
    assert response.status_code == 302

    user.refresh_from_db()
    assert user.email == "new@example.org"
    assert list(
        EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")
    ) == [("new@example.org", True, True)]

    client.post("/accounts/logout/")
    response = client.post(
        "/accounts/login/", {"login": "new@example.org", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
