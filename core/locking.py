"""The lock helper every service uses for the rows it contends on."""

from typing import TypeVar, cast

from django.db import connection, models

ModelT = TypeVar("ModelT", bound=models.Model)


def lock(instance: ModelT) -> ModelT:
    """The row of ``instance`` again, locked until the surrounding transaction ends.

    Call it inside ``transaction.atomic()``; the returned copy is fresh from the database.
    """
    manager = instance._meta.model._default_manager
    return cast(ModelT, manager.select_for_update().get(pk=instance.pk))


def lock_name(key: str) -> None:
    """Hold a lock on a name, not a row, until the transaction ends.

    For checks about rows that do not exist yet ("no member of this name"): two transactions
    that lock the same name run one after the other. PostgreSQL's advisory locks do it; SQLite
    lets one writer at a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
