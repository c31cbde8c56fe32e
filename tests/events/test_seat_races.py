"""Seats under concurrency, on real PostgreSQL: many people at once for the last seats, a
cancellation racing a registration, and two promotions racing one freed seat.

Each racing call runs in a thread of its own, on its own connection (``tests.concurrency.race``),
so the test data must really be committed: these tests use a transactional database.
"""

import contextlib
import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F

from events import services
from events.models import Event, Registration, RegistrationStatus
from tests.concurrency import race
from tests.events.conftest import DETAILS
from tests.factories import EventFactory, StaffFactory, UserFactory

# No serialized_rollback: these run after other transactional tests whose flush re-creates
# the content types, and restoring a serialized copy on top of them would clash.
pytestmark = pytest.mark.django_db(transaction=True)

SEATS = 10
PEOPLE = 50


def fresh(event: Event) -> Event:
    return Event.objects.get(pk=event.pk)


def register(event: Event, user) -> Registration:
    # Each thread reads the event itself, as a request would.
    return services.register(event=fresh(event), user=user, details=DETAILS)


def run_fifty_for_ten_seats() -> tuple[Event, list[object]]:
    """Fifty people, each in a thread and on a connection of their own, register at once for
    an event with ten seats."""
    event = EventFactory(capacity=SEATS)
    people = [UserFactory() for _ in range(PEOPLE)]
    results = race(*[lambda person=person: register(event, person) for person in people])
    return event, results


def check_ten_confirmed_forty_waiting(event: Event, results: list[object]) -> None:
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, f"{len(errors)} errors, e.g. {errors[0]!r}"
    outcome = Counter(result.status for result in results)  # type: ignore[attr-defined]
    assert outcome == {
        RegistrationStatus.CONFIRMED: SEATS,
        RegistrationStatus.WAITLISTED: PEOPLE - SEATS,
    }
    event.refresh_from_db()
    assert event.seats_taken == SEATS
    stored = Registration.objects.filter(event=event)
    assert stored.confirmed().count() == SEATS
    assert stored.waitlisted().count() == PEOPLE - SEATS


def test_fifty_people_at_once_for_ten_seats_get_ten_seats_and_forty_waitlist_places(postgres):
    event, results = run_fifty_for_ten_seats()

    check_ten_confirmed_forty_waiting(event, results)


def test_control_without_the_seat_lock_the_same_race_overbooks_or_hits_the_constraint(
    postgres, monkeypatch
):
    """The control: the same race with the event's row lock taken away, and every thread held
    after reading the seats left until all fifty have read them. The check above must then
    fail: so it does detect overbooking, and the lock is what passes it."""
    monkeypatch.setattr(services, "_lock_event", lambda event: Event.objects.get(pk=event.pk))
    all_have_read = threading.Barrier(PEOPLE, timeout=5)
    read_seats_left = services._seats_left

    def seats_left_then_wait(event: Event) -> int | None:
        left = read_seats_left(event)
        with contextlib.suppress(threading.BrokenBarrierError):
            all_have_read.wait()
        return left

    monkeypatch.setattr(services, "_seats_left", seats_left_then_wait)

    event, results = run_fifty_for_ten_seats()

    with pytest.raises(AssertionError):
        check_ten_confirmed_forty_waiting(event, results)
    # And it failed for the right reason: more seats given than there are, or the database's
    # check constraint refusing them.
    overbooked = [
        result
        for result in results
        if isinstance(result, IntegrityError) and "event_never_overbooked" in str(result)
    ]
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    assert overbooked or confirmed > SEATS, results
    event.refresh_from_db()
    assert event.seats_taken <= SEATS  # the constraint still held


def full_event_with_a_waitlist() -> tuple[Event, Registration, Registration]:
    """One seat, taken; one person waiting for it."""
    event = EventFactory(capacity=1)
    holder = services.register(event=event, user=UserFactory(), details=DETAILS)
    waiting = services.register(event=event, user=UserFactory(), details=DETAILS)
    assert holder.is_confirmed and waiting.is_waitlisted
    return event, holder, waiting


