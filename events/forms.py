import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import EventKind, EventLanguage


class RegistrationForm(forms.Form):
    """What the attendee tells the Centre. The fee, the seat and the organisation whose
    membership gives the member fee are not here: the server decides them."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    job_title = forms.CharField(label=_("Position"), max_length=150, required=False)
    organisation_name = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        help_text=_("As it should appear on your badge."),
    )
    dietary_needs = forms.CharField(
        label=_("Dietary needs"),
        max_length=300,
        required=False,
        help_text=_("Vegetarian, allergies… Leave empty if none."),
    )
    accessibility_needs = forms.CharField(
        label=_("Accessibility needs"),
        max_length=300,
        required=False,
        help_text=_("Step-free access, sign language, captions… Leave empty if none."),
    )
    listed = forms.BooleanField(
        label=_("My name, position and organisation may appear on the list of attendees"),
        required=False,
    )


class EventFilterForm(forms.Form):
    """The list's filters; an unknown value is ignored rather than an error page."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds"))]
        + [(value, label) for value, label in EventKind.choices if value != EventKind.VISIT],
    )
    month = forms.CharField(
        label=_("Month"), required=False, widget=forms.DateInput(attrs={"type": "month"})
    )
    where = forms.ChoiceField(label=_("Where"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("All languages")), *EventLanguage.choices],
    )

    def __init__(self, *args, country_codes: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the countries events take place in: naming all of them costs more than the page.
        places = sorted(
            ((code, str(countries.name(code) or code)) for code in country_codes),
            key=lambda place: place[1],
        )
        self.fields["where"].choices = [  # type: ignore[attr-defined]
            ("", _("Anywhere")),
            ("online", _("Online")),
            *places,
        ]

    def clean_month(self) -> datetime.date | None:
        value = self.cleaned_data.get("month") or ""
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date() if value else None
        except ValueError:
            return None

    def month_range(self) -> tuple[datetime.datetime, datetime.datetime] | None:
        self.is_valid()  # a wrong value in one filter leaves the others working
        month = self.cleaned_data.get("month")
        if month is None:
            return None
        zone = timezone.get_current_timezone()
        start = datetime.datetime(month.year, month.month, 1, tzinfo=zone)
        following = datetime.datetime(
            month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=zone
        )
        return start, following
