"""The member's side: its Membership page and the actions on it, the renewal notice's page,
and a designated representative's answer to their designation."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from allauth.account.decorators import verified_email_required
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from board.models import Ballot, BallotStatus
from core.http import SignedInRequest

from . import services
from .forms import (
    ContactForm,
    DismissalResponseForm,
    RenewalChangesForm,
    RepresentativeChangeForm,
    ResignationForm,
)
from .models import (
    Contact,
    DismissalResponse,
    Membership,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
    Qualification,
    RenewalAnswer,
    RenewalNotice,
    Representative,
    RepresentativeChange,
    RepresentativeChangeStatus,
    RepresentativeStatus,
    RepresentativeStatusChange,
)
from .services import contacts as contact_services
from .services import member as member_services


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


# --- The Membership page ----------------------------------------------------------------------


@dataclass
class HistoryItem:
    at: datetime.datetime
    what: str
    by: str
    note: str = ""


@dataclass
class DismissalVote:
    ballot: Ballot
    responses: list[DismissalResponse]
    form: DismissalResponseForm


@dataclass
class MemberCard:
    """One membership as its Membership page shows it."""

    membership: Membership
    representative: Representative | None = None
    pending_change: RepresentativeChange | None = None
    notice: RenewalNotice | None = None
    answered_notice: RenewalNotice | None = None
    changes_form: RenewalChangesForm | None = None
    dismissals: list[DismissalVote] = field(default_factory=list)
    history: list[HistoryItem] = field(default_factory=list)

    @property
    def can_resign(self) -> bool:
        return self.membership.is_active and not self.membership.resigns_at_period_end

    @property
    def can_manage_contacts(self) -> bool:
        return self.membership.is_active and self.membership.organisation_id is not None

    @property
    def can_change_representative(self) -> bool:
        return (
            self.membership.is_active
            and self.membership.organisation_id is not None
            and self.pending_change is None
        )


def _by(actor_id: int | None, people: dict[int, str], nobody: str) -> str:
    """Who did it: a name for the member's own people, the Centre for its staff and Board."""
    if actor_id is None:
        return nobody
    return people.get(actor_id) or _("The Centre")


def _history(membership: Membership, representatives: list[Representative]) -> list[HistoryItem]:
    people = {rep.user_id: str(rep.user) for rep in representatives}
    if membership.person is not None:
        people[membership.person.pk] = str(membership.person)
    automatic = _("Automatically")
    items: list[HistoryItem] = []
    for change in membership.status_changes.all():
        if change.to_status == MembershipStatus.ACTIVE:
            what = _("Became a member (%(kind)s)") % {"kind": membership.get_kind_display()}
        else:
            what = _("The membership ended")
        items.append(
            HistoryItem(change.at, what, _by(change.actor_id, people, automatic), change.note)
        )
    for renewal in membership.renewals.all():
        what = _("Renewed for the period %(start)s – %(end)s") % {
            "start": _date(renewal.period_start),
            "end": _date(renewal.period_end),
        }
        items.append(HistoryItem(renewal.renewed_at, what, _by(renewal.by_id, people, automatic)))
    from_link = _("From the link in the notice")
    for event in membership.events.all():
        nobody = from_link if event.kind in ANSWER_EVENTS else automatic
        items.append(
            HistoryItem(
                event.at, event.get_kind_display(), _by(event.by_id, people, nobody), event.note
            )
        )
    start = membership.started_on
    end = membership.ended_on
    for rep in representatives:
        for rep_change in rep.status_changes.all():
            day = timezone.localdate(rep_change.at)
            if day < start or (end is not None and day > end):
                continue
            items.append(
                HistoryItem(
                    rep_change.at,
                    _representative_move(rep, rep_change),
                    _by(rep_change.actor_id, people, automatic),
                    rep_change.note,
                )
            )
    items.sort(key=lambda item: item.at, reverse=True)
    return items


ANSWER_EVENTS = {"notice_confirmed", "changes_reported"}


def _date(value: datetime.date) -> str:
    return date_format(value, "DATE_FORMAT")


def _representative_move(rep: Representative, move: RepresentativeStatusChange) -> str:
    name = {"name": str(rep.user)}
    if not move.from_status and move.to_status == RepresentativeStatus.PROPOSED:
        return _("%(name)s designated as representative, awaiting their acceptance") % name
    if not move.from_status:
        return _("%(name)s designated as representative") % name
    if move.to_status == RepresentativeStatus.ENDED:
        return _("%(name)s no longer represents the member") % name
    if move.from_status == RepresentativeStatus.PROPOSED:
        return _("%(name)s accepted the designation") % name
    return _("%(name)s's title or qualification changed") % name


