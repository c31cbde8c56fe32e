"""What a member types on its Membership page: input checking only."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Qualification


class RenewalChangesForm(forms.Form):
    """ "Tell us what changed", in answer to a renewal notice."""

    changes = forms.CharField(
        label=_("What changed"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "For example a new address, a new name, or a representative who no longer holds "
            "the position that qualified them. The Centre's staff will write to you."
        ),
        error_messages={"required": _("Say what changed.")},
    )


class ResignationForm(forms.Form):
    NOW = "now"
    PERIOD_END = "period_end"

    when = forms.ChoiceField(
        label=_("When the resignation takes effect"),
        widget=forms.RadioSelect,
        choices=[(PERIOD_END, _("At the end of the current period")), (NOW, _("Now"))],
        error_messages={"required": _("Choose when the resignation takes effect.")},
    )
    note = forms.CharField(
        label=_("Why the member resigns (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The Centre's staff read it; it is kept with the membership's history."),
    )

    def __init__(self, *args, renews: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not renews:
            # An honorary membership does not renew: it can only end at once.
            when = self.fields["when"]
            assert isinstance(when, forms.ChoiceField)
            when.choices = [(self.NOW, _("Now"))]
            self.fields["when"].initial = self.NOW

    @property
    def at_period_end(self) -> bool:
        return self.cleaned_data["when"] == self.PERIOD_END


class RepresentativeChangeForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("Once the staff confirm, the new representative is invited at this address."),
    )
    language = forms.ChoiceField(
        label=_("Their language"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
    title = forms.CharField(
        label=_("Their title in the organisation"),
        max_length=150,
        help_text=_("For example: Mayor, Executive Director, Head of Prevention."),
    )
    qualification = forms.ChoiceField(
        label=_("Why they may represent the organisation"),
        choices=Qualification.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Under the statutes, a representative holds an elected position in the "
            "organisation, is a permanent employee, or holds a directorial position in it."
        ),
    )
    declaration = forms.BooleanField(
        label=_("I declare that this person meets the qualification chosen above."),
        error_messages={"required": _("Confirm that the person meets the qualification.")},
    )


class DismissalResponseForm(forms.Form):
    text = forms.CharField(
        label=_("Your response to the Board"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Every director reads it before voting."),
        error_messages={"required": _("Write your response.")},
    )


class ContactForm(forms.Form):
    """A colleague the representative adds: they register for events at the member fee."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("Email"), help_text=_("They are told at this address, and sign in with it.")
    )
    language = forms.ChoiceField(
        label=_("Their language"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
