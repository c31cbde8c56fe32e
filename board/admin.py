"""The Board's screens: what awaits my vote, each vote with its file and tally, the rule."""

import copy

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
from core.templatetags.portal_time import when

from . import motions, services
from .models import Ballot, BallotStatus, Choice, Vote, VotingRule, VotingRuleChange


class VotingRuleChangeInline(admin.TabularInline):
    """The rule's history, read-only, for the Board and the staff."""

    model = VotingRuleChange
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "changed_when",
        "changed_by",
        "old_quorum_percent",
        "old_majority",
        "old_tie",
        "quorum_percent",
        "majority",
        "tie",
    )
    verbose_name_plural = _("History: every change of the rule, who made it and when")

    @admin.display(description=_("when"))
    def changed_when(self, obj: VotingRuleChange) -> str:
        return when(obj.changed_at)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(VotingRule)
class VotingRuleAdmin(admin.ModelAdmin):
    """The rule comes from the statutes: the Board and the staff read it and its history; only
    a superuser changes it, through ``services.change_voting_rule``, which keeps the change."""

    list_display = ["__str__", "quorum_percent", "majority", "tie", "updated_when", "updated_by"]
    fields = ["quorum_percent", "majority", "tie", "updated_when", "updated_by"]
    readonly_fields = ["updated_when", "updated_by"]
    inlines = [VotingRuleChangeInline]

    @admin.display(description=_("last changed"), ordering="updated_at")
    def updated_when(self, obj: VotingRule) -> str:
        return when(obj.updated_at)

    def has_add_permission(self, request) -> bool:
        # (The rule is read first, as before: the admin's menu keeps its query count.)
        return not VotingRule.objects.exists() and request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            obj.changes.create(
                changed_by=request.user,
                quorum_percent=obj.quorum_percent,
                majority=obj.majority,
                tie=obj.tie,
            )
            return
        # The form wrote the new values on ``obj``; the service reads the old ones from the row.
        services.change_voting_rule(
            by=request.user,
            quorum_percent=obj.quorum_percent,
            majority=obj.majority,
            tie=obj.tie,
        )
        obj.refresh_from_db()


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


def shown_again(form: forms.Form) -> forms.Form:
    """``form`` as it was sent, to show again with its errors: a NUL byte (refused: it cannot be
    stored) is left out of what was typed, so that it can be sent again as it is."""
    form.data = {
        name: value.replace("\x00", "") if isinstance(value, str) else value
        for name, value in form.data.items()
    }
    return form


def _confidential(motion: motions.Motion) -> str:
    if motion.reason_reader is None:
        return gettext("Your vote and your comment are for the Board and the Centre's staff only.")
    return gettext(
        "Your vote and your comment are for the Board and the Centre's staff only: they are "
        "never sent to %(reader)s."
    ) % {"reader": motion.reason_reader}


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=Choice.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how you vote.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, motion: motions.Motion, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].help_text = " ".join(
            [
                _confidential(motion),
                gettext("Required when you recuse yourself: say what the conflict of interest is."),
            ]
        )


