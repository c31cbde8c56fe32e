"""The staff's desk in the admin: the to-do panel, notes for the Board, the history button,
the action pages and the CSV export."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, ApplicationEvent, ApplicationNote, NoteKind, Status
from board.models import Ballot, MajorityBasis, TieRule
from members.models import MembershipStatusChange
from tests.applications.conftest import SubmittedApplicationFactory
from tests.factories import DirectorFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

QUEUE = "/admin/applications/application/"


def moved(application: Application, source: str, target: str, *, minutes: int, note: str = ""):
    return ApplicationEvent.objects.create(
        application=application,
        from_status=source,
        to_status=target,
        at=timezone.now() + datetime.timedelta(minutes=minutes),
        note=note,
    )


def answered_application(**fields) -> Application:
    application = SubmittedApplicationFactory(**fields)
    moved(
        application, Status.SUBMITTED, Status.INFO_REQUESTED, minutes=1, note="Send the statutes."
    )
    moved(application, Status.INFO_REQUESTED, Status.SUBMITTED, minutes=2, note="Here they are.")
    return application


def back_from_board(**fields) -> Application:
    application = SubmittedApplicationFactory(**fields)
    moved(application, Status.SUBMITTED, Status.WITH_BOARD, minutes=1)
    moved(application, Status.WITH_BOARD, Status.SUBMITTED, minutes=2, note="No quorum.")
    return application


def ballot_on(application: Application, *, closes_in: datetime.timedelta) -> Ballot:
    return Ballot.objects.create(
        kind="application",
        subject_type=ContentType.objects.get_for_model(Application),
        subject_id=application.pk,
        subject_label=f"{application.reference} – {application.org_name}",
        deadline=timezone.now() + closes_in,
        quorum_percent=50,
        majority=MajorityBasis.FOR_AND_AGAINST,
        tie=TieRule.REJECTED,
        opened_by=StaffFactory(),
    )


def render_panel(user) -> str:
    request = RequestFactory().get("/admin/")
    request.user = user
    return Template("{% load staff_desk %}{% staff_todo %}").render(Context({"request": request}))


def panel_rows(html: str, caption: str) -> str:
    start = html.index(caption)
    end = html.find("</table>", start)
    return html[start:end]


# --- The to-do panel ---------------------------------------------------------------------------


def test_the_admin_home_opens_on_the_staff_to_do_panel(staff_client):
    fresh = SubmittedApplicationFactory(org_name="Fresh Council")
    answered = answered_application(org_name="Answering Council")
    returned = back_from_board(org_name="Returned Council")
    closing = SubmittedApplicationFactory(org_name="Voting Council", status=Status.WITH_BOARD)
    later = SubmittedApplicationFactory(org_name="Later Council", status=Status.WITH_BOARD)
    soon = ballot_on(closing, closes_in=datetime.timedelta(hours=20))
    ballot_on(later, closes_in=datetime.timedelta(days=5))

    html = staff_client.get("/admin/").content.decode()

    assert 'id="staff-todo"' in html
    to_check = panel_rows(html, "Waiting for a check")
    assert f'href="{QUEUE}{fresh.pk}/change/"' in to_check
    assert "Answering Council" not in to_check and "Returned Council" not in to_check
    answers = panel_rows(html, "Answers received")
    assert f'href="{QUEUE}{answered.pk}/change/"' in answers
    assert "Fresh Council" not in answers
    votes = panel_rows(html, "Votes closing within 48 hours")
    assert f'href="/admin/board/ballot/{soon.pk}/change/"' in votes
    assert "Later Council" not in votes
    back = panel_rows(html, "Back from the Board without a decision")
    assert f'href="{QUEUE}{returned.pk}/change/"' in back
    assert "Fresh Council" not in back


@pytest.mark.parametrize("rows", [1, 6])
def test_the_to_do_panel_costs_seven_queries_whatever_its_length(django_assert_num_queries, rows):
    staff = StaffFactory(is_superuser=True)
    for _ in range(rows):
        SubmittedApplicationFactory()
        answered_application()
        back_from_board()
        ballot_on(
            SubmittedApplicationFactory(status=Status.WITH_BOARD),
            closes_in=datetime.timedelta(hours=3),
        )
    # Two for the applications, five for the memberships (renewals overdue, notices, changes of
    # representative, resignations, flags).
    with django_assert_num_queries(7):
        html = render_panel(staff)
    assert html.count("/change/") == 4 * rows


def test_the_to_do_panel_is_not_shown_to_people_who_do_not_check_applications(db):
    SubmittedApplicationFactory()
    assert "staff-todo" not in render_panel(DirectorFactory())


# --- The application's page --------------------------------------------------------------------


def test_the_application_page_shows_the_exchange_with_the_applicant_first(staff_client):
    application = answered_application()
    html = staff_client.get(f"{QUEUE}{application.pk}/change/").content.decode()
    assert 'id="exchange"' in html
    assert html.index("Send the statutes.") < html.index("Here they are.")
    assert html.index('id="exchange"') < html.index("The organisation")


def test_staff_write_a_recommendation_the_board_reads_and_the_applicant_never_sees(
    staff_client, staff_user, client
):
    application = answered_application()
    page = staff_client.get(f"{QUEUE}{application.pk}/note/")
    assert page.status_code == 200
    response = staff_client.post(
        f"{QUEUE}{application.pk}/note/",
        {"kind": NoteKind.RECOMMENDATION, "text": "Admit: strong prevention record."},
    )
    assert response.status_code == 302
    staff_client.post(
        f"{QUEUE}{application.pk}/note/",
        {"kind": NoteKind.INTERNAL, "text": "Called the director on Monday."},
    )

    note = ApplicationNote.objects.get(kind=NoteKind.RECOMMENDATION)
    assert (note.application, note.author) == (application, staff_user)
    assert application.board_recommendation == note
    html = staff_client.get(f"{QUEUE}{application.pk}/change/").content.decode()
    assert "Admit: strong prevention record." in html
    assert "Called the director on Monday." in html

    client.force_login(application.applicant)
    own_page = client.get(f"/applications/{application.pk}/")
    assert "Admit: strong prevention record." not in own_page.content.decode()
    assert "Called the director on Monday." not in own_page.content.decode()


def test_an_empty_note_is_refused(staff_client):
    application = SubmittedApplicationFactory()
    response = staff_client.post(
        f"{QUEUE}{application.pk}/note/", {"kind": NoteKind.INTERNAL, "text": "  "}
    )
    assert response.status_code == 200
    assert not ApplicationNote.objects.exists()


@pytest.mark.parametrize("action", ["request-information", "send-to-board", "note"])
def test_the_action_pages_show_the_application_they_act_on(staff_client, action):
    application = SubmittedApplicationFactory(org_name="Safer Lyon", org_acronym="SL")
    html = staff_client.get(f"{QUEUE}{application.pk}/{action}/").content.decode()
    summary = html[html.index('id="acting-on"') : html.index("</dl>")]
    for shown in (application.reference, "Safer Lyon", "France", "Jeanne", "Submitted"):
        assert shown in summary


def test_the_history_button_shows_the_application_status_history(staff_client):
    application = back_from_board()
    html = staff_client.get(f"{QUEUE}{application.pk}/history/").content.decode()
    assert 'id="status-history"' in html
    assert "No quorum." in html
    assert "With the Board for a vote" in html


def test_the_history_button_shows_the_membership_status_history(staff_client):
    membership = MembershipFactory()
    MembershipStatusChange.objects.create(
        membership=membership, from_status="", to_status=membership.status, note="Admitted."
    )
    url = f"/admin/members/membership/{membership.pk}/history/"
    html = staff_client.get(url).content.decode()
    assert 'id="status-history"' in html
    assert "Admitted." in html


# --- The CSV export ----------------------------------------------------------------------------


def test_the_export_streams_the_filtered_and_searched_queue(staff_client):
    SubmittedApplicationFactory(org_name="Lyon Safety", country="FR")
    SubmittedApplicationFactory(org_name="Lyon Youth", country="FR", category="city")
    SubmittedApplicationFactory(org_name="Quebec Safety", country="CA")
    SubmittedApplicationFactory(org_name="=HYPERLINK(1)", country="FR")

    response = staff_client.get(f"{QUEUE}export.csv?country=FR&category=ngo&q=Lyon")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "Lyon Safety" in body
    assert "Lyon Youth" not in body
    assert "Quebec Safety" not in body
    assert "HYPERLINK" not in body


def test_the_export_does_not_run_formulas_in_a_spreadsheet(staff_client):
    SubmittedApplicationFactory(org_name="=HYPERLINK(1)")
    response = staff_client.get(f"{QUEUE}export.csv")
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in body


def test_the_queue_links_to_the_export_of_what_it_shows(staff_client):
    html = staff_client.get(f"{QUEUE}?country=FR").content.decode()
    assert f'href="{QUEUE}export.csv?country=FR"' in html


# --- Areas of work -----------------------------------------------------------------------------


def test_each_editable_cell_of_the_areas_of_work_list_has_a_name(staff_client):
    from applications.models import AreaOfWork

    area = AreaOfWork.objects.order_by("position").first() or AreaOfWork.objects.create(
        name_en="Policing", name_fr="Police"
    )
    html = staff_client.get("/admin/applications/areaofwork/").content.decode()
    assert f'aria-label="Position: {area.name_en}"' in html
    assert html.count('aria-label="Position: ') == AreaOfWork.objects.count()


def test_directors_read_the_recommendation_but_never_the_internal_notes(client, staff_user):
    from applications import services as application_services
    from tests.factories import DirectorFactory, SubmittedApplicationFactory, with_totp

    application = SubmittedApplicationFactory()
    application_services.add_staff_note(
        application=application, by=staff_user, kind="recommendation", text="Admit them."
    )
    application_services.add_staff_note(
        application=application, by=staff_user, kind="internal", text="Their treasurer is slow."
    )
    client.force_login(with_totp(DirectorFactory()))

    page = client.get(
        reverse("admin:applications_application_change", args=[application.pk])
    ).content.decode()

    assert "Admit them." in page
    assert "Their treasurer is slow." not in page


def test_directors_cannot_export_the_applicants_list(client):
    from tests.factories import DirectorFactory, with_totp

    client.force_login(with_totp(DirectorFactory()))

    listing = client.get(reverse("admin:applications_application_changelist")).content.decode()
    export = client.get(reverse("admin:applications_application_export_csv"))

    assert "Export this list (CSV)" not in listing
    assert export.status_code == 403


def test_a_renewal_the_daily_job_missed_is_shown_to_the_staff_not_before(db):
    staff = StaffFactory()
    today = timezone.localdate()
    missed = MembershipFactory(
        organisation__name="Missed Renewal City",
        period_start=today - datetime.timedelta(days=367),
        period_end=today - datetime.timedelta(days=3),
    )
    MembershipFactory(  # renews today: the job has not run yet today, nothing is wrong
        organisation__name="Renews Today City",
        period_start=today - datetime.timedelta(days=365),
        period_end=today - datetime.timedelta(days=1),
    )

    html = render_panel(staff)

    assert 'id="todo-overdue"' in html
    assert "Missed Renewal City" in html and f"/members/membership/{missed.pk}/change/" in html
    assert "Renews Today City" not in html
