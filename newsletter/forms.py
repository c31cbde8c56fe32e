from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Language, Subscriber, Topic


class TopicChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Topic) -> str:
        from django.utils.translation import get_language

        return obj.name_in(get_language() or Language.ENGLISH)


def _topics_field() -> TopicChoiceField:
    return TopicChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Topics"),
        help_text=_("Leave them all unticked to receive every edition sent to everyone."),
    )


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    language = forms.ChoiceField(
        label=_("Language of the newsletter"), choices=Language.choices, widget=forms.RadioSelect
    )
    topics = _topics_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        if not Topic.objects.exists():
            del self.fields["topics"]


class PreferencesForm(forms.ModelForm):
    topics = _topics_field()

    class Meta:
        model = Subscriber
        fields = ["language", "topics"]
        widgets = {"language": forms.RadioSelect}
        labels = {"language": _("Language of the newsletter")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not Topic.objects.exists():
            del self.fields["topics"]
