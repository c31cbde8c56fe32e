"""Pages for a wrong address or a forbidden one speak the portal's language and offer a way on."""

import pytest

from tests import factories


@pytest.mark.django_db
def test_a_wrong_address_answers_with_the_portals_own_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "This page is not here" in html
    assert 'href="/"' in html


@pytest.mark.django_db
def test_a_signed_in_person_without_a_role_is_told_the_admin_is_not_for_them(client):
    client.force_login(factories.UserFactory.create())

    response = client.get("/admin/login/")

    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()
