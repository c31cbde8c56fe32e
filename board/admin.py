"""The Board's screens: what awaits my vote, each vote with its file and tally, the rule."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.models import User, sitting_director
from core.admin_site import FilterWithDefault
from core.http import SignedInRequest

from . import motions, services
from .models import Ballot, BallotStatus, Choice, Vote, VotingRule


@admin.register(VotingRule)
class VotingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "quorum_percent", "majority", "tie", "updated_at", "updated_by"]
    fields = ["quorum_percent", "majority", "tie", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request) -> bool:
        return not VotingRule.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class MineFilter(FilterWithDefault):
    """Directors land on what awaits their vote; everyone can see all votes."""

    title = _("votes to show")
    parameter_name = "show"

    def lookups(self, request, model_admin):
        return [
            ("awaiting", _("Awaiting my vote")),
            ("open", _("All open votes")),
            ("closed", _("Decided or cancelled")),
            ("all", _("All")),
        ]

    def default_value(self) -> str:
        return "awaiting" if getattr(self.request.user, "is_board_director", False) else "all"

    def queryset(self, request, queryset):
        value = self.value()
        if value == "awaiting":
            return queryset.awaiting_vote_of(request.user)
        if value == "open":
            return queryset.filter(status=BallotStatus.OPEN)
        if value == "closed":
            return queryset.exclude(status=BallotStatus.OPEN)
        return queryset


class KindFilter(admin.SimpleListFilter):
    """The kinds of motion the apps registered with the Board."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return motions.choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=Choice.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, motion: motions.Motion, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].help_text = gettext(
            "Required when you recuse yourself: say what the conflict of interest is. If the "
            "Board rejects the motion without a reason from the President, the comments of "
            "those who voted against are sent to %(reader)s as the Board's reason."
        ) % {"reader": motion.reason_reader}


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("The Board's reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, motion: motions.Motion, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = gettext("The Board's reason (sent to %(reader)s)") % {
            "reader": motion.reason_reader
        }


@admin.register(Ballot)
class BallotAdmin(admin.ModelAdmin):
    list_display = ["question", "deadline", "status", "outcome", "vote_count", "my_vote"]
    list_filter = [MineFilter, KindFilter, "status", "outcome"]
    search_fields = ["subject_label"]
    change_form_template = "admin/board/ballot/change_form.html"
    readonly_fields = (
        "kind_label",
        "status",
        "opened_at",
        "opened_by",
        "deadline",
        "outcome",
        "decided_at",
        "closed_by",
        "decision_reason",
    )

    def get_fields(self, request, obj=None):
        fields = ["kind_label", "status", "opened_by", "opened_at", "deadline"]
        if obj is not None and obj.status != BallotStatus.OPEN:
            fields += ["outcome", "decided_at", "closed_by", "decision_reason"]
            if obj.effect_note:
                fields.append("effect_note")
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ballot]:
        mine = Vote.objects.filter(ballot=OuterRef("pk"), director_id=request.user.pk).values(
            "choice"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                vote_count=Count(
                    "votes", filter=sitting_director("votes__director__"), distinct=True
                ),
                my_choice=Subquery(mine[:1]),
            )
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("question"), ordering="subject_label")
    def question(self, obj: Ballot) -> str:
        return obj.title

    @admin.display(description=_("kind"))
    def kind_label(self, obj: Ballot) -> str:
        return obj.kind_label

    @admin.display(description=_("votes"), ordering="vote_count")
    def vote_count(self, obj) -> int:
        return obj.vote_count

    @admin.display(description=_("my vote"))
    def my_vote(self, obj) -> str:
        return str(Choice(obj.my_choice).label) if obj.my_choice else "–"

    def get_urls(self):
        return [
            path(
                "<int:pk>/vote/",
                self.admin_site.admin_view(require_POST(self.vote_view)),
                name="board_ballot_vote",
            ),
            path(
                "<int:pk>/close/",
                self.admin_site.admin_view(require_POST(self.close_view)),
                name="board_ballot_close",
            ),
            *super().get_urls(),
        ]

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:board_ballot_change", args=[pk]))

    def vote_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        user = request.user
        if not user.is_board_director:
            raise PermissionDenied
        ballot = get_object_or_404(Ballot, pk=pk)
        form = VoteForm(request.POST, motion=ballot.motion)
        if not form.is_valid():
            self.message_user(request, gettext("Choose how you vote."), messages.ERROR)
            return self._back(pk)
        try:
            services.cast_vote(
                ballot=ballot,
                director=user,
                choice=Choice(form.cleaned_data["choice"]),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            ballot.refresh_from_db()
            text = gettext("Your vote is recorded.")
            if ballot.status == BallotStatus.DECIDED:
                text += " " + gettext(
                    "The outcome is now certain: the Board has decided (%(o)s)."
                ) % {"o": ballot.get_outcome_display()}
            self.message_user(request, text, messages.SUCCESS)
        return self._back(pk)

    def close_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        ballot = get_object_or_404(Ballot, pk=pk)
        form = CloseForm(request.POST, motion=ballot.motion)
        form.is_valid()
        try:
            services.close_ballot(
                ballot=ballot,
                by=request.user,
                reason=form.cleaned_data.get("reason", ""),
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, gettext("The vote is closed."), messages.SUCCESS)
        return self._back(pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ballot = self.get_object(request, object_id)
        extra: dict = {}
        if ballot is not None:
            user: User = request.user
            view = services.tally_of(ballot)
            my_vote = next((v for v in view.votes if v.director_id == user.pk), None)
            motion = ballot.motion
            subject = ballot.subject
            extra = {
                "ballot": ballot,
                "tally": view,
                "my_vote": my_vote,
                # What the directors see about the motion, drawn by the motion's own template.
                "motion_template": motion.detail_template,
                "subject": subject,
                **motion.detail_context(ballot, subject),
                "can_vote": ballot.may_vote(user),
                "can_close": ballot.may_close(user),
                "vote_form": VoteForm(
                    motion=motion,
                    initial={
                        "choice": my_vote.choice if my_vote else None,
                        "comment": my_vote.comment if my_vote else "",
                    },
                ),
                "close_form": CloseForm(motion=motion),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