def _cards(user: User, bound: dict[str, forms.Form] | None = None) -> list[MemberCard]:
    """The user's memberships, each with all the page shows, in a fixed number of queries."""
    bound = bound or {}
    memberships = list(
        member_services.memberships_visible_to(user)
        .select_related("organisation", "person")
        .prefetch_related(
            Prefetch("status_changes", queryset=MembershipStatusChange.objects.order_by("at")),
            "renewals",
            "events",
            Prefetch("renewal_notices", queryset=RenewalNotice.objects.order_by("-renews_on")),
        )
        .order_by("status", "-started_on", "pk")
    )
    organisation_ids = {m.organisation_id for m in memberships if m.organisation_id}
    representatives: dict[int, list[Representative]] = {}
    changes: dict[int, list[RepresentativeChange]] = {}
    votes: dict[int, list[Ballot]] = {}
    responses: dict[int, list[DismissalResponse]] = {}
    if organisation_ids:
        for rep in (
            Representative.objects.filter(organisation_id__in=organisation_ids)
            .select_related("user")
            .prefetch_related(
                Prefetch(
                    "status_changes", queryset=RepresentativeStatusChange.objects.order_by("at")
                )
            )
            .order_by("started_on", "pk")
        ):
            representatives.setdefault(rep.organisation_id, []).append(rep)
        for change in RepresentativeChange.objects.filter(organisation_id__in=organisation_ids):
            changes.setdefault(change.organisation_id, []).append(change)
        ballots = list(
            Ballot.objects.open().filter(
                kind=services.DISMISSAL,
                subject_type__app_label="members",
                subject_type__model="organisation",
                subject_id__in=organisation_ids,
            )
        )
        for ballot in ballots:
            votes.setdefault(ballot.subject_id, []).append(ballot)
        for response in DismissalResponse.objects.filter(
            organisation_id__in=organisation_ids,
            ballot__status=BallotStatus.OPEN,
            ballot__kind=services.DISMISSAL,
        ).select_related("by"):
            responses.setdefault(response.ballot_id, []).append(response)
    cards = []
    for membership in memberships:
        org_id = membership.organisation_id
        reps = representatives.get(org_id, []) if org_id else []
        asked = changes.get(org_id, []) if org_id else []
        card = MemberCard(
            membership=membership,
            representative=next((r for r in reps if r.status != RepresentativeStatus.ENDED), None),
            pending_change=next(
                (c for c in asked if c.status == RepresentativeChangeStatus.PENDING), None
            ),
            history=_history(membership, reps),
        )
        notices = list(membership.renewal_notices.all())
        # Only a notice for a renewal still ahead asks for an answer (awaiting_answer's rule,
        # read from the prefetched rows).
        today = timezone.localdate()
        card.notice = next(
            (
                n
                for n in notices
                if not n.is_answered
                and n.renews_on > today
                and membership.renews_on is not None
                and not membership.ends_at_renewal
            ),
            None,
        )
        card.answered_notice = next((n for n in notices if n.is_answered), None)
        if card.notice is not None and membership.is_active:
            key = f"notice-{card.notice.pk}"
            card.changes_form = bound.get(key) or RenewalChangesForm(prefix=key)  # type: ignore[assignment]
        else:
            card.notice = None
        if membership.is_active and org_id:
            for ballot in votes.get(org_id, []):
                key = f"dismissal-{ballot.pk}"
                form = bound.get(key) or DismissalResponseForm(prefix=key)
                card.dismissals.append(
                    DismissalVote(ballot, responses.get(ballot.pk, []), form)  # type: ignore[arg-type]
                )
        cards.append(card)
    return cards