@pytest.mark.parametrize("round_", range(3))
def test_a_cancellation_racing_a_registration_gives_the_seat_to_the_first_in_line(postgres, round_):
    """Whichever runs first, the freed seat is the waitlisted person's: registered first, the
    newcomer joins the waitlist behind them; registered after the cancellation, the seat has
    already gone to them. Never an overbooking, never the newcomer jumping the queue."""
    event, holder, waiting = full_event_with_a_waitlist()
    newcomer = UserFactory()

    cancelled, registered = race(
        lambda: services.cancel_registration(
            registration=Registration.objects.select_related("event").get(pk=holder.pk),
            by=holder.user,
        ),
        lambda: register(event, newcomer),
    )

    assert isinstance(cancelled, Registration), cancelled
    assert isinstance(registered, Registration), registered
    assert cancelled.status == RegistrationStatus.CANCELLED
    assert registered.status == RegistrationStatus.WAITLISTED
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert event.seats_taken == Registration.objects.filter(event=event).confirmed().count()
    assert list(Registration.objects.filter(event=event).waitlisted()) == [registered]


def one_seat_freed_for_two_waiting() -> tuple[Event, Registration, Registration]:
    event, _holder, first = full_event_with_a_waitlist()
    second = services.register(event=event, user=UserFactory(), details=DETAILS)
    assert second.is_waitlisted
    # The staff raise the capacity by one, straight in the database: one seat is free.
    Event.objects.filter(pk=event.pk).update(capacity=F("capacity") + 1)
    return event, first, second


def test_two_staff_promotions_racing_one_free_seat_promote_exactly_one(postgres):
    event, first, second = one_seat_freed_for_two_waiting()
    staff = StaffFactory()

    def promote(registration: Registration):
        return services.promote(
            registration=Registration.objects.select_related("event").get(pk=registration.pk),
            by=staff,
        )

    results = race(lambda: promote(first), lambda: promote(second))

    promoted = [r for r in results if isinstance(r, Registration)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(promoted) == 1 and len(refused) == 1, results
    assert promoted[0].status == RegistrationStatus.CONFIRMED
    assert "No seat is free" in " ".join(refused[0].messages)
    event.refresh_from_db()
    assert event.capacity == 2
    assert event.seats_taken == event.capacity
    assert Registration.objects.filter(event=event).confirmed().count() == 2
    assert Registration.objects.filter(event=event).waitlisted().count() == 1


def test_two_runs_of_fill_free_seats_at_once_give_the_one_free_seat_once(postgres):
    event, first, second = one_seat_freed_for_two_waiting()

    results = race(
        lambda: services.fill_free_seats(event=fresh(event)),
        lambda: services.fill_free_seats(event=fresh(event)),
    )

    assert all(isinstance(result, list) for result in results), results
    assert sorted(len(promoted) for promoted in results) == [0, 1], results  # type: ignore[arg-type]
    (promoted,) = [p for p in results if p][0]  # type: ignore[union-attr]
    assert promoted.pk == first.pk  # the first in line
    event.refresh_from_db()
    assert event.seats_taken == event.capacity == 2
    assert Registration.objects.filter(event=event).confirmed().count() == 2
    second.refresh_from_db()
    assert second.status == RegistrationStatus.WAITLISTED


def test_one_person_submitting_twice_at_once_gets_one_registration(postgres):
    event = EventFactory(capacity=5)
    person = UserFactory()

    results = race(lambda: register(event, person), lambda: register(event, person))

    registered = [r for r in results if isinstance(r, Registration)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(registered) == 1 and len(refused) == 1, results
    assert "already registered" in " ".join(refused[0].messages)
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert Registration.objects.filter(event=event, user=person).count() == 1


def test_an_event_cancelled_while_someone_registers_ends_with_no_active_registration(postgres):
    event = EventFactory(capacity=5)
    services.register(event=event, user=UserFactory(), details=DETAILS)
    staff = StaffFactory()

    cancelled, registered = race(
        lambda: services.cancel_event(event=fresh(event), by=staff, reason="The venue closed."),
        lambda: register(event, UserFactory()),
    )

    assert isinstance(cancelled, Event), cancelled
    # Registered first, the registration was cancelled with the others; after, refused.
    if isinstance(registered, ValidationError):
        assert "cancelled" in " ".join(registered.messages)
    else:
        assert isinstance(registered, Registration), registered
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert event.seats_taken == 0
    assert not Registration.objects.filter(event=event).active().exists()
