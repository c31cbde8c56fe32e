"""The Board's screens in the admin: what awaits my vote, the file, the tally and the form."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from applications.models import DocumentKind
from board.admin import BallotAdmin
from board.models import Choice, Vote
from members import services as members
from tests import factories
from tests.board.conftest import APPLICATION_FIELDS, in_days, vote, with_totp
from tests.budgets import SESSION_QUERIES

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
CHANGELIST = reverse("admin:board_ballot_changelist")


def text(response) -> str:
    """The page's visible text, with tags and extra spaces removed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(response, element_id: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def listed_titles(response) -> list[str]:
    """The titles in the list's rows, read from the page itself."""
    cells = re.findall(
        r'<th class="field-question"><a href="[^"]*">(.*?)</a></th>', response.content.decode()
    )
    return [unescape(cell) for cell in cells]


@pytest.fixture
def me(board):
    """A director signed in to the admin (with the authenticator the admin insists on)."""
    return with_totp(board.others[0])


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


def honorary_vote(staff, title: str, days: float = 7):
    return members.propose_honorary_membership(
        organisation=factories.OrganisationFactory(name=title),
        details="An honorary appointment.",
        deadline=in_days(days),
        by=staff,
    )


@pytest.fixture
def three_votes(board, rule, staff, me):
    """Two open votes, one of them already voted on by me, and one decided."""
    waiting = honorary_vote(staff, "Appoint the Montreal Safety Forum", days=3)
    voted = honorary_vote(staff, "Appoint the Lyon Observatory", days=5)
    vote(voted, me, Choice.ABSTAIN)
    decided = honorary_vote(staff, "Appoint the Bogotá Institute", days=2)
    for director in board.others[1:5]:
        vote(decided, director, Choice.FOR)
    return waiting, voted, decided


# --- what awaits my vote ------------------------------------------------------------------------


def test_admin_index_lists_the_open_votes_awaiting_my_vote(signed_in, three_votes):
    waiting, voted, decided = three_votes

    response = signed_in.get(INDEX)

    assert response.status_code == 200
    awaiting = section(response, "awaiting-my-vote")
    assert "Awaiting my vote" in awaiting
    assert waiting.title in awaiting
    assert voted.title not in awaiting
    assert decided.title not in awaiting
    html = response.content.decode()
    assert f'href="{reverse("admin:board_ballot_change", args=[waiting.pk])}"' in html
    assert f'href="{CHANGELIST}?show=awaiting"' in html


def test_admin_index_says_when_nothing_awaits_my_vote(signed_in, board, rule):
    response = signed_in.get(INDEX)

    assert "Nothing awaits your vote." in section(response, "awaiting-my-vote")


def test_staff_who_are_not_directors_see_no_awaiting_votes(client, three_votes, staff):
    client.force_login(with_totp(staff))

    response = client.get(INDEX)

    assert response.status_code == 200
    assert 'id="awaiting-my-vote"' not in response.content.decode()


def test_board_votes_list_shows_what_awaits_my_vote_by_default(signed_in, three_votes):
    waiting, voted, decided = three_votes

    response = signed_in.get(CHANGELIST)

    assert response.status_code == 200
    assert listed_titles(response) == [waiting.title]
    selected = r'<li class="selected">\s*<a href="[^"]*">Awaiting my vote</a>'
    assert re.search(selected, response.content.decode())
    everything = signed_in.get(CHANGELIST, {"show": "all"})
    assert sorted(listed_titles(everything)) == sorted([waiting.title, voted.title, decided.title])
    open_only = signed_in.get(CHANGELIST, {"show": "open"})
    assert sorted(listed_titles(open_only)) == sorted([waiting.title, voted.title])
    closed = signed_in.get(CHANGELIST, {"show": "closed"})
    assert listed_titles(closed) == [decided.title]


def test_another_persons_request_meanwhile_does_not_change_my_default_list(
    signed_in, me, three_votes, staff, monkeypatch
):
    waiting, _voted, _decided = three_votes
    colleague = Client()
    colleague.force_login(with_totp(staff))
    original = BallotAdmin.get_queryset
    interleaved = []

    def get_queryset(self, request):
        # While my list is being built, a staff member opens the same list (as another thread
        # of the server would).
        if request.user.pk == me.pk and not interleaved:
            interleaved.append(colleague.get(CHANGELIST).status_code)
        return original(self, request)

    monkeypatch.setattr(BallotAdmin, "get_queryset", get_queryset)

    response = signed_in.get(CHANGELIST)

    assert interleaved == [200]
    assert listed_titles(response) == [waiting.title]


def test_board_votes_list_shows_my_vote_and_the_count(signed_in, three_votes):
    _waiting, voted, _decided = three_votes

    response = signed_in.get(CHANGELIST, {"show": "open"})

    row = next(b for b in response.context["cl"].result_list if b.pk == voted.pk)
    assert row.my_choice == Choice.ABSTAIN
    assert row.vote_count == 1
    assert "Abstain" in text(response)


