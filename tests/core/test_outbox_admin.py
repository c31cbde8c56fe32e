"""Staff see the outbox: what was sent, what waits, what failed; never a sign-in link."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import OutboxStatus
from tests import factories
from tests.core.conftest import make_row
from tests.factories import with_totp

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:core_outboxmessage_changelist")
SECRET_LINK = "https://portal.example.org/accounts/password/reset/key/s3cr3t-t0k3n/"


def change_page(row) -> str:
    return reverse("admin:core_outboxmessage_change", args=[row.pk])


def send_again_url(row) -> str:
    return reverse("admin:core_outboxmessage_send_again", args=[row.pk])


def test_staff_see_each_email_with_its_recipient_subject_purpose_and_status(staff_client):
    make_row(to="alice@example.org", subject="[ICPC] Renewal", purpose="renewal:2027:4")
    make_row(to="bob@example.org", subject="[ICPC] Vote", status=OutboxStatus.FAILED)

    page = staff_client.get(CHANGELIST)

    assert page.status_code == 200
    html = page.content.decode()
    for text in ("alice@example.org", "[ICPC] Renewal", "renewal:2027:4", "Pending"):
        assert text in html
    assert "bob@example.org" in html and "Failed" in html


def test_staff_search_the_outbox_by_recipient(staff_client):
    make_row(to="alice@example.org")
    make_row(to="bob@example.org")

    html = staff_client.get(CHANGELIST, {"q": "alice"}).content.decode()

    assert "alice@example.org" in html
    assert "bob@example.org" not in html


def test_staff_filter_the_outbox_by_status(staff_client):
    make_row(to="waiting@example.org")
    make_row(to="failed@example.org", status=OutboxStatus.FAILED)

    html = staff_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()

    assert "failed@example.org" in html
    assert "waiting@example.org" not in html


def test_a_body_with_a_sign_in_link_is_never_shown(staff_client, superuser_client):
    row = make_row(subject="[ICPC] Password reset", body=f"Reset: {SECRET_LINK}", sensitive=True)

    for client in (staff_client, superuser_client):  # not even to a superuser
        change = client.get(change_page(row)).content.decode()
        assert "s3cr3t-t0k3n" not in change
        assert "The body is hidden: it carries a sign-in, reset or invitation link." in change
        assert "s3cr3t-t0k3n" not in client.get(CHANGELIST).content.decode()
        # Nor can a search on the body tell whether it holds a given link.
        assert "Password reset" not in client.get(CHANGELIST, {"q": "s3cr3t"}).content.decode()


@pytest.mark.parametrize(
    "lookup", ["body__contains", "body__startswith", "html_body__contains", "headers__icontains"]
)
def test_a_filter_in_the_address_cannot_probe_a_hidden_body(staff_client, superuser_client, lookup):
    """A body filter in the URL would answer "is this the link?" one character at a time."""
    make_row(subject="[ICPC] Password reset", body=f"Reset: {SECRET_LINK}", sensitive=True)

    for client in (staff_client, superuser_client):
        probe = client.get(CHANGELIST, {lookup: "s3cr3t"})
        assert probe.status_code != 200 or "Password reset" not in probe.content.decode()
        # However the admin refuses it (an error page or a redirect that drops the filter),
        # a wrong guess and a right one look the same.
        wrong = client.get(CHANGELIST, {lookup: "n0t-1t"})
        assert (probe.status_code, probe.get("Location")) == (
            wrong.status_code,
            wrong.get("Location"),
        )


def test_an_ordinary_body_is_shown_to_staff(staff_client):
    row = make_row(body="Your membership is renewed until 2027-12-31.")

    html = staff_client.get(change_page(row)).content.decode()

    assert "Your membership is renewed until 2027-12-31." in html


def test_the_outbox_cannot_be_edited_or_emptied_by_hand(superuser_client):
    row = make_row()

    assert superuser_client.get(reverse("admin:core_outboxmessage_add")).status_code == 403
    html = superuser_client.get(change_page(row)).content.decode()
    assert 'name="_save"' not in html
    assert superuser_client.post(change_page(row), {"subject": "Changed"}).status_code == 403
    delete = reverse("admin:core_outboxmessage_delete", args=[row.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.subject == "[ICPC] Your renewal"


def test_people_without_the_permission_do_not_see_the_outbox(client):
    director = with_totp(factories.DirectorFactory())
    client.force_login(director)
    row = make_row()

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_page(row)).status_code == 403
    assert client.post(send_again_url(row)).status_code == 403


def test_staff_send_a_failed_email_again_from_its_page(
    staff_client, outbox, django_capture_on_commit_callbacks
):
    row = make_row(status=OutboxStatus.FAILED, attempts=10, last_error="SMTPServerDisconnected")
    assert "Send again" in staff_client.get(change_page(row)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(send_again_url(row))

    assert response.status_code == 302
    assert response["Location"] == change_page(row)
    assert [(m.to, m.subject) for m in outbox] == [(["member@example.org"], "[ICPC] Your renewal")]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    assert LogEntry.objects.filter(object_id=str(row.pk), change_message="Sent again.").exists()
    assert "Send again" not in staff_client.get(change_page(row)).content.decode()


def test_staff_send_failed_emails_again_from_the_list(
    staff_client, outbox, django_capture_on_commit_callbacks
):
    failed = make_row(to="failed@example.org", status=OutboxStatus.FAILED, attempts=10)
    sent = make_row(to="sent@example.org", status=OutboxStatus.SENT, sent_at=failed.created_at)

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            CHANGELIST, {"action": "send_again", "_selected_action": [failed.pk, sent.pk]}
        )

    assert [m.to for m in outbox] == [["failed@example.org"]]  # the sent one is not sent twice
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.SENT


def test_a_sent_email_is_not_sent_again(staff_client, outbox, django_capture_on_commit_callbacks):
    row = make_row(status=OutboxStatus.SENT, sent_at=make_row().created_at)
    assert "Send again" not in staff_client.get(change_page(row)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(send_again_url(row))

    assert outbox == []


def test_the_list_costs_the_same_queries_whatever_the_number_of_emails(staff_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(CHANGELIST).status_code == 200
        return len(captured)

    make_row()
    queries()  # the first request reads the person's account, later ones keep it
    few = queries()
    for n in range(30):
        make_row(to=f"member{n}@example.org")

    assert queries() == few
