"""How the events' pages write times and money: in the event's own time zone, said with it,
and in the event's currency."""

import datetime
from decimal import Decimal

from django import template
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from events.models import Event

register = template.Library()


def _offset(moment: datetime.datetime) -> str:
    offset = moment.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@register.simple_tag
def event_when(event: Event) -> str:
    """ "12 March 2027, 09:00 – 17:00 (America/Montreal, UTC−4)", in the event's zone."""
    start, end = event.local_start, event.local_end
    # 24-hour times: read the same way in every country the Centre works with.
    first = f"{date_format(start, 'DATE_FORMAT')}, {start:%H:%M}"
    if start.date() == end.date():
        last = f"{end:%H:%M}"
    else:
        last = f"{date_format(end, 'DATE_FORMAT')}, {end:%H:%M}"
    return f"{first} – {last} ({event.time_zone}, {_offset(start)})"


@register.simple_tag
def event_day(event: Event) -> str:
    """The first day, in the event's zone, for lists."""
    return date_format(event.local_start, "DATE_FORMAT")


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return ""
    if amount == 0:
        return _("Free")
    return f"{number_format(amount, 2, use_l10n=True, force_grouping=True)} {currency}".strip()
