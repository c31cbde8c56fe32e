"""The public event pages are cached per language (core.pagecache), and a signed-in person's
pages for them (core.personalpages); any change to an event, a fee or a registration, from the
admin, a command or a service, retires them once it commits (the services that write with
``update()`` bump it themselves). Only the cache listens here: no state changes in a signal."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from .models import Event, FeeTier, Registration


def _retire_event_pages(sender: Any, **kwargs: Any) -> None:
    from .services import EVENT_PAGES

    EVENT_PAGES.bump_on_commit()


def connect() -> None:
    for model in (Event, FeeTier, Registration):
        post_save.connect(_retire_event_pages, sender=model, dispatch_uid=f"pages-{model.__name__}")
        post_delete.connect(
            _retire_event_pages, sender=model, dispatch_uid=f"pages-del-{model.__name__}"
        )
