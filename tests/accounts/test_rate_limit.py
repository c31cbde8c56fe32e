"""Failed sign-ins are limited per account: five in five minutes, then even the right password is
refused. The admin's sign-in is allauth's, so the limit protects it too."""

import time

import pytest
from allauth.core.internal import ratelimit

from tests import factories
from tests.accounts.conftest import signed_in_user_id

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-password-at-all"
MISMATCH = "The email address and/or password you specified are not correct."
TOO_MANY = "Too many failed login attempts. Try again later."


def admin_login_url(client) -> str:
    response = client.get("/admin/login/")
    assert response.status_code == 302
    return response["Location"]


def attempt(client, login_url: str, email: str, password: str):
    return client.post(login_url, {"login": email, "password": password, "next": "/admin/"})


def fail_five_times(client, login_url: str, email: str) -> None:
    for number in range(1, 6):
        response = attempt(client, login_url, email, WRONG_PASSWORD)
        assert response.status_code == 200, f"attempt {number}"
        html = response.content.decode()
        assert MISMATCH in html, f"attempt {number}"
        assert TOO_MANY not in html, f"attempt {number}"


@pytest.fixture
def staff(with_totp):
    person = factories.StaffFactory.create(email="staff@example.org")
    with_totp(person)
    return person


def test_sixth_sign_in_within_five_minutes_is_refused_even_with_the_right_password(client, staff):
    login_url = admin_login_url(client)
    assert login_url == "/accounts/login/?next=%2Fadmin%2F"
    fail_five_times(client, login_url, staff.email)

    response = attempt(client, login_url, staff.email, factories.PASSWORD)

    assert response.status_code == 200
    html = response.content.decode()
    assert TOO_MANY in html
    assert MISMATCH not in html
    assert signed_in_user_id(client) is None
    assert "/accounts/2fa/authenticate/" not in response.get("Location", "")


def test_the_limit_counts_the_account_not_the_browser(client, staff):
    login_url = admin_login_url(client)
    fail_five_times(client, login_url, staff.email)
    client.cookies.clear()  # a fresh session does not reset the count

    # The address is matched whatever its case.
    response = attempt(client, login_url, "STAFF@example.org", factories.PASSWORD)

    assert TOO_MANY in response.content.decode()


def test_the_right_password_after_four_failures_still_works(client, staff):
    login_url = admin_login_url(client)
    for _ in range(4):
        attempt(client, login_url, staff.email, WRONG_PASSWORD)

    response = attempt(client, login_url, staff.email, factories.PASSWORD)

    # The password is accepted and the second factor is asked for next.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


def test_failures_for_one_account_do_not_lock_out_another(client, staff):
    other = factories.UserFactory.create(email="colleague@example.org")
    login_url = admin_login_url(client)
    fail_five_times(client, login_url, staff.email)

    response = client.post(
        "/accounts/login/", {"login": other.email, "password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(other.pk)


def test_sign_in_works_again_once_five_minutes_have_passed(client, staff, monkeypatch):
    login_url = admin_login_url(client)
    fail_five_times(client, login_url, staff.email)
    assert TOO_MANY in attempt(client, login_url, staff.email, factories.PASSWORD).content.decode()

    in_five_minutes = time.time() + 5 * 60 + 1

    class Later:
        monotonic = staticmethod(time.monotonic)
        sleep = staticmethod(time.sleep)

        @staticmethod
        def time() -> float:
            return in_five_minutes

    monkeypatch.setattr(ratelimit, "time", Later)
    response = attempt(client, login_url, staff.email, factories.PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