def _membership_page(
    request: SignedInRequest[User], bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    cards = _cards(request.user, bound)
    return render(
        request,
        "members/membership.html",
        {
            "current": [c for c in cards if c.membership.is_active],
            "former": [c for c in cards if not c.membership.is_active],
            "cards": cards,
        },
        status=status,
    )


@verified_email_required
def membership(request: SignedInRequest[User]) -> HttpResponse:
    return _membership_page(request)


def _refused(request: HttpRequest, error: ValidationError) -> HttpResponse:
    messages.error(request, " ".join(error.messages))
    return redirect("members:membership")


def _visible(user: User):
    return member_services.memberships_visible_to(user)


def _own_membership(request: SignedInRequest[User], pk: int) -> Membership:
    """A membership the signed-in person sees; anyone else's answers 404."""
    return get_object_or_404(_visible(request.user).select_related("organisation", "person"), pk=pk)


def _form_error(form: forms.Form, error: ValidationError) -> bool:
    """Put a service's refusal next to its field; False when it is about no field of the form."""
    if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
        return True
    return False


@verified_email_required
@require_POST
def answer_notice(request: SignedInRequest[User], pk: int) -> HttpResponse:
    """Answer a renewal notice from the Membership page: confirm, or say what changed."""
    notice = get_object_or_404(
        RenewalNotice.objects.select_related("membership"),
        pk=pk,
        membership__in=_visible(request.user),
    )
    confirmed = request.POST.get("answer") == RenewalAnswer.CONFIRMED
    key = f"notice-{notice.pk}"
    form = RenewalChangesForm(request.POST, prefix=key)
    if not confirmed and not form.is_valid():
        return _membership_page(request, {key: form}, status=400)
    try:
        member_services.answer_renewal_notice(
            notice=notice,
            by=request.user,
            confirmed=confirmed,
            changes="" if confirmed else form.cleaned_data["changes"],
        )
    except ValidationError as error:
        if _form_error(form, error):
            return _membership_page(request, {key: form}, status=400)
        return _refused(request, error)
    messages.success(request, _answered_message(confirmed))
    return redirect("members:membership")


def _answered_message(confirmed: bool) -> str:
    if confirmed:
        return _("Thank you: the membership renews with the details the Centre has.")
    return _("Thank you: the Centre's staff have what changed and will write to you.")


@verified_email_required
def resign(request: SignedInRequest[User], pk: int) -> HttpResponse:
    """A page that says what resigning does and asks for confirmation; its form resigns."""
    held = _own_membership(request, pk)
    card = MemberCard(membership=held)
    if not card.can_resign:
        messages.error(
            request,
            _("This membership has already ended.")
            if not held.is_active
            else _("The member has already resigned with effect at the end of the period."),
        )
        return redirect("members:membership")
    renews = held.kind == MembershipKind.GENERAL
    form = ResignationForm(request.POST if request.method == "POST" else None, renews=renews)
    if form.is_bound and form.is_valid():
        try:
            member_services.resign_membership(
                membership=held,
                by=request.user,
                at_period_end=form.at_period_end,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            return _refused(request, error)
        if form.at_period_end:
            messages.success(
                request,
                _(
                    "The resignation is recorded: the membership ends on %(on)s. You can take "
                    "it back on this page until then."
                )
                % {"on": _date(held.renews_on)},  # type: ignore[arg-type]
            )
        else:
            messages.success(request, _("The resignation is recorded: the membership has ended."))
        return redirect("members:membership")
    return render(
        request,
        "members/membership_resign.html",
        {"membership": held, "form": form, "renews": renews},
        status=400 if form.is_bound else 200,
    )


@verified_email_required
@require_POST
def withdraw_resignation(request: SignedInRequest[User], pk: int) -> HttpResponse:
    held = _own_membership(request, pk)
    try:
        member_services.withdraw_resignation(membership=held, by=request.user)
    except ValidationError as error:
        return _refused(request, error)
    messages.success(request, _("The resignation is taken back: the membership will renew."))
    return redirect("members:membership")


@verified_email_required
def change_representative(request: SignedInRequest[User], pk: int) -> HttpResponse:
    """The member designates a new representative and declares their qualification."""
    held = _own_membership(request, pk)
    if held.organisation is None or not held.is_active:
        messages.error(request, _("Only a current member organisation has a representative."))
        return redirect("members:membership")
    refusal = member_services.change_already_asked(held.organisation)
    if refusal is not None:
        messages.info(request, " ".join(refusal.messages))
        return redirect("members:membership")
    form = RepresentativeChangeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            member_services.ask_representative_change(
                organisation=held.organisation,
                by=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                language=data["language"],
                title=data["title"],
                qualification=Qualification(data["qualification"]),
            )
        except ValidationError as error:
            if not _form_error(form, error):
                form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "The change of representative is sent to the Centre's staff. Once they "
                    "confirm it, the new representative is invited by email."
                ),
            )
            return redirect("members:membership")
    current = Representative.objects.current().filter(organisation=held.organisation).first()
    return render(
        request,
        "members/membership_representative.html",
        {"membership": held, "form": form, "representative": current},
        status=400 if form.is_bound else 200,
    )


@verified_email_required
@require_POST
def withdraw_representative_change(request: SignedInRequest[User], pk: int) -> HttpResponse:
    change = get_object_or_404(
        RepresentativeChange,
        pk=pk,
        organisation__memberships__in=_visible(request.user).filter(status=MembershipStatus.ACTIVE),
    )
    try:
        member_services.withdraw_representative_change(change=change, by=request.user)
    except ValidationError as error:
        return _refused(request, error)
    messages.success(request, _("The change of representative is withdrawn."))
    return redirect("members:membership")


