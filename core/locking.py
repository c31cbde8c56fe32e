"""The lock helper every service uses for the rows it contends on."""

from typing import TypeVar, cast

from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)


def lock(instance: ModelT) -> ModelT:
    """The row of ``instance`` again, locked until the surrounding transaction ends.

    Call it inside ``transaction.atomic()``; the returned copy is fresh from the database.
    """
    manager = instance._meta.model._default_manager
    return cast(ModelT, manager.select_for_update().get(pk=instance.pk))
