"""Dates and times as people read them, always with their zone.

There is no per-person time zone yet: every time is shown in the Centre's zone, Montréal's
(settings.TIME_ZONE), and says so. ``{{ value|when }}`` gives "25 November 2026, 17:00 (Montréal
time)" in English and "25 novembre 2026, 17 h 00 (heure de Montréal)" in French; a date alone
(``datetime.date``) gives "25 November 2026", which has no zone.
"""

import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, pgettext

register = template.Library()


def day(value: datetime.date) -> str:
    # Day, month name, year: the same order in both languages; the month name is translated.
    return date_format(value, "j F Y")


def when(value: datetime.datetime | datetime.date | None) -> str:
    """``value`` in the Centre's zone, with the zone named; '' for None."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime.datetime):
        return day(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    local = timezone.localtime(value, timezone.get_default_timezone())
    # Translators: a PHP-style time-of-day format (Django's "date" filter). French: G \h i
    clock = date_format(local, pgettext("time of day format", "H:i"))
    return gettext("%(day)s, %(time)s (Montréal time)") % {"day": day(local), "time": clock}


register.filter("when", when)