@verified_email_required
@require_POST
def respond_to_dismissal(request: SignedInRequest[User], pk: int) -> HttpResponse:
    """The member's written response to a dismissal put to the Board."""
    represented = _visible(request.user).filter(
        status=MembershipStatus.ACTIVE, organisation__isnull=False
    )
    ballot = get_object_or_404(
        Ballot,
        pk=pk,
        kind=services.DISMISSAL,
        subject_type__app_label="members",
        subject_type__model="organisation",
        subject_id__in=represented.values("organisation_id"),
    )
    key = f"dismissal-{ballot.pk}"
    form = DismissalResponseForm(request.POST, prefix=key)
    if not form.is_valid():
        return _membership_page(request, {key: form}, status=400)
    organisation = represented.get(organisation_id=ballot.subject_id).organisation
    try:
        services.respond_to_dismissal(
            ballot=ballot,
            organisation=organisation,
            by=request.user,
            text=form.cleaned_data["text"],
        )
    except ValidationError as error:
        if _form_error(form, error):
            return _membership_page(request, {key: form}, status=400)
        return _refused(request, error)
    messages.success(request, _("Your response is sent: every director reads it before voting."))
    return redirect("members:membership")


# --- The renewal notice, answered from the emailed link ----------------------------------------


def renewal_notice(request: HttpRequest, token: str) -> HttpResponse:
    """The notice's page: the signed link is the key, no sign-in needed. GET changes nothing."""
    notice = RenewalNotice.from_token(token)
    if notice is None:
        return render(request, "members/renewal_notice_invalid.html", status=404)
    held = notice.membership
    key = "notice"
    form = RenewalChangesForm(prefix=key)
    status = 200
    if request.method == "POST":
        confirmed = request.POST.get("answer") == RenewalAnswer.CONFIRMED
        form = RenewalChangesForm(request.POST, prefix=key)
        by: User | None = None
        if isinstance(request.user, User) and member_services.acts_for(held, request.user):
            by = request.user
        if confirmed or form.is_valid():
            try:
                member_services.answer_renewal_notice(
                    notice=notice,
                    by=by,
                    confirmed=confirmed,
                    changes="" if confirmed else form.cleaned_data["changes"],
                )
            except ValidationError as error:
                if not _form_error(form, error):
                    messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _answered_message(confirmed))
                return redirect("members:renewal_notice", token=token)
        status = 400
        notice.refresh_from_db()
    representative = (
        Representative.objects.current()
        .filter(organisation_id=held.organisation_id)
        .select_related("user")
        .first()
        if held.organisation_id
        else None
    )
    context: dict[str, Any] = {
        "notice": notice,
        "awaits_answer": notice.awaits_answer(timezone.localdate()),
        "membership": held,
        "organisation": held.organisation,
        "representative": representative,
        "form": form,
        "token": token,
    }
    return render(request, "members/renewal_notice.html", context, status=status)


# --- The organisation's contacts (colleagues who get the member fee) --------------------------


def _contacts_page(
    request: SignedInRequest[User], membership: Membership, form: ContactForm, status: int = 200
) -> HttpResponse:
    contacts = (
        Contact.objects.current()
        .filter(organisation=membership.organisation)
        .select_related("user", "added_by")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    return render(
        request,
        "members/contacts.html",
        {"membership": membership, "contacts": contacts, "form": form},
        status=status,
    )


@verified_email_required
def contacts(request: SignedInRequest[User], pk: int) -> HttpResponse:
    """The representative's list of the organisation's contacts, and adding one."""
    membership = _own_membership(request, pk)
    if membership.organisation_id is None or not membership.is_active:
        raise Http404
    form = ContactForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST":
        if not form.is_valid():
            return _contacts_page(request, membership, form, status=400)
        try:
            contact = contact_services.add_contact(
                membership=membership, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            if not _form_error(form, error):
                form.add_error(None, error)
            return _contacts_page(request, membership, form, status=400)
        except PermissionDenied as error:
            raise Http404 from error
        messages.success(
            request,
            _("%(name)s is now one of your contacts, and has been told by email.")
            % {"name": contact.user.get_full_name() or contact.user.email},
        )
        return redirect("members:contacts", pk=membership.pk)
    return _contacts_page(request, membership, form)


@verified_email_required
@require_POST
def remove_contact(request: SignedInRequest[User], pk: int, contact_pk: int) -> HttpResponse:
    membership = _own_membership(request, pk)
    contact = get_object_or_404(
        Contact.objects.current().select_related("user"),
        pk=contact_pk,
        organisation_id=membership.organisation_id,
    )
    try:
        contact_services.remove_contact(contact=contact, by=request.user)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(
        request,
        _("%(name)s is no longer one of your contacts.")
        % {"name": contact.user.get_full_name() or contact.user.email},
    )
    return redirect("members:contacts", pk=membership.pk)
