"""iCalendar (RFC 5545) for the Centre's events, written by the ``icalendar`` library: the
feed of all events, and the ``.ics`` attached to each confirmation."""

from collections.abc import Iterable

from django.conf import settings
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from core.emails import absolute_url

from .models import Event, EventStatus

PRODUCT = "-//ICPC//Membership portal//EN"


def _location(event: Event) -> str:
    if event.online:
        return "Online"
    country = event.country.name  # type: ignore[attr-defined]  # a django-countries Country
    return ", ".join(part for part in (event.venue, event.city, country) if part)


def _entry(event: Event) -> CalendarEvent:
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.pk}@{settings.SITE_URL.split('//')[-1].split('/')[0]}")
    entry.add("dtstamp", event.updated_at)
    entry.add("last-modified", event.updated_at)
    # In the event's own zone: calendars show it right wherever the reader is.
    entry.add("dtstart", event.local_start)
    entry.add("dtend", event.local_end)
    entry.add("summary", event.title)
    url = absolute_url(event.get_absolute_url())
    entry.add("description", f"{event.summary}\n\n{url}")
    entry.add("url", url)
    location = _location(event)
    if location:
        entry.add("location", location)
    entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    entry.add("categories", [event.get_kind_display()])
    return entry


def event_calendar(events: Iterable[Event], *, name: str = "") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_entry(event))
    calendar.add_missing_timezones()
    return calendar.to_ical()
