"""The events' public pages (list, archive, page, calendar feed) and the attendee's own:
registering, "My registrations", cancelling."""

import datetime
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.people import PEOPLE
from core.http import SignedInRequest
from core.pagecache import MAX_CACHED_QUERY, cache_for_anonymous, cached_for_generation
from core.personalpages import cache_for_person, changes_at, changes_at_midnight

from . import services
from .calendar import event_calendar
from .fees import Fee, NoFee, decide_fee, member_standing
from .forms import EventFilterForm, RegistrationForm
from .models import Event, FeeTier, Registration

PAGE_SIZE = 20


def _filtered(events: QuerySet[Event], form: EventFilterForm) -> QuerySet[Event]:
    form.is_valid()  # each valid filter applies; a wrong one is ignored
    data = form.cleaned_data
    if data.get("kind"):
        events = events.filter(kind=data["kind"])
    if data.get("language"):
        events = events.filter(language=data["language"])
    where = data.get("where")
    if where == "online":
        events = events.filter(online=True)
    elif where:
        events = events.filter(country=where, online=False)
    month = form.month_range()
    if month is not None:
        start, end = month
        events = events.filter(starts_at__lt=end, ends_at__gte=start)
    return events


def _render_listing(query: QueryDict, *, past: bool) -> str:
    """The list itself (filters, events, pages): the same for everyone."""
    now = timezone.now()
    base = Event.objects.listed()
    base = base.past(now) if past else base.upcoming(now)
    countries = sorted(
        base.exclude(country="").order_by().values_list("country", flat=True).distinct()
    )
    form = EventFilterForm(query, country_codes=countries)
    events = _filtered(base, form).order_by("-starts_at" if past else "starts_at", "pk")
    page = Paginator(events, PAGE_SIZE).get_page(query.get("page"))
    others = query.copy()
    others.pop("page", None)
    return render_to_string(
        "events/includes/listing.html",
        {
            "page": page,
            "events": page.object_list,
            "form": form,
            "past": past,
            "query": others.urlencode(),
            "filtered": any(form.cleaned_data.values()),
        },
    )


def _listing(request: HttpRequest, *, past: bool) -> HttpResponse:
    query = urlencode(sorted(request.GET.items()))
    if len(query) <= MAX_CACHED_QUERY:
        listing = cached_for_generation(
            f"events:{'past' if past else 'upcoming'}?{query}",
            services.EVENT_PAGES,
            lambda: _render_listing(request.GET, past=past),
        )
    else:
        listing = _render_listing(request.GET, past=past)
    return render(request, "events/list.html", {"listing": mark_safe(listing), "past": past})  # noqa: S308 - rendered by our template


# A signed-in person's pages: the events, and where they stand (their fee, their menu).
_PERSONAL = (services.EVENT_PAGES, PEOPLE)


@require_GET
@cache_for_anonymous(generation=services.EVENT_PAGES, query=True)
@cache_for_person(generations=_PERSONAL)
def event_list(request: HttpRequest) -> HttpResponse:
    return _listing(request, past=False)


@require_GET
@cache_for_anonymous(generation=services.EVENT_PAGES, query=True)
@cache_for_person(generations=_PERSONAL)
def archive(request: HttpRequest) -> HttpResponse:
    return _listing(request, past=True)


