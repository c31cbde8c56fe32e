"""One table of allowed moves per status: the recording helper refuses any other move."""

import pytest
from django.core.exceptions import ValidationError

from applications.models import APPLICATION_MOVES, OPEN_STATUSES, Application, Status
from applications.services import withdraw_application
from core.status import Transitions
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_table_allows_only_the_moves_it_lists():
    table = Transitions({"": {"a"}, "a": {"b"}})
    assert table.allows("", "a") and table.allows("a", "b")
    assert not table.allows("b", "a")
    assert not table.allows("a", "a")
    assert table.sources_of("b") == frozenset({"a"})
    with pytest.raises(ValidationError, match="“Bee”"):
        table.check("b", "a", label="Bee")


def test_the_queue_and_the_withdraw_button_read_the_same_table():
    assert set(OPEN_STATUSES) == {Status.SUBMITTED, Status.INFO_REQUESTED, Status.WITH_BOARD}
    for status in Status:
        application = Application(status=status)
        assert application.can_withdraw == APPLICATION_MOVES.allows(status, Status.WITHDRAWN)
        assert application.can_send_to_board == (status == Status.SUBMITTED)


def test_a_decided_application_cannot_be_withdrawn_and_its_history_is_untouched():
    application = factories_application(Status.APPROVED)

    with pytest.raises(ValidationError, match="Approved"):
        withdraw_application(application=application, by=application.applicant)

    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert not application.events.exists()


def factories_application(status: Status) -> Application:
    applicant = factories.UserFactory()
    return Application.objects.create(
        applicant=applicant,
        status=status,
        reference="APP-2026-0999",
        submitted_at="2026-11-01T10:00:00Z",
    )
