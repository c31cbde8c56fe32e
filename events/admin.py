"""Staff screens for events and their registrations.

The staff create and edit events (fees inline, visits as events of their annual meeting), and
move them through the buttons on the event's page: publish, withdraw, cancel (with the reason
every attendee is emailed), give the free seats to the waitlist. Registrations come from the
portal; here the staff record payments, promote from the waitlist, cancel, and give a fee.
Each event's page links to its attendee export, badge list, waitlist, door page and, for the
AGM, its roll. Every change of state calls ``events.services``.
"""

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.admin_site import (
    CountedBrieflyPaginator,
    FilterWithDefault,
    ShowsFiltersInUse,
    StatusHistoryInline,
    StatusHistoryView,
)
from core.csv_export import csv_lines, streamed_csv
from core.http import SignedInRequest

from . import roll, services
from .models import (
    ACTIVE_REGISTRATION,
    EVENT_MOVES,
    Event,
    EventKind,
    EventStatus,
    EventStatusChange,
    FeeBasis,
    FeeTier,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)


def is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_centre_staff", False))


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


def local_time(value: datetime.datetime | None, zone: Any) -> str:
    """``value`` where the event takes place, with its zone named."""
    if value is None:
        return "–"
    local = value.astimezone(zone)
    return f"{date_format(local, 'j M Y, H:i')} ({zone.key})"


# --- the event -----------------------------------------------------------------------------------

# The times staff type in are the event's own, in its time zone.
LOCAL_TIMES = ("starts_at", "ends_at", "registration_closes_at", "cancellation_cutoff")


class EventForm(forms.ModelForm):
    """The event's times are typed and shown in the event's own time zone (a meeting in Paris
    in Paris time), whatever the admin's zone; the capacity never falls below the seats taken."""

    class Meta:
        model = Event
        # The status moves only through the services (the buttons on the event's page).
        fields = [
            "kind",
            "parent",
            "title",
            "slug",
            "summary",
            "programme",
            "time_zone",
            "starts_at",
            "ends_at",
            "online",
            "venue",
            "city",
            "country",
            "language",
            "capacity",
            "registration_closes_at",
            "cancellation_cutoff",
            "requires_parent_registration",
            "currency",
            "payment_instructions",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            zone = self.instance.zone
            for name in LOCAL_TIMES:
                value = getattr(self.instance, name)
                if value is not None and name in self.fields:
                    # Naive: the widget shows it as it is, in the event's zone.
                    self.initial[name] = value.astimezone(zone).replace(tzinfo=None)
        for name in LOCAL_TIMES:
            if name in self.fields:
                self.fields[name].help_text = " ".join(
                    filter(
                        None,
                        [
                            str(self.fields[name].help_text),
                            gettext("In the event's time zone."),
                        ],
                    )
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        zone_name = data.get("time_zone") or self.instance.time_zone
        zone = Event(time_zone=zone_name).zone
        for name in LOCAL_TIMES:
            value = data.get(name)
            if value is not None:
                # The field read it in the admin's zone: the same clock time, in the event's.
                data[name] = timezone.make_aware(timezone.make_naive(value), zone)
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", gettext("The event must end after it starts."))
        kind, parent = data.get("kind"), data.get("parent")
        if kind == EventKind.VISIT and parent is None:
            self.add_error("parent", gettext("Choose the annual meeting this visit belongs to."))
        if kind != EventKind.VISIT and parent is not None:
            self.add_error("parent", gettext("Only a professional visit belongs to a meeting."))
        return data

    def clean_capacity(self) -> int | None:
        capacity = self.cleaned_data.get("capacity")
        if capacity is not None and self.instance.pk:
            # Locked: the admin validates and saves in one transaction, so no seat can be
            # taken between this check and the save (the constraint would refuse the save).
            taken = (
                Event.objects.select_for_update()
                .filter(pk=self.instance.pk)
                .values_list("seats_taken", flat=True)
                .first()
            ) or 0
            if capacity < taken:
                raise ValidationError(
                    ngettext(
                        "%(taken)d seat is taken: the event cannot have fewer seats.",
                        "%(taken)d seats are taken: the event cannot have fewer seats.",
                        taken,
                    )
                    % {"taken": taken},
                    code="capacity",
                )
        return capacity


class FeeTierInline(admin.TabularInline):
    model = FeeTier
    extra = 0
    fields = ("name", "audience", "amount", "available_until", "position")


class VisitInline(admin.TabularInline):
    """An annual meeting's professional visits, each an event of its own."""

    model = Event
    fk_name = "parent"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = readonly_fields = ("title", "starts_shown", "status", "seats_shown")
    verbose_name = _("professional visit")
    verbose_name_plural = _("Professional visits of this meeting")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("starts"))
    def starts_shown(self, obj: Event) -> str:
        return local_time(obj.starts_at, obj.zone)

    @admin.display(description=_("seats"))
    def seats_shown(self, obj: Event) -> str:
        return seats_text(obj)


class EventHistoryInline(StatusHistoryInline):
    model = EventStatusChange

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


def seats_text(event: Event) -> str:
    if event.capacity is None:
        return gettext("%(taken)d (no limit)") % {"taken": event.seats_taken}
    return f"{event.seats_taken}/{event.capacity}"


class WhenFilter(FilterWithDefault):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("upcoming", _("Upcoming")), ("past", _("Past")), ("all", _("All"))]

    def default_value(self) -> str:
        return "upcoming"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "upcoming":
            return queryset.filter(ends_at__gte=timezone.now())
        if value == "past":
            return queryset.filter(ends_at__lt=timezone.now())
        return queryset


class CancelEventForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it cancelled?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Everyone registered or on the waitlist receives it by email."),
    )


@admin.register(Event)
class EventAdmin(StatusHistoryView, ShowsFiltersInUse, admin.ModelAdmin):
    form = EventForm
    list_display = [
        "title",
        "kind",
        "starts_shown",
        "status",
        "seats",
        "waitlisted",
        "registrations_link",
    ]
    list_filter = [WhenFilter, "kind", "status"]
    search_fields = ["title", "slug", "city", "venue"]
    ordering = ["starts_at", "pk"]
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ["status", "seats_taken"]
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    change_form_template = "admin/events/event/change_form.html"
    fieldsets = [
        (None, {"fields": ["kind", "parent", "title", "slug", "status", "summary", "programme"]}),
        (
            _("When and where"),
            {
                "fields": [
                    "time_zone",
                    "starts_at",
                    "ends_at",
                    "online",
                    "venue",
                    "city",
                    "country",
                    "language",
                ]
            },
        ),
        (
            _("Registration"),
            {
                "fields": [
                    "capacity",
                    "seats_taken",
                    "registration_closes_at",
                    "cancellation_cutoff",
                    "requires_parent_registration",
                    "currency",
                    "payment_instructions",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                waitlist_count=Count(
                    "registrations",
                    filter=Q(registrations__status=RegistrationStatus.WAITLISTED),
                )
            )
        )

    def get_inlines(self, request: HttpRequest, obj: Event | None) -> list[Any]:
        inlines: list[Any] = [FeeTierInline]
        if obj is not None and obj.kind == EventKind.ANNUAL_MEETING:
            inlines.append(VisitInline)
        if obj is not None:
            inlines.append(EventHistoryInline)
        return inlines

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An event is cancelled (attendees are told), never deleted.
        return False

    def status_history(self, obj: Event) -> QuerySet:
        return obj.status_changes.all()

    # --- columns -------------------------------------------------------------------------------
    @admin.display(description=_("starts"), ordering="starts_at")
    def starts_shown(self, obj: Event) -> str:
        return local_time(obj.starts_at, obj.zone)

    @admin.display(description=_("seats taken"))
    def seats(self, obj: Event) -> str:
        return seats_text(obj)

    @admin.display(description=_("waitlist"), ordering="waitlist_count")
    def waitlisted(self, obj: Event) -> int:
        return getattr(obj, "waitlist_count", 0)

    @admin.display(description=_("registrations"))
    def registrations_link(self, obj: Event) -> str:
        url = reverse("admin:events_registration_changelist") + "?" + urlencode({"event": obj.pk})
        return format_html('<a href="{}">{}</a>', url, gettext("Registrations"))

    # --- saving --------------------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Event, form: Any, change: bool) -> None:
        if not change:
            # New events start as drafts: publishing is a button (services.set_event_status).
            services.create_event(event=obj, by=request.user)  # type: ignore[arg-type]
            return
        # Only what the form edits: the status and the seats taken belong to the services,
        # which may have changed them since this form was opened.
        names = {f.name for f in Event._meta.concrete_fields}
        obj.save(update_fields=[name for name in form.fields if name in names] + ["updated_at"])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and "capacity" in form.changed_data:
            promoted = services.fill_free_seats(event=form.instance)
            if promoted:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d person on the waitlist was given a seat and emailed.",
                        "%(count)d people on the waitlist were given a seat and emailed.",
                        len(promoted),
                    )
                    % {"count": len(promoted)},
                    messages.SUCCESS,
                )

    # --- pages ---------------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        def view(name: str, route: str, func: Callable[..., HttpResponseBase]) -> Any:
            return path(route, self.admin_site.admin_view(func), name=f"events_event_{name}")

        return [
            view("publish", "<int:pk>/publish/", self.publish_view),
            view("withdraw", "<int:pk>/withdraw/", self.withdraw_view),
            view("cancel", "<int:pk>/cancel/", self.cancel_view),
            view("fill", "<int:pk>/fill-seats/", self.fill_view),
            view("attendees_csv", "<int:pk>/attendees.csv", self.attendees_csv_view),
            view("badges", "<int:pk>/badges/", self.badges_view),
            view("waitlist", "<int:pk>/waitlist/", self.waitlist_view),
            view("door", "<int:pk>/door/", self.door_view),
            view("roll", "<int:pk>/roll/", self.roll_view),
            view("roll_csv", "<int:pk>/roll.csv", self.roll_csv_view),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        event = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if event is not None and is_staff(request):
            waiting = getattr(event, "waitlist_count", 0)
            extra = {
                "staff_tools": True,
                "can_publish": EVENT_MOVES.allows(event.status, EventStatus.PUBLISHED),
                "can_withdraw": EVENT_MOVES.allows(event.status, EventStatus.DRAFT),
                "can_cancel": EVENT_MOVES.allows(event.status, EventStatus.CANCELLED),
                "can_fill": waiting > 0 and not event.is_full and not event.is_cancelled,
                "waitlist_count": waiting,
                "add_visit_url": reverse("admin:events_event_add")
                + "?"
                + urlencode({"kind": EventKind.VISIT, "parent": event.pk})
                if event.kind == EventKind.ANNUAL_MEETING
                else "",
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _staff_event(self, request: HttpRequest, pk: int) -> Event:
        if not is_staff(request):
            raise PermissionDenied
        return get_object_or_404(Event, pk=pk)

    def _back(self, event: Event) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))

    def _page(self, request: HttpRequest, template: str, event: Event, **context: Any) -> Any:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "event": event,
                "starts": local_time(event.starts_at, event.zone),
                **context,
            },
        )

    def _move(self, request: SignedInRequest[User], pk: int, to: EventStatus, done: str) -> Any:
        event = self._staff_event(request, pk)
        if request.method != "POST":
            return self._back(event)
        try:
            services.set_event_status(event=event, to=to, by=request.user)
        except ValidationError as error:
            self.message_user(request, _refusal(error), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return self._back(event)

    def publish_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        return self._move(
            request, pk, EventStatus.PUBLISHED, gettext("The event is published on the portal.")
        )

    def withdraw_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        return self._move(
            request, pk, EventStatus.DRAFT, gettext("The event is a draft again: no one sees it.")
        )

    def cancel_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        event = self._staff_event(request, pk)
        form = CancelEventForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.cancel_event(
                    event=event, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("The event is cancelled; everyone registered has been emailed."),
                    messages.SUCCESS,
                )
                return self._back(event)
        people = (
            Registration.objects.active().filter(Q(event=event) | Q(event__parent=event)).count()
        )
        return self._page(
            request,
            "admin/events/event/action.html",
            event,
            title=gettext("Cancel %(event)s") % {"event": event},
            form=form,
            button=gettext("Cancel the event and email everyone"),
            intro=ngettext(
                "%(count)d person registered or waiting (visits included) will be emailed.",
                "%(count)d people registered or waiting (visits included) will be emailed.",
                people,
            )
            % {"count": people},
            media=self.media + form.media,
        )

    def fill_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        event = self._staff_event(request, pk)
        if request.method == "POST":
            promoted = services.fill_free_seats(event=event)
            self.message_user(
                request,
                ngettext(
                    "%(count)d person on the waitlist was given a seat and emailed.",
                    "%(count)d people on the waitlist were given a seat and emailed.",
                    len(promoted),
                )
                % {"count": len(promoted)},
                messages.SUCCESS if promoted else messages.WARNING,
            )
        return self._back(event)

    def attendees_csv_view(self, request: HttpRequest, pk: int) -> StreamingHttpResponse:
        event = self._staff_event(request, pk)
        rows = roll.attendee_export(event).iterator(chunk_size=1000)
        return streamed_csv(csv_lines(rows, ATTENDEE_COLUMNS), name=f"attendees-{event.slug}")

    def badges_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        event = self._staff_event(request, pk)
        return self._page(
            request,
            "admin/events/event/badges.html",
            event,
            title=gettext("Badges: %(event)s") % {"event": event},
            attendees=list(roll.badge_list(event)),
        )

    def waitlist_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        event = self._staff_event(request, pk)
        if request.method == "POST":
            registration = get_object_or_404(
                Registration, pk=request.POST.get("registration") or 0, event=event
            )
            try:
                services.promote(
                    registration=registration,
                    by=request.user,
                    add_seat=bool(request.POST.get("add_seat")),
                )
            except ValidationError as error:
                self.message_user(request, _refusal(error), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(name)s has a seat and has been emailed.")
                    % {"name": registration.full_name},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(reverse("admin:events_event_waitlist", args=[event.pk]))
        return self._page(
            request,
            "admin/events/event/waitlist.html",
            event,
            title=gettext("Waitlist: %(event)s") % {"event": event},
            waiting=list(roll.waitlist_in_order(event)),
        )

    def door_view(self, request: SignedInRequest[User], pk: int) -> HttpResponse:
        """The door, on a phone: find the person, press Arrived (or Undo)."""
        event = self._staff_event(request, pk)
        search = (request.POST if request.method == "POST" else request.GET).get("q", "").strip()
        if request.method == "POST":
            registration = get_object_or_404(
                Registration, pk=request.POST.get("registration") or 0, event=event
            )
            try:
                services.mark_attendance(
                    registration=registration,
                    by=request.user,
                    arrived=request.POST.get("arrived") == "1",
                )
            except ValidationError as error:
                self.message_user(request, _refusal(error), messages.ERROR)
            url = reverse("admin:events_event_door", args=[event.pk])
            query = f"?{urlencode({'q': search})}" if search else ""
            return HttpResponseRedirect(f"{url}{query}#r{registration.pk}")
        return self._page(
            request,
            "admin/events/event/door.html",
            event,
            title=gettext("At the door: %(event)s") % {"event": event},
            search=search,
            attendees=list(roll.door_list(event, search)),
            counts=roll.door_counts(event),
        )

    def _agm(self, request: HttpRequest, pk: int) -> Event:
        event = self._staff_event(request, pk)
        if event.kind != EventKind.AGM:
            raise Http404
        return event

    def roll_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        event = self._agm(request, pk)
        the_roll = roll.agm_roll(event)
        return self._page(
            request,
            "admin/events/event/roll.html",
            event,
            title=gettext("Roll of the members: %(event)s") % {"event": event},
            roll=the_roll,
        )

    def roll_csv_view(self, request: HttpRequest, pk: int) -> StreamingHttpResponse:
        event = self._agm(request, pk)
        the_roll = roll.agm_roll(event)
        return streamed_csv(
            csv_lines(roll.roll_rows(the_roll), ROLL_COLUMNS), name=f"roll-{event.slug}"
        )


def _yes_no(value: bool) -> str:
    return gettext("yes") if value else gettext("no")


def _stamp(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else ""


ATTENDEE_COLUMNS: list[tuple[Any, Callable[[Any], object]]] = [
    (_("name"), lambda r: r.full_name),
    (_("email"), lambda r: r.email),
    (_("position"), lambda r: r.job_title),
    (_("organisation"), lambda r: r.organisation_name),
    (
        _("member fee through"),
        lambda r: r.member_organisation.name if r.member_organisation else "",
    ),
    (_("status"), lambda r: r.get_status_display()),
    (_("fee"), lambda r: r.fee_name),
    (_("amount"), lambda r: r.amount),
    (_("currency"), lambda r: r.currency),
    (_("payment reference"), lambda r: r.payment_reference),
    (_("paid"), lambda r: _stamp(r.paid_at)),
    (_("arrived"), lambda r: _stamp(r.attended_at)),
    (_("dietary needs"), lambda r: r.dietary_needs),
    (_("accessibility needs"), lambda r: r.accessibility_needs),
    (_("may appear on the attendee list"), lambda r: _yes_no(r.listed)),
]


def _names(registrations: Iterable[Registration]) -> str:
    return "; ".join(r.full_name for r in registrations)


ROLL_COLUMNS: list[tuple[Any, Callable[[Any], object]]] = [
    (_("member"), lambda row: row.name),
    (_("kind"), lambda row: row.membership.get_kind_display()),
    (
        _("representative"),
        lambda row: row.representative.user.get_full_name() if row.representative else "",
    ),
    (_("registered"), lambda row: _names(row.registrants)),
    (_("voting delegate"), lambda row: row.delegate.full_name if row.delegate else ""),
    (_("votes"), lambda row: _yes_no(row.votes)),
    (_("delegate arrived"), lambda row: _yes_no(row.delegate_present)),
    (_("arrived"), lambda row: _names(r for r in row.registrants if r.attended_at)),
]


# --- registrations -------------------------------------------------------------------------------


class RegistrationHistoryInline(StatusHistoryInline):
    model = RegistrationStatusChange

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class PaidFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "paid"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Paid")), ("owes", _("Owes")), ("free", _("Nothing to pay"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(paid_at__isnull=False)
        if self.value() == "owes":
            return queryset.filter(
                status=RegistrationStatus.CONFIRMED, amount__gt=0, paid_at__isnull=True
            )
        if self.value() == "free":
            return queryset.filter(amount=0)
        return queryset


class MemberFeeFilter(admin.SimpleListFilter):
    title = _("member fee")
    parameter_name = "member_fee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Member fee")), ("no", _("Other fees"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(fee_basis=FeeBasis.MEMBER)
        if self.value() == "no":
            return queryset.exclude(fee_basis=FeeBasis.MEMBER)
        return queryset


class EventFilter(admin.SimpleListFilter):
    """The event, by its id in the address (the event's page links here)."""

    title = _("event")
    parameter_name = "event"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        recent = timezone.now() - datetime.timedelta(days=365)
        events = Event.objects.filter(ends_at__gte=recent).order_by("-starts_at")
        return [(str(pk), title) for pk, title in events.values_list("pk", "title")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value:
            if not str(value).isdigit():
                return queryset.none()
            return queryset.filter(event_id=int(value))
        return queryset


class StaffFeeForm(forms.Form):
    tier = forms.ModelChoiceField(queryset=FeeTier.objects.none(), label=_("Fee"))

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tier"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = event.fee_tiers.all()
        field.label_from_instance = lambda obj: (  # type: ignore[method-assign]
            f"{obj.name} – {obj.amount} {event.currency} ({obj.get_audience_display()})"
        )


@admin.register(Registration)
class RegistrationAdmin(StatusHistoryView, ShowsFiltersInUse, admin.ModelAdmin):
    list_display = [
        "name",
        "organisation",
        "event",
        "status",
        "fee",
        "payment_reference",
        "paid",
        "arrived",
    ]
    list_filter = [EventFilter, "status", PaidFilter, MemberFeeFilter]
    list_select_related = ["event", "member_organisation"]
    search_fields = ["first_name", "last_name", "email", "payment_reference"]
    ordering = ["-registered_at", "-pk"]
    paginator = CountedBrieflyPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    inlines = [RegistrationHistoryInline]
    actions = [
        "mark_paid",
        "mark_unpaid",
        "promote",
        "promote_adding_seat",
        "cancel",
        "give_staff_fee",
    ]
    # What the attendee wrote may be corrected (a name on a badge); the rest is the services'.
    attendee_fields = services.ATTENDEE_FIELDS
    readonly_fields = (
        "event",
        "user",
        "email",
        "status",
        "member_organisation",
        "fee_name",
        "fee_basis",
        "amount",
        "currency",
        "joined_as_member",
        "payment_reference",
        "paid_at",
        "paid_by",
        "attended_at",
        "registered_at",
        "confirmed_at",
        "cancelled_at",
    )
    fieldsets = [
        (None, {"fields": ["event", "user", "email", "status"]}),
        (_("Attendee"), {"fields": list(attendee_fields)}),
        (
            _("Fee and payment"),
            {
                "fields": [
                    "member_organisation",
                    "fee_name",
                    "fee_basis",
                    "amount",
                    "currency",
                    "joined_as_member",
                    "payment_reference",
                    "paid_at",
                    "paid_by",
                ]
            },
        ),
        (
            _("Dates"),
            {"fields": ["registered_at", "confirmed_at", "cancelled_at", "attended_at"]},
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registrations come through the portal

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def status_history(self, obj: Registration) -> QuerySet:
        return obj.status_changes.all()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Registration]:
        return super().get_queryset(request).select_related("event", "member_organisation")

    def save_model(self, request: HttpRequest, obj: Registration, form: Any, change: bool) -> None:
        # Only the attendee's details: the status, fee and payment belong to the services.
        obj.save(update_fields=[name for name in self.attendee_fields if name in form.fields])

    # --- columns -------------------------------------------------------------------------------
    @admin.display(description=_("name"), ordering="last_name")
    def name(self, obj: Registration) -> str:
        return obj.full_name

    @admin.display(description=_("organisation"), ordering="organisation_name")
    def organisation(self, obj: Registration) -> str:
        return obj.organisation_name or "–"

    @admin.display(description=_("fee"), ordering="amount")
    def fee(self, obj: Registration) -> str:
        label = obj.fee_name or obj.get_fee_basis_display()
        return f"{label}: {obj.amount} {obj.currency}"

    @admin.display(description=_("paid"), boolean=True, ordering="paid_at")
    def paid(self, obj: Registration) -> bool | None:
        if obj.amount == 0:
            return None
        return obj.paid_at is not None

    @admin.display(description=_("arrived"), boolean=True, ordering="attended_at")
    def arrived(self, obj: Registration) -> bool:
        return obj.attended_at is not None

    # --- actions -------------------------------------------------------------------------------
    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Registration],
        act: Callable[[Registration], object],
        done: Callable[[int], str],
    ) -> None:
        """Act on each registration; say how many it was done for, and why not for the others."""
        count = 0
        for registration in queryset.select_related("event").order_by("registered_at", "pk"):
            try:
                act(registration)
            except ValidationError as error:
                self.message_user(
                    request, f"{registration.full_name}: {_refusal(error)}", messages.ERROR
                )
            else:
                count += 1
        if count:
            self.message_user(request, done(count), messages.SUCCESS)

    @admin.action(description=_("Record the payment received"), permissions=["change"])
    def mark_paid(self, request: SignedInRequest[User], queryset: QuerySet[Registration]) -> None:
        count = services.mark_paid(registrations=queryset, by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d payment recorded.", "%(count)d payments recorded.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(description=_("Take back the payment recorded"), permissions=["change"])
    def mark_unpaid(self, request: SignedInRequest[User], queryset: QuerySet[Registration]) -> None:
        self._each(
            request,
            queryset,
            lambda r: services.mark_unpaid(registration=r, by=request.user),
            lambda n: (
                ngettext(
                    "%(count)d registration marked as not paid.",
                    "%(count)d registrations marked as not paid.",
                    n,
                )
                % {"count": n}
            ),
        )

    def _promote(
        self, request: SignedInRequest[User], queryset: QuerySet[Registration], add_seat: bool
    ) -> None:
        self._each(
            request,
            queryset,
            lambda r: services.promote(registration=r, by=request.user, add_seat=add_seat),
            lambda n: (
                ngettext(
                    "%(count)d person given a seat and emailed.",
                    "%(count)d people given a seat and emailed.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Give a free seat (from the waitlist)"), permissions=["change"])
    def promote(self, request: SignedInRequest[User], queryset: QuerySet[Registration]) -> None:
        self._promote(request, queryset, add_seat=False)

    @admin.action(
        description=_("Add a seat and give it (from the waitlist)"), permissions=["change"]
    )
    def promote_adding_seat(
        self, request: SignedInRequest[User], queryset: QuerySet[Registration]
    ) -> None:
        self._promote(request, queryset, add_seat=True)

    @admin.action(
        description=_("Cancel the registration (the person is emailed)"), permissions=["change"]
    )
    def cancel(self, request: SignedInRequest[User], queryset: QuerySet[Registration]) -> None:
        self._each(
            request,
            queryset.filter(status__in=ACTIVE_REGISTRATION),
            lambda r: services.cancel_registration(
                registration=r, by=request.user, note=gettext("Cancelled by the staff.")
            ),
            lambda n: (
                ngettext(
                    "%(count)d registration cancelled.", "%(count)d registrations cancelled.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Give a fee of the event…"), permissions=["change"])
    def give_staff_fee(
        self, request: SignedInRequest[User], queryset: QuerySet[Registration]
    ) -> HttpResponse | None:
        registrations = list(queryset.select_related("event").order_by("last_name", "pk"))
        events = {r.event_id for r in registrations}
        if len(events) != 1:
            self.message_user(
                request, gettext("Choose registrations of one event at a time."), messages.ERROR
            )
            return None
        event = registrations[0].event
        form = StaffFeeForm(request.POST if "apply" in request.POST else None, event=event)
        if form.is_bound and form.is_valid():
            tier = form.cleaned_data["tier"]
            self._each(
                request,
                queryset,
                lambda r: services.give_staff_fee(registration=r, tier=tier, by=request.user),
                lambda n: (
                    ngettext(
                        "%(fee)s given to %(count)d registration.",
                        "%(fee)s given to %(count)d registrations.",
                        n,
                    )
                    % {"fee": tier.name, "count": n}
                ),
            )
            return None
        return TemplateResponse(
            request,
            "admin/events/registration/staff_fee.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Give a fee of %(event)s") % {"event": event},
                "opts": self.model._meta,
                "event": event,
                "registrations": registrations,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
