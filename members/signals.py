"""What the members app tells the rest of the portal when people come to speak for a member,
without knowing who listens: it imports none of the apps that do (the newsletter subscribes
them). Sent by the members' services themselves, after their commit, never from ``save()``.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

# ``people``: the ids of the accounts that now belong to a member (its representative, a contact,
# an honorary member in person), sorted. Sent once the change that made them so has committed.
member_people_joined = Signal()


def announce_joined(people: Iterable[int]) -> None:
    """Send ``member_people_joined`` for ``people`` after the surrounding transaction commits."""
    ids = sorted(set(people))
    if not ids:
        return

    def send_member_people_joined() -> None:
        member_people_joined.send(sender=announce_joined, people=ids)

    # A listener's failure must not undo nor hide the members' own change, already committed.
    transaction.on_commit(send_member_people_joined, robust=True)
