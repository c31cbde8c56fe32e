"""What is kept about people between requests, and the one signal that it changed.

``PEOPLE`` is the generation (core.pagecache) of everything that says who a person is to the
portal: their account and email addresses here, and, connected by the members app, their
memberships, representations, contacts and organisations. Each process keeps, while it holds:

- the accounts of the people signed in (``accounts.backends``), so that a signed-in request
  reads its session and nothing else to know who is asking (and, in any case, for at most a
  minute);
- their own pages (core.personalpages), keyed on it.

Any save or delete of an account or an address, from a form, the admin, allauth or a command,
bumps it once it commits; the writes that bypass ``save()`` bump it themselves
(``set_preferred_language``).
Only the cache listens here: no state changes in a signal.
"""

from typing import Any

from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from core.pagecache import Generation

PEOPLE = Generation("people")


def retire_kept(sender: Any, **kwargs: Any) -> None:
    """Receiver: what is kept about people is not used after the change commits."""
    if kwargs.get("action", "post_").startswith("post_"):  # m2m_changed: once, after
        PEOPLE.bump_on_commit()


def connect(*models: type[Model]) -> None:
    """Bump ``PEOPLE`` on every save and delete of ``models``, and every change of their
    many-to-many relations (an account's groups and permissions: who is staff)."""
    for model in models:
        name = f"{model._meta.app_label}.{model.__name__}"
        post_save.connect(retire_kept, sender=model, dispatch_uid=f"people-{name}")
        post_delete.connect(retire_kept, sender=model, dispatch_uid=f"people-del-{name}")
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                retire_kept,
                sender=field.remote_field.through,
                dispatch_uid=f"people-m2m-{name}.{field.name}",
            )