@require_GET
@cache_for_anonymous(generation=services.EVENT_PAGES, content_type="text/calendar; charset=utf-8")
def feed(request: HttpRequest) -> HttpResponse:
    """Every published event of the last year and to come, visits included."""
    since = timezone.now() - datetime.timedelta(days=365)
    events = Event.objects.published().filter(ends_at__gte=since).order_by("starts_at", "pk")
    body = event_calendar(events, name=_("ICPC events"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="icpc-events.ics"'
    return response


def _load_event(events: QuerySet[Event], slug: str) -> Event | None:
    return (
        events.select_related("parent")
        .prefetch_related(
            Prefetch("fee_tiers", queryset=FeeTier.objects.order_by("position", "amount", "pk")),
            Prefetch(
                "visits",
                queryset=Event.objects.published()
                .order_by("starts_at", "pk")
                .prefetch_related(
                    Prefetch(
                        "fee_tiers", queryset=FeeTier.objects.order_by("position", "amount", "pk")
                    )
                ),
            ),
        )
        .filter(slug=slug)
        .first()
    )


def _event(request: HttpRequest, slug: str) -> Event:
    """The event with its fees and visits. A published event is read once per change of any
    event (the same generation as the cached pages) and is the same for everyone, staff
    included; only a slug that no published event has is looked up again for the staff, who
    also see drafts (their own query, each time)."""
    shared = _shared_event(slug)
    if shared is not None:
        return shared.event
    user = request.user
    if user.is_authenticated and user.is_centre_staff:
        event = _load_event(Event.objects.all(), slug)
        if event is not None:
            return event
    raise Http404


def _their_fee(event: Event, user: User) -> Fee | NoFee:
    today = timezone.localdate()
    return decide_fee(
        event, membership=member_standing(user, today), on=today, tiers=list(event.fee_tiers.all())
    )


# The event page is the same for everyone but for a few places: the registration box (the
# person's registration, their fee, whether registration is still open) and, on each visit,
# "You are registered" or the button to register. The shared template marks those places with
# these comments; the page is kept as the pieces between them.
_REGISTRATION_SLOT = "<!--registration-->"
_VISIT_SLOT = re.compile(r"<!--visit:(\d+)-->")


@dataclass(frozen=True)
class SharedPage:
    """An event page's shared HTML, cut where each person's parts go: ``pieces`` alternate
    HTML and slots (``"registration"`` or a visit's id). ``visit_actions`` holds, per visit, its
    button to register (empty if it is cancelled); ``registered`` the badge shown instead."""

    event: Event
    pieces: list[str | int]
    visit_actions: dict[int, str]
    registered: str

    def assemble(self, *, registration_box: str, registered_visits: set[int]) -> SafeString:
        """The page's body for one person: their registration box, and on each visit they are
        registered to the badge instead of the button."""
        body = []
        for piece in self.pieces:
            if piece == "registration":
                body.append(registration_box)
            elif isinstance(piece, int):
                body.append(
                    self.registered if piece in registered_visits else self.visit_actions[piece]
                )
            else:
                body.append(piece)
        # Every piece is the output of our templates: already escaped.
        return mark_safe("".join(body))  # noqa: S308


def _render_shared_page(event: Event) -> SharedPage:
    html = render_to_string("events/includes/detail_shared.html", {"event": event})
    pieces: list[str | int] = []
    for number, part in enumerate(_VISIT_SLOT.split(html)):
        if number % 2:  # what the pattern captured: a visit's id
            pieces.append(int(part))
            continue
        before, found, after = part.partition(_REGISTRATION_SLOT)
        pieces.append(before)
        if found:
            pieces += ["registration", after]
    return SharedPage(
        event=event,
        pieces=pieces,
        visit_actions={
            visit.pk: render_to_string("events/includes/visit_action.html", {"visit": visit})
            for visit in event.visits.all()
        },
        registered=render_to_string("events/includes/visit_registered.html"),
    )


def _shared_event(slug: str) -> SharedPage | None:
    """The published event ``slug`` and its page's shared HTML, made once per generation (and
    language): any change of an event, its fees or its seats taken makes them again."""

    def make() -> SharedPage | bool:
        event = _load_event(Event.objects.published(), slug)
        return _render_shared_page(event) if event is not None else False

    return cached_for_generation(f"event:{slug}", services.EVENT_PAGES, make) or None


def _registration_box(request: HttpRequest, event: Event, registration: Registration | None) -> str:
    """The person's own part of the sidebar: their registration, or their fee and the button."""
    context: dict = {
        "event": event,
        "registration": registration,
        "registration_open": event.registration_open(timezone.now()),
    }
    # The box changes when registration closes; the fee, when a dated one ends (at midnight).
    changes_at(request, event.registration_closes_at or event.starts_at)
    if request.user.is_authenticated and registration is None and context["registration_open"]:
        changes_at_midnight(request)
        today = timezone.localdate()
        context["fee"] = decide_fee(
            event,
            membership=member_standing(request.user, today),
            on=today,
            tiers=list(event.fee_tiers.all()),
        )
    context["user"] = request.user
    return render_to_string("events/includes/registration_box.html", context)


@require_GET
@cache_for_anonymous(generation=services.EVENT_PAGES)
@cache_for_person(generations=_PERSONAL)
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    shared = _shared_event(slug)
    if shared is None:  # a draft (for the staff) or no such event
        shared = _render_shared_page(_event(request, slug))
    event = shared.event
    registration = None
    registered_visits: set[int] = set()
    if request.user.is_authenticated:
        # One query for the person's active registrations to the event and its visits.
        for row in (
            Registration.objects.active()
            .filter(user=request.user, event_id__in=[event.pk, *shared.visit_actions])
            .only("pk", "event_id", "status")
        ):
            if row.event_id == event.pk:
                registration = row
            else:
                registered_visits.add(row.event_id)
    body = shared.assemble(
        registration_box=_registration_box(request, event, registration),
        registered_visits=registered_visits,
    )
    # The pieces are our templates' output: already escaped.
    return render(request, "events/detail.html", {"event": event, "body": mark_safe("".join(body))})  # noqa: S308


@require_GET
def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event(request, slug)
    response = HttpResponse(event_calendar([event]), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


def _initial(user: User, fee: Fee | NoFee) -> dict:
    organisation = fee.organisation if isinstance(fee, Fee) else None
    previous = (
        Registration.objects.filter(user=user)
        .order_by("-registered_at")
        .only("job_title", "organisation_name", "dietary_needs", "accessibility_needs")
        .first()
    )
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "job_title": previous.job_title if previous else "",
        "organisation_name": organisation.name
        if organisation is not None
        else (previous.organisation_name if previous else ""),
        "dietary_needs": previous.dietary_needs if previous else "",
        "accessibility_needs": previous.accessibility_needs if previous else "",
    }


@verified_email_required
def register(request: SignedInRequest[User], slug: str) -> HttpResponse:
    event = _event(request, slug)
    existing = Registration.objects.active().filter(event=event, user=request.user).first()
    if existing is not None:
        messages.info(request, _("You are already registered for this event."))
        return redirect("events:my_registrations")
    fee = _their_fee(event, request.user)
    form = RegistrationForm(request.POST or None, initial=_initial(request.user, fee))
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.register(
                event=event, user=request.user, details=form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if registration.is_confirmed:
                messages.success(
                    request,
                    _("You are registered for %(event)s. The confirmation is in your email.")
                    % {"event": event.title},
                )
            else:
                messages.info(
                    request,
                    _(
                        "The event is full: you are on its waitlist. We will email you if a "
                        "seat frees up."
                    ),
                )
            return redirect("events:my_registrations")
    return render(
        request,
        "events/register.html",
        {
            "event": event,
            "form": form,
            "fee": fee,
            "registration_open": event.registration_open(timezone.now()),
        },
    )


_MY_REGISTRATION_FIELDS = (
    "event_id",
    "status",
    "amount",
    "currency",
    "fee_name",
    "payment_reference",
    "paid_at",
    "attended_at",
    "registered_at",
    "event__title",
    "event__slug",
    "event__status",
    "event__starts_at",
    "event__ends_at",
    "event__time_zone",
    "event__cancellation_cutoff",
)


# Outside the check of a verified address: a kept page was made for a person whose address was
# verified, and any change of their addresses retires it (accounts.people).
@cache_for_person(generations=_PERSONAL)
@verified_email_required
@require_GET
def my_registrations(request: SignedInRequest[User]) -> HttpResponse:
    now = timezone.now()
    registrations = (
        Registration.objects.filter(user=request.user)
        .select_related("event")
        # What the page shows: not the attendee's details, nor the event's programme.
        .only(*_MY_REGISTRATION_FIELDS)
        .order_by("-event__starts_at", "-registered_at")
    )
    for registration in registrations:
        registration.can_cancel = registration.attendee_may_cancel(now)  # type: ignore[attr-defined]
        # The page changes when the cut-off passes and when the event moves to the past.
        event = registration.event
        changes_at(request, event.cancellation_cutoff or event.starts_at)
        changes_at(request, event.ends_at)
    upcoming = [r for r in registrations if r.event.ends_at >= now]
    past = [r for r in registrations if r.event.ends_at < now]
    upcoming.sort(key=lambda r: (r.event.starts_at, r.pk))
    return render(
        request,
        "events/my_registrations.html",
        {"upcoming": upcoming, "past": past, "now": now},
    )


@verified_email_required
@require_POST
def cancel(request: SignedInRequest[User], pk: int) -> HttpResponse:
    registration = get_object_or_404(
        Registration.objects.select_related("event"), pk=pk, user=request.user
    )
    try:
        services.cancel_registration(registration=registration, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        if registration.is_waitlisted:
            messages.success(request, _("You have left the waitlist."))
        else:
            messages.success(
                request,
                _("Your registration for %(event)s is cancelled.") % {"event": registration.event},
            )
    return redirect("events:my_registrations")
