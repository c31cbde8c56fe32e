"""The admin's "Change password" leads to allauth's page, which is rate-limited: five attempts a
minute per person, then even the right password is refused for a while."""

import re

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

CHANGE_PASSWORD = "/accounts/password/change/"
NEW_PASSWORD = "a-brand-new-passphrase-2025"
WRONG = "not-my-password-at-all"


@pytest.fixture
def staff(client, with_totp):
    person = factories.StaffFactory.create()
    with_totp(person)
    client.force_login(person)
    client.person = person
    return client


def change(client, old_password: str):
    return client.post(
        CHANGE_PASSWORD,
        {"oldpassword": old_password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def test_the_admins_change_password_link_leads_to_allauths_page(staff):
    html = staff.get("/admin/").content.decode()
    link = re.search(r'<a href="([^"]+)">Change password</a>', html)
    assert link, "the admin shows no link to change one's password"

    response = staff.get(link.group(1), follow=True)

    assert response.redirect_chain == [(CHANGE_PASSWORD, 302)]
    assert response.status_code == 200
    assert response.resolver_match.url_name == "account_change_password"


def test_the_admins_own_password_form_changes_nothing(staff):
    response = staff.post(
        "/admin/password_change/",
        {
            "old_password": factories.PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == CHANGE_PASSWORD
    staff.person.refresh_from_db()
    assert staff.person.check_password(factories.PASSWORD)


def test_a_sixth_attempt_within_a_minute_is_refused_even_with_the_right_password(staff):
    for attempt in range(1, 6):
        response = change(staff, WRONG)
        assert response.status_code == 200, f"attempt {attempt}"

    response = change(staff, factories.PASSWORD)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    staff.person.refresh_from_db()
    assert staff.person.check_password(factories.PASSWORD)


def test_the_right_password_within_the_limit_changes_it(staff):
    response = change(staff, factories.PASSWORD)

    assert response.status_code == 302
    staff.person.refresh_from_db()
    assert staff.person.check_password(NEW_PASSWORD)
