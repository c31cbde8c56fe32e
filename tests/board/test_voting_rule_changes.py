"""The voting rule comes from the statutes: only a superuser changes it, every change is kept with
who made it, when, and the rule before and after, and the Board and the staff read that history."""

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from board import models, services
from board.models import MajorityBasis, TieRule, VotingRule
from tests import factories
from tests.board.conftest import with_totp

pytestmark = pytest.mark.django_db

FOR_AGAINST, ALL_CAST = MajorityBasis.FOR_AND_AGAINST, MajorityBasis.ALL_VOTES_CAST


def rule_url(rule: VotingRule) -> str:
    return reverse("admin:board_votingrule_change", args=[rule.pk])


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def posted(
    page=None, quorum: int = 75, majority: str = ALL_CAST, tie: str = TieRule.REJECTED
) -> dict:
    """What the rule's page sends: its hidden inputs (the history's management form and row
    ids, as the browser sends them) and the rule."""
    hidden = {"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0"}
    if page is not None:
        for tag in re.findall(r'<input type="hidden"[^>]*>', page.content.decode()):
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name and name.group(1).startswith("changes-"):
                hidden[name.group(1)] = value.group(1) if value else ""
    return {**hidden, "quorum_percent": quorum, "majority": majority, "tie": tie}


@pytest.fixture
def superuser(db):
    return with_totp(factories.UserFactory(is_staff=True, is_superuser=True))


def as_rule(rule: VotingRule) -> tuple:
    rule.refresh_from_db()
    return (rule.quorum_percent, rule.majority, rule.tie)


def test_a_staff_member_cannot_change_the_rule_in_the_admin(client, rule, staff):
    before = as_rule(rule)
    client.force_login(with_totp(staff))

    page = client.get(rule_url(rule))
    response = client.post(rule_url(rule), posted())

    assert page.status_code == 200
    assert 'name="quorum_percent"' not in page.content.decode()  # shown, not offered to change
    assert response.status_code == 403
    assert as_rule(rule) == before
    assert not models.VotingRuleChange.objects.filter(changed_by=staff).exists()


def test_a_staff_member_cannot_change_the_rule_through_the_service(rule, staff):
    before = as_rule(rule)

    with pytest.raises(PermissionDenied):
        services.change_voting_rule(by=staff, quorum_percent=75, majority=ALL_CAST, tie="rejected")

    assert as_rule(rule) == before


def test_a_superusers_change_is_kept_with_who_when_and_the_rule_before_and_after(
    client, rule, superuser
):
    client.force_login(superuser)
    before = as_rule(rule)
    page = client.get(rule_url(rule))
    assert 'name="quorum_percent"' in page.content.decode()

    response = client.post(rule_url(rule), posted(page, quorum=75))

    assert response.status_code == 302
    assert as_rule(rule) == (75, ALL_CAST, TieRule.REJECTED)
    change = models.VotingRuleChange.objects.get(changed_by=superuser)
    assert (change.old_quorum_percent, change.old_majority, change.old_tie) == before
    assert (change.quorum_percent, change.majority, change.tie) == (75, ALL_CAST, "rejected")
    assert change.changed_at == VotingRule.objects.get().updated_at


def test_saving_the_rule_unchanged_adds_no_history(rule, superuser):
    count = models.VotingRuleChange.objects.count()

    services.change_voting_rule(
        by=superuser, quorum_percent=rule.quorum_percent, majority=rule.majority, tie=rule.tie
    )

    assert models.VotingRuleChange.objects.count() == count


def test_a_vote_already_open_keeps_the_rule_it_opened_under(board, rule, ballot, superuser):
    services.change_voting_rule(by=superuser, quorum_percent=90, majority=ALL_CAST, tie="rejected")

    ballot.refresh_from_db()
    assert (ballot.quorum_percent, ballot.majority) == (50, FOR_AGAINST)


@pytest.mark.parametrize("who", ["director", "staff"])
def test_the_board_and_the_staff_read_the_rules_history(client, board, rule, staff, superuser, who):
    services.change_voting_rule(by=superuser, quorum_percent=60, majority=ALL_CAST, tie="rejected")
    person = board.others[0] if who == "director" else staff
    client.force_login(with_totp(person))

    response = client.get(rule_url(rule))

    assert response.status_code == 200
    page = text(response)
    assert "History: every change of the rule, who made it and when" in page
    assert str(superuser) in page
    assert "60" in page
    html = response.content.decode()
    assert 'name="changes-0-quorum_percent"' not in html  # read-only: nothing to edit
    assert 'name="changes-0-DELETE"' not in html
    assert "Save" not in page


def test_only_a_superuser_may_add_a_rule(client, staff, superuser):
    VotingRule.objects.all().delete()
    client.force_login(with_totp(staff))
    assert client.get(reverse("admin:board_votingrule_add")).status_code == 403

    client.force_login(superuser)
    response = client.post(reverse("admin:board_votingrule_add"), posted(quorum=66))

    assert response.status_code == 302
    (change,) = VotingRule.objects.get().changes.all()
    assert (change.changed_by, change.old_quorum_percent, change.quorum_percent) == (
        superuser,
        None,
        66,
    )
