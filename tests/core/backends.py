"""Delivery backends that stand in for what goes wrong on a worker."""

import time

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class WorkerKilled(BaseException):
    """What ``kill -9`` would do to the worker mid-send, as far as this process can tell:
    nothing after this point runs (not even ``except Exception`` handlers)."""


class WorkerDiesBackend(BaseEmailBackend):
    """The worker dies after it claimed the row and before the mail server got the message."""

    def send_messages(self, email_messages) -> int:
        raise WorkerKilled("the worker was killed")


class CountingBackend(LocmemBackend):
    """locmem that counts the connections opened (a real SMTP backend opens one per open())."""

    opened = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.is_open = False

    def open(self) -> bool:
        if self.is_open:
            return False
        self.is_open = True
        CountingBackend.opened += 1
        return True

    def close(self) -> None:
        self.is_open = False


class QuitFailsBackend(LocmemBackend):
    """The server accepts the message, then the connection breaks as it is closed (QUIT)."""

    def close(self) -> None:
        raise ConnectionResetError("the server hung up on QUIT")


class MarksWatchingBackend(LocmemBackend):
    """locmem that notes, as each message is handed to it, how many rows are marked sent."""

    marked_before_each: list[int] = []
    die_at: int | None = None  # the worker is killed as this message (0-based) is handed over
    takes = 0.0  # seconds the server takes to accept each message
    # When set, the time it takes is counted on this clock ([seconds]) rather than slept.
    clock: list[float] | None = None

    def send_messages(self, email_messages) -> int:
        from core.models import OutboxMessage, OutboxStatus

        handed = len(MarksWatchingBackend.marked_before_each)
        MarksWatchingBackend.marked_before_each.append(
            OutboxMessage.objects.filter(status=OutboxStatus.SENT).count()
        )
        if handed == MarksWatchingBackend.die_at:
            raise WorkerKilled("the worker was killed")
        if MarksWatchingBackend.clock is not None:
            MarksWatchingBackend.clock[0] += MarksWatchingBackend.takes
        else:
            time.sleep(MarksWatchingBackend.takes)
        return super().send_messages(email_messages)