def _reason_help(motion: motions.Motion) -> str:
    return gettext(
        "When %(reader)s is told the decision, this is sent to them as you write it (in their "
        "language if you can). The directors' votes and comments are never sent: they stay "
        "with the Board and the staff."
    ) % {"reader": motion.reason_reader}


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("The Board's reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, motion: motions.Motion, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        if motion.reason_reader is None:
            field.label = gettext("The Board's reason (for the Board and the staff only)")
            return
        field.label = gettext("The Board's reason, for %(reader)s") % {
            "reader": motion.reason_reader
        }
        field.help_text = " ".join(
            [
                _reason_help(motion),
                gettext(
                    "If you leave it empty and %(reader)s is owed a reason, the Centre's staff "
                    "are asked to write it on the Board's behalf."
                )
                % {"reader": motion.reason_reader},
            ]
        )


class ReasonForm(forms.Form):
    """The staff write the reason a decision taken without one owes the person concerned."""

    reason = forms.CharField(
        label=_("The Board's reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )

    def __init__(self, *args, motion: motions.Motion, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.label = gettext("The Board's reason, for %(reader)s") % {
            "reader": motion.reason_reader
        }
        field.help_text = _reason_help(motion)


@admin.register(Ballot)
class BallotAdmin(admin.ModelAdmin):
    list_display = ["question", "deadline_when", "status", "outcome", "vote_count", "my_vote"]
    list_filter = [MineFilter, KindFilter, "status", "outcome"]
    search_fields = ["subject_label"]
    change_form_template = "admin/board/ballot/change_form.html"
    readonly_fields = (
        "kind_label",
        "status",
        "opened_when",
        "opened_by",
        "deadline_when",
        "outcome",
        "decided_when",
        "closed_by",
        "decision_reason",
        "reason_by",
        "reason_when",
        "effect_note",
    )

    def get_fields(self, request, obj=None):
        fields = ["kind_label", "status", "opened_by", "opened_when", "deadline_when"]
        if obj is not None and obj.status != BallotStatus.OPEN:
            fields += ["outcome", "decided_when", "closed_by", "decision_reason"]
            if obj.reason_by_id:
                fields += ["reason_by", "reason_when"]
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

    # Times in the Centre's zone, saying so (the admin's own display names no zone).
    @admin.display(description=_("opened"), ordering="opened_at")
    def opened_when(self, obj: Ballot) -> str:
        return when(obj.opened_at)

    @admin.display(description=_("deadline"), ordering="deadline")
    def deadline_when(self, obj: Ballot) -> str:
        return when(obj.deadline)

    @admin.display(description=_("decided"), ordering="decided_at")
    def decided_when(self, obj: Ballot) -> str:
        return when(obj.decided_at)

    @admin.display(description=_("reason written"), ordering="reason_at")
    def reason_when(self, obj: Ballot) -> str:
        return when(obj.reason_at)

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
            path(
                "<int:pk>/reason/",
                self.admin_site.admin_view(require_POST(self.reason_view)),
                name="board_ballot_reason",
            ),
            *super().get_urls(),
        ]

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:board_ballot_change", args=[pk]))

    def _page_again(self, request: HttpRequest, pk: int, **forms_shown) -> HttpResponse:
        """The vote's page again, with a form as it was sent and its errors next to its fields
        (nothing typed is lost). The page is drawn as for a GET: the POST was this view's."""
        page_request = copy.copy(request)
        page_request.method = "GET"
        response = self.change_view(page_request, str(pk), extra_context=forms_shown)
        response.status_code = 400
        return response

    @staticmethod
    def _add_errors(form: forms.Form, error: ValidationError) -> bool:
        """Put a service's errors on ``form``'s fields; False when they are about no field."""
        if not hasattr(error, "error_dict"):
            return False
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return True

    def vote_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        user = request.user
        if not user.is_board_director:
            raise PermissionDenied
        ballot = get_object_or_404(Ballot, pk=pk)
        refusal = ballot.vote_refusal(user)
        if refusal:  # the page no longer offers the form: say why there
            self.message_user(request, refusal.message, messages.ERROR)
            return self._back(pk)
        form = VoteForm(request.POST, motion=ballot.motion)
        if not form.is_valid():
            return self._page_again(request, pk, vote_form=shown_again(form))
        try:
            services.cast_vote(
                ballot=ballot,
                director=user,
                choice=Choice(form.cleaned_data["choice"]),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            if self._add_errors(form, error):
                return self._page_again(request, pk, vote_form=form)
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
        refusal = ballot.close_refusal(request.user)
        if refusal and refusal.role:
            refusal.raise_it()
        form = CloseForm(request.POST, motion=ballot.motion)
        if not form.is_valid():
            return self._page_again(request, pk, close_form=shown_again(form))
        try:
            services.close_ballot(
                ballot=ballot, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if self._add_errors(form, error):
                return self._page_again(request, pk, close_form=form)
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, gettext("The vote is closed."), messages.SUCCESS)
        return self._back(pk)

    def reason_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        ballot = get_object_or_404(Ballot, pk=pk)
        refusal = ballot.reason_refusal(request.user)
        if refusal and refusal.role:
            refusal.raise_it()
        form = ReasonForm(request.POST, motion=ballot.motion)
        if not form.is_valid():
            return self._page_again(request, pk, reason_form=shown_again(form))
        try:
            services.write_decision_reason(
                ballot=ballot, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if self._add_errors(form, error):
                return self._page_again(request, pk, reason_form=form)
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("The reason is written and sent to %(reader)s.")
                % {"reader": ballot.motion.reason_reader},
                messages.SUCCESS,
            )
        return self._back(pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ballot = self.get_object(request, object_id)
        extra: dict = {}
        if ballot is not None:
            user: User = request.user
            directors = services.sitting_directors()
            view = services.tally_of(ballot, directors)
            my_vote = next((v for v in view.votes if v.director_id == user.pk), None)
            motion = ballot.motion
            subject = ballot.subject
            extra = {
                "ballot": ballot,
                "tally": view,
                "my_vote": my_vote,
                "reason_reader": motion.reason_reader,
                # Directors the administration turns away, for the staff and the President
                # to chase while the vote is open.
                "cannot_vote": services.directors_who_cannot_vote(directors)
                if ballot.is_open
                else [],
                # What the directors see about the motion, drawn by the motion's own template.
                "motion_template": motion.detail_template,
                "subject": subject,
                **motion.detail_context(ballot, subject),
                "can_vote": ballot.may_vote(user),
                "can_close": ballot.may_close(user),
                "can_write_reason": ballot.may_write_reason(user),
                "reason_form": ReasonForm(motion=motion)
                if motion.reason_reader is not None
                else None,
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
