"""A designated representative answers their designation from their account page."""

from allauth.account.decorators import verified_email_required
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from core.http import SignedInRequest

from . import services
from .models import Representative


class DeclineForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Anything the Centre's staff should know (optional)"),
        required=False,
        max_length=2000,
    )


def _own_designation(request: SignedInRequest[User], pk: int) -> Representative:
    """The signed-in person's own designation; anyone else's answers 404."""
    return get_object_or_404(
        Representative.objects.select_related("organisation"), pk=pk, user=request.user
    )


@verified_email_required
@require_POST
def accept(request: SignedInRequest[User], pk: int) -> HttpResponse:
    designation = _own_designation(request, pk)
    try:
        services.accept_designation(representative=designation, by=request.user)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You now represent %(org)s at the Centre.") % {"org": designation.organisation.name},
        )
    return redirect("accounts:profile")


@verified_email_required
@require_POST
def decline(request: SignedInRequest[User], pk: int) -> HttpResponse:
    designation = _own_designation(request, pk)
    form = DeclineForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.decline_designation(representative=designation, by=request.user, note=note)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You declined to represent %(org)s; the Centre's staff are told.")
            % {"org": designation.organisation.name},
        )
    return redirect("accounts:profile")
