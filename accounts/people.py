"""What is kept about people between requests, and the one signal that it changed.

``PEOPLE`` is the generation (core.pagecache) of everything that says who a person is to the
portal: their account and email addresses here, and, connected by the members app, their
memberships, representations, contacts and organisations. Each process keeps, while it holds:

- the accounts of the people signed in (``accounts.backends``), so that a signed-in request
  reads its session and nothing else to know who is asking;
- their own pages (core.personalpages), keyed on it.

Any save or delete of an account or an address, from a form, the admin, allauth or a command,
bumps it once it commits; the writes that bypass ``save()`` bump it themselves
(``set_preferred_language``).
Only the cache listens here: no state changes in a signal.
"""

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from core.pagecache import Generation

PEOPLE = Generation("people")


def retire_kept(sender: Any, **kwargs: Any) -> None:
    """Receiver: what is kept about people is not used after the change commits."""
    PEOPLE.bump_on_commit()


def connect(*models: type[Model]) -> None:
    """Bump ``PEOPLE`` on every save and delete of ``models``."""
    for model in models:
        name = f"{model._meta.app_label}.{model.__name__}"
        post_save.connect(retire_kept, sender=model, dispatch_uid=f"people-{name}")
        post_delete.connect(retire_kept, sender=model, dispatch_uid=f"people-del-{name}")
