"""The sign-in backends (Django's, by password, and allauth's, by email), each reading the
signed-in person's account from this process's memory while ``accounts.people.PEOPLE`` holds.

Every signed-in request reads its person; with the account kept, it reads its session and
nothing else. The account is read from the database again:

- once a change of any account has committed and its bump has reached this process
  (core.pagecache: under a millisecond on one host);
- after ``KEPT_ACCOUNT_SECONDS`` in any case, the bound for a bump that was lost for a process
  whose subscription never broke (a bump Redis did not take drops every kept account in the
  process that made it, and in every process whose subscription broke meanwhile);
- whenever Redis cannot say which generation is current, and always where the generations are
  not shared (no Redis: another process's change would never be seen).

Each request gets its own instance, made from the kept row: nothing one request sets on its
user is seen by the next. Whether the person may still sign in (``is_active``) and whether the
session still matches their password are checked on every request, as before, on that row.

Sessions signed in before the backends moved here name Django's and allauth's own paths:
``RENAMED_BACKENDS`` maps them (accounts.middleware), so nobody is signed out by the move.
"""

import time
from collections import OrderedDict
from functools import cache
from threading import Lock
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import DEFAULT_DB_ALIAS

from core.pagecache import also_forget, current_or_none, generations_shared
from core.personalpages import read_under

from .models import User
from .people import PEOPLE

# Accounts kept per process: the people signed in lately (a row is well under a kilobyte).
KEPT_ACCOUNTS = 2000
KEPT_ACCOUNT_SECONDS = 60

RENAMED_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": (
        "accounts.backends.AuthenticationBackend"
    ),
}

# id -> (generation, when it was read, the row's values)
_kept: OrderedDict[int, tuple[int, float, tuple[Any, ...]]] = OrderedDict()
_lock = Lock()


@cache
def _fields() -> tuple[str, ...]:
    return tuple(field.attname for field in User._meta.concrete_fields)


def kept_account(user_id: Any) -> User | None:
    """The account ``user_id``, from memory while no account has changed since it was read."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    # Read before the row: a change committed after it moves it on, and is seen.
    generation = current_or_none(PEOPLE) if generations_shared() else None
    now = time.monotonic()
    if generation is not None:
        with _lock:
            kept = _kept.get(pk)
            if kept is not None and kept[0] == generation and now - kept[1] < KEPT_ACCOUNT_SECONDS:
                _kept.move_to_end(pk)
                user = User.from_db(DEFAULT_DB_ALIAS, list(_fields()), list(kept[2]))
                read_under(user, PEOPLE, generation)
                return user
    try:
        user = User._default_manager.get(pk=pk)
    except User.DoesNotExist:
        return None
    read_under(user, PEOPLE, generation)
    if generation is not None:
        with _lock:
            _kept[pk] = (generation, now, tuple(getattr(user, name) for name in _fields()))
            _kept.move_to_end(pk)
            while len(_kept) > KEPT_ACCOUNTS:
                _kept.popitem(last=False)
    return user


def forget_kept_accounts() -> None:
    with _lock:
        _kept.clear()


also_forget(forget_kept_accounts)


class _KeptAccount:
    def get_user(self, user_id: Any) -> User | None:
        user = kept_account(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class ModelBackend(_KeptAccount, DjangoModelBackend):
    """Django's sign-in by password, the account kept."""


class AuthenticationBackend(_KeptAccount, AllauthBackend):
    """allauth's sign-in by email, the account kept."""