def test_staff_who_are_not_directors_see_every_vote_by_default(client, three_votes, staff):
    client.force_login(with_totp(staff))

    response = client.get(CHANGELIST)

    assert len(listed_titles(response)) == 3


# --- the ballot page ----------------------------------------------------------------------------


def test_ballot_page_shows_the_application_its_documents_the_tally_and_the_rule(
    signed_in, board, ballot, application, applicant
):
    letter = application.documents.get(kind=DocumentKind.LETTER)
    vote(ballot, board.president, Choice.FOR, "Strong partners.")
    vote(ballot, board.others[1], Choice.AGAINST, "Mostly policing.")
    vote(ballot, board.others[2], Choice.ABSTAIN)
    vote(ballot, board.others[3], Choice.RECUSED, "I advise their board.")

    response = signed_in.get(reverse("admin:board_ballot_change", args=[ballot.pk]))

    assert response.status_code == 200
    page = text(response)
    assert f"What the applicant sent ({application.reference})" in page
    for field in ("org_name", "city", "website", "activities", "rep_title", "rep_email"):
        assert APPLICATION_FIELDS[field] in page, field
    assert "National or international non-governmental organisation" in page
    assert "France" in page
    assert "Urban safety audits" in page
    assert "Camille Rousseau, Executive Director — Holds a directorial position" in page
    assert APPLICATION_FIELDS["motivation"] in page
    document_url = reverse("applications:document", args=[application.pk, letter.pk])
    assert f'href="{document_url}"' in response.content.decode()
    assert "Letter to the President.pdf (Signed application letter" in page

    tally = section(response, "tally")
    assert "For Against Abstain Recused Not yet voted 1 1 1 1 3" in tally
    assert "Outcome if the vote closed now: Approved" in tally
    directors = section(response, "directors")
    assert (
        "Quorum: 50% of the sitting directors who have not recused themselves (3 votes needed)"
        in directors
    )
    assert "More votes for than against; abstentions do not count" in directors
    assert "The President's vote decides a tie" in directors
    assert f"{board.president} (President) For Strong partners." in directors
    assert "Against Mostly policing." in directors
    assert "Recused (conflict of interest) I advise their board." in directors
    assert directors.count("Not yet voted") == 3


def test_a_director_can_download_the_applicants_letter(
    signed_in, ballot, application, private_media
):
    letter = application.documents.get(kind=DocumentKind.LETTER)
    assert letter.file.path.startswith(str(private_media))  # never under var/media

    response = signed_in.get(reverse("applications:document", args=[application.pk, letter.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_the_vote_form_records_my_vote(signed_in, me, ballot):
    page = signed_in.get(reverse("admin:board_ballot_change", args=[ballot.pk]))
    html = page.content.decode()
    vote_url = reverse("admin:board_ballot_vote", args=[ballot.pk])
    assert f'action="{vote_url}"' in html
    assert 'name="choice"' in html
    assert "Record my vote" in html

    response = signed_in.post(
        vote_url, {"choice": Choice.AGAINST, "comment": "Outside our field."}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == ["Your vote is recorded."]
    (recorded,) = Vote.objects.filter(ballot=ballot)
    assert (recorded.director, recorded.choice, recorded.comment) == (
        me,
        Choice.AGAINST,
        "Outside our field.",
    )
    assert "Your vote: Against (you can change it until the decision)" in text(response)


def test_after_the_decision_the_page_shows_it_and_no_vote_form(signed_in, board, ballot):
    for director in board.others[1:5]:
        vote(ballot, director, Choice.FOR)

    response = signed_in.get(reverse("admin:board_ballot_change", args=[ballot.pk]))

    assert "Decision: Approved" in text(response)
    assert 'id="vote-form"' not in response.content.decode()


# --- query budgets ------------------------------------------------------------------------------


def open_votes(staff, board, count: int) -> None:
    for number in range(count):
        ballot = honorary_vote(staff, f"Appointment {number}")
        vote(ballot, board.others[number % 3 + 2], Choice.FOR)  # someone else has voted


# Session, authenticator, the director's groups, the votes and the admin's own reads (the
# account is kept after the person's first request: accounts.backends).
QUERIES = SESSION_QUERIES + 9


@pytest.mark.parametrize("url", [CHANGELIST, INDEX], ids=["awaiting-list", "admin-index"])
def test_awaiting_my_vote_keeps_a_fixed_query_budget(
    signed_in, board, rule, staff, django_assert_num_queries, url
):
    open_votes(staff, board, 2)
    signed_in.get(url)  # the first request reads the person's account
    with django_assert_num_queries(QUERIES):
        assert signed_in.get(url).status_code == 200

    open_votes(staff, board, 13)
    with django_assert_num_queries(QUERIES):
        response = signed_in.get(url)

    assert response.status_code == 200
    if url == CHANGELIST:
        assert len(listed_titles(response)) == 15
    else:
        assert section(response, "awaiting-my-vote").count("Appointment of") == 15
