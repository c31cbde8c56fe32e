"""Pages for a wrong address, a forbidden one, a request too big to read or a failure of the portal
speak the portal's language and offer a way on."""

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import translation

from tests import factories
from tests.factories import PDF, pdf_upload


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


# --- A request over Django's limits ----------------------------------------------------------

FILLER = "Prévention de la criminalité dans les quartiers. "  # accented, as French answers are


def pdf_of_size(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes: the small real one, with a comment line to fill it."""
    head = b"%PDF-1.4\n%"
    rest = b"\n" + PDF[len(b"%PDF-1.4\n") :]
    return head + b"x" * (size - len(head) - len(rest)) + rest


@pytest.fixture
def draft(db):
    applicant = factories.UserFactory.create()
    return factories.ApplicationFactory.create(applicant=applicant)


@pytest.fixture
def applicant_client(client, draft):
    client.force_login(draft.applicant)
    return client


def edit_url(draft) -> str:
    return f"/applications/{draft.pk}/edit/"


def test_too_much_text_answers_the_portals_400_page_saying_what_was_too_big(
    applicant_client, draft
):
    motivation = "x" * (3 * 1024 * 1024)

    response = applicant_client.post(
        edit_url(draft), {"org_name": "Safer Streets", "motivation": motivation}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "The portal could not read what was sent" in html
    assert "The form sent more than 2.5\xa0MB of text, the most the portal accepts." in html
    assert "what you typed is usually still there" in html
    assert "My applications" in html  # the portal's own page, with the person's menu
    draft.refresh_from_db()
    assert draft.org_name == ""


def test_too_many_files_answer_the_400_page_saying_how_many_are_allowed(
    applicant_client, draft, settings
):
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    files = [pdf_upload(f"page-{n}.pdf") for n in range(limit + 1)]

    response = applicant_client.post(edit_url(draft), {"supporting": files})

    assert response.status_code == 400
    html = response.content.decode()
    assert f"The form sent more than {limit} files at once" in html
    assert not draft.documents.exists()


def test_the_largest_legitimate_application_fits_in_one_request(applicant_client, draft):
    ten_mb = 10 * 1024 * 1024
    long_text = FILLER * (200_000 // len(FILLER))  # some 30 pages each

    response = applicant_client.post(
        edit_url(draft),
        {
            "activities": long_text,
            "motivation": long_text,
            "letter": pdf_upload("letter.pdf", pdf_of_size(ten_mb)),
            "supporting": [
                pdf_upload("statutes.pdf", pdf_of_size(ten_mb)),
                pdf_upload("annual-report.pdf", pdf_of_size(ten_mb)),
            ],
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.motivation == long_text.strip()
    assert sorted(d.size for d in draft.documents.all()) == [ten_mb] * 3


def test_an_application_scanned_page_by_page_fits_in_one_request(applicant_client, draft):
    pages = [pdf_upload(f"statutes-page-{n}.pdf") for n in range(150)]

    response = applicant_client.post(edit_url(draft), {"supporting": pages})

    assert response.status_code == 302
    assert draft.documents.count() == 150


# --- A failure of the portal itself ----------------------------------------------------------


class BrokenUser:
    """A request whose signed-in person cannot be read (the database is down, say)."""

    def __getattr__(self, name):
        raise RuntimeError("the request context is broken")


def test_the_500_page_is_the_portals_and_needs_neither_database_nor_request():
    # No database access is allowed in this test: pytest-django refuses it.
    request = RequestFactory().get("/applications/")
    request.user = BrokenUser()
    handler = get_resolver().resolve_error_handler(500)

    with translation.override("en"):
        response = handler(request)

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "/static/css/portal.css" in html
    assert "Membership portal" in html
    assert 'href="/"' in html


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.broken_urls")
def test_an_error_in_a_page_answers_the_portals_500_page():
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.broken_urls")
def test_the_500_page_speaks_the_language_of_the_page():
    client = Client(raise_request_exception=False)

    response = client.get("/fr/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert 'href="/fr/"' in html
