from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.utils.html import escape
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from members.models import Category, Qualification

from .models import Application, AreaOfWork
from .services import DRAFT_FIELDS

ACCEPT = ".pdf,.docx,.odt,.jpg,.jpeg,.png"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        # Emptiness is told by applications.uploads, with the file's name.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ApplicationForm(forms.ModelForm):
    """The application, section by section. Nothing is required until it is submitted."""

    letter = forms.FileField(
        label=_("Signed application letter"),
        required=False,
        allow_empty_file=True,
        help_text=format_lazy(
            "{} {}",
            _("The letter addressed to the President of the Board of Directors, signed."),
            _("PDF, DOCX, ODT, JPEG or PNG, at most 10 MB."),
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    supporting = MultipleFileField(
        label=_("Supporting documents (optional)"),
        required=False,
        help_text=_("Statutes, annual report, programme descriptions… 30 MB in all."),
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )

    website = forms.URLField(
        label=_("Website"),
        max_length=200,
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    class Meta:
        model = Application
        fields = [*DRAFT_FIELDS, "areas"]
        widgets = {
            "activities": forms.Textarea(attrs={"rows": 5}),
            "motivation": forms.Textarea(attrs={"rows": 5}),
            "areas": forms.CheckboxSelectMultiple,
        }
        labels = {
            "rep_declaration": _(
                "I declare that the representative holds the position and qualification above."
            ),
            "agrees_to_statutes": _(
                "The organisation shares the Centre's values in crime prevention and community "
                "safety and agrees to abide by its statutes."
            ),
        }
        help_texts = {
            "rep_email": _("If this person has no account yet, one is made for them on approval."),
            "rep_qualification": _(
                "Under the statutes, a representative holds an elected position in the "
                "organisation, is a permanent employee, or holds a directorial position."
            ),
        }

    def show_documents(self, documents) -> None:
        """Tell the applicant the letter is already there, so they do not send it twice."""
        letter = next((d for d in documents if d.kind == "letter"), None)
        if letter is not None:
            # crispy-forms renders help text as HTML: the name is the applicant's to choose.
            self.fields["letter"].help_text = escape(
                _("Uploaded: “%(name)s”. Choose a file only to replace it.")
                % {"name": letter.original_name}
            )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        areas = cast(forms.ModelMultipleChoiceField, self.fields["areas"])
        areas.queryset = AreaOfWork.objects.filter(is_active=True)
        category = cast(forms.ChoiceField, self.fields["category"])
        category.choices = [("", _("Choose a category")), *Category.choices]
        self.fields["rep_qualification"].widget = forms.RadioSelect(choices=Qualification.choices)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                _("1. The organisation"),
                Div(
                    Div("org_name", css_class="col-md-8"),
                    Div("org_acronym", css_class="col-md-4"),
                    css_class="row",
                ),
                "category",
                Div(
                    Div("country", css_class="col-md-6"),
                    Div("city", css_class="col-md-6"),
                    css_class="row",
                ),
                "website",
                "activities",
                "areas",
            ),
            Fieldset(
                _("2. The designated representative"),
                Div(
                    Div("rep_first_name", css_class="col-md-6"),
                    Div("rep_last_name", css_class="col-md-6"),
                    css_class="row",
                ),
                "rep_title",
                Div(
                    Div("rep_email", css_class="col-md-6"),
                    Div("rep_phone", css_class="col-md-6"),
                    css_class="row",
                ),
                "rep_qualification",
                "rep_declaration",
            ),
            Fieldset(
                _("3. Why the organisation wants to join"), "motivation", "agrees_to_statutes"
            ),
            Fieldset(
                _("4. Documents"),
                HTML('{% include "applications/includes/documents.html" with editable=True %}'),
                "letter",
                "supporting",
            ),
        )


class MessageForm(forms.Form):
    message = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 5}))
    letter = forms.FileField(
        label=_("A new signed letter (optional: replaces the one you sent)"),
        required=False,
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    documents = MultipleFileField(
        label=_("Documents to add (optional)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
