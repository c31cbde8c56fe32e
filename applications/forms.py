from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from members.models import Category, Qualification

from .models import Application, AreaOfWork
from .services import DRAFT_FIELDS, REQUIRED_FOR_SUBMISSION

ACCEPT = ".pdf,.docx,.odt,.jpg,.jpeg,.png"

# Fields a draft keeps as typed even when they are wrong, so that nothing typed is lost;
# the page says what is wrong next to them, and submission refuses them.
KEPT_AS_TYPED = ("rep_email",)

# The anchor of the statutes' criteria for membership on the apply page.
CRITERIA_ANCHOR = "who-may-apply"


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
            self.fields["letter"].help_text = format_html(
                '{} <a href="{}">{}</a>',
                _("Uploaded: “%(name)s”. Choose a file only to replace it.")
                % {"name": letter.original_name},
                reverse("applications:letter_template"),
                _("Use our letter template."),
            )

    def typed_values_to_keep(self) -> dict[str, str]:
        """What was typed in the fields a draft keeps as typed, when the form found it wrong."""
        kept = {}
        for name in KEPT_AS_TYPED:
            if name in self.errors:
                max_length = getattr(self.fields[name], "max_length", None)
                kept[name] = str(self.data.get(name, "")).strip()[:max_length]
        return kept

    def check_kept_values(self) -> None:
        """On an unbound form, say what is wrong with a value the draft kept as typed."""
        assert not self.is_bound
        for name in KEPT_AS_TYPED:
            value = getattr(self.instance, name)
            if not value:
                continue
            try:
                self.fields[name].clean(value)
            except ValidationError as error:
                self.errors[name] = self.error_class(error.messages)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor, label, message) for each field's errors, in the order of the form."""
        order = [pointer.name for pointer in self.helper.layout.get_field_names()]
        order += [name for name in self.fields if name not in order]
        summary = []
        for name in order:
            if name not in self.errors:
                continue
            bound = self[name]
            anchor = bound.id_for_label or f"{bound.auto_id}_0"
            for message in self.errors[name]:
                summary.append((anchor, self.plain_labels[name], str(message)))
        return summary

    def _mark_required(self) -> None:
        """The fields a submission needs: a visible mark, and aria-required for screen readers.

        The mark is drawn by the stylesheet (.required-field), so labels keep their words; a
        group of radio buttons cannot carry aria-required, so its legend says it in words.
        """
        required = [*REQUIRED_FOR_SUBMISSION, "letter"]
        for name in required:
            self.helper[name].wrap(Field, wrapper_class="required-field")
            field = self.fields[name]
            if isinstance(field.widget, forms.RadioSelect):
                field.label = format_html(
                    '{}<span class="visually-hidden"> {}</span>', field.label, _("(required)")
                )
            else:
                field.widget.attrs["aria-required"] = "true"

    def _link_help(self) -> None:
        """Help texts that lead to the statutes' criteria and to the letter template."""
        criteria = f"{reverse('applications:apply')}#{CRITERIA_ANCHOR}"
        self.fields["category"].help_text = format_html(
            '<a href="{}">{}</a>', criteria, _("Who may become a member: the four categories")
        )
        self.fields["rep_qualification"].help_text = format_html(
            '{} <a href="{}">{}</a>',
            self.fields["rep_qualification"].help_text,
            criteria,
            _("Read the statutes' criteria."),
        )
        self.fields["letter"].help_text = format_html(
            '{} <a href="{}">{}</a>',
            self.fields["letter"].help_text,
            reverse("applications:letter_template"),
            _("Use our letter template."),
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.plain_labels = {name: str(field.label or "") for name, field in self.fields.items()}
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
                "rep_language",
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
        self._mark_required()
        self._link_help()


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
