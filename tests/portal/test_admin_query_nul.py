"""A NUL character in the admin's query string (which PostgreSQL refuses in text) answers the
portal's 400 page, whatever the list, filter or search it was aimed at, never a server error."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/applications/application/",
    "/admin/members/organisation/",
    "/admin/members/representative/",
    "/admin/members/membership/",
    "/admin/board/ballot/",
    "/admin/core/outboxmessage/",
    "/admin/accounts/user/",
    "/admin/applications/areaofwork/",
]


@pytest.fixture
def superuser(client):
    client.force_login(
        factories.with_totp(factories.UserFactory.create(is_staff=True, is_superuser=True))
    )
    return client


@pytest.fixture
def staff(client):
    client.force_login(factories.with_totp(factories.StaffFactory.create()))
    return client


def assert_refused(response) -> None:
    assert response.status_code == 400
    html = response.content.decode()
    assert "The address of the page holds a character the portal does not accept." in html
    assert "Go to the home page" in html


@pytest.mark.parametrize("changelist", CHANGELISTS)
@pytest.mark.parametrize(
    "query", ["status=%00", "country=%00", "category=%00", "q=%00", "%00=1", "status=ok%00"]
)
def test_a_nul_in_a_changelists_query_answers_the_400_page(superuser, postgres, changelist, query):
    response = superuser.get(f"{changelist}?{query}")

    assert_refused(response)


@pytest.mark.parametrize(
    "query",
    [
        "category__exact=%00",
        "country__exact=%00",
        "age=%00",
        "show=%00",
        "kind=%00",
        "outcome__exact=%00",
    ],
)
def test_a_nul_in_any_named_filter_answers_the_400_page(superuser, postgres, query):
    for changelist in ["/admin/applications/application/", "/admin/board/ballot/"]:
        assert_refused(superuser.get(f"{changelist}?{query}"))


def test_staff_get_the_same_page(staff, postgres):
    factories.SubmittedApplicationFactory()

    assert_refused(staff.get("/admin/applications/application/?status=%00"))
    assert_refused(staff.get("/admin/applications/application/?country=%00"))
    assert_refused(staff.get("/admin/applications/application/?category=%00"))


def test_a_nul_in_another_admin_page_is_refused_too(superuser, postgres):
    application = factories.SubmittedApplicationFactory()

    response = superuser.get(
        f"/admin/applications/application/{application.pk}/change/?_changelist_filters=%00"
    )

    assert_refused(response)


def test_the_same_filters_without_a_nul_still_work(superuser, postgres):
    factories.SubmittedApplicationFactory(org_name="Safer Streets", country="CA")

    response = superuser.get(
        "/admin/applications/application/?status=all&country=CA&category=ngo&q=Safer"
    )

    assert response.status_code == 200
    assert [a.org_name for a in response.context["cl"].result_list] == ["Safer Streets"]


def test_an_unknown_filter_value_is_an_ordinary_empty_list(superuser):
    factories.SubmittedApplicationFactory()

    response = superuser.get("/admin/applications/application/?status=no-such-status")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
