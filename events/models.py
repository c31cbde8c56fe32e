"""The Centre's events, their fee tiers, and the registrations to them.

Seats: ``Event.seats_taken`` counts the confirmed registrations. Only the services change it,
holding the event's row lock, and a check constraint keeps it within the capacity, so no
event is ever overbooked, whatever runs at the same time.
"""

import datetime
import secrets
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from core.status import StatusChange, Transitions


class EventKind(models.TextChoices):
    SEMINAR = "seminar", _("Seminar")
    COLLOQUIUM = "colloquium", _("Colloquium")
    WEBINAR = "webinar", _("Webinar")
    ANNUAL_MEETING = "annual_meeting", _("Annual meeting")
    VISIT = "visit", _("Professional visit")
    AGM = "agm", _("Annual General Meeting")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


EVENT_MOVES: Transitions[EventStatus] = Transitions(
    {
        "": {EventStatus.DRAFT, EventStatus.PUBLISHED},
        EventStatus.DRAFT: {EventStatus.PUBLISHED, EventStatus.CANCELLED},
        EventStatus.PUBLISHED: {EventStatus.DRAFT, EventStatus.CANCELLED},
    }
)


class EventLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")
    SPANISH = "es", _("Spanish")
    INTERPRETED = "multi", _("Several, with interpretation")


class Currency(models.TextChoices):
    CAD = "CAD", _("Canadian dollars (CAD)")
    USD = "USD", _("US dollars (USD)")
    EUR = "EUR", _("Euros (EUR)")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a time zone: write it as Region/City, e.g. America/Montreal."),
            params={"value": value},
            code="time_zone",
        )


class EventQuerySet(models.QuerySet["Event"]):
    def published(self) -> "EventQuerySet":
        """What visitors see: published, and cancelled ones (which say so)."""
        return self.filter(status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED])

    def listed(self) -> "EventQuerySet":
        """The events of the list and the feed: visits are shown with their meeting."""
        return self.published().exclude(kind=EventKind.VISIT)

    def upcoming(self, now: datetime.datetime) -> "EventQuerySet":
        return self.filter(ends_at__gte=now)

    def past(self, now: datetime.datetime) -> "EventQuerySet":
        return self.filter(ends_at__lt=now)


class Event(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("address"), max_length=80, unique=True, help_text=_("The end of the event's web address.")
    )
    summary = models.TextField(
        _("summary"), max_length=600, help_text=_("A few lines for the list.")
    )
    programme = models.TextField(_("programme"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Montreal",
        validators=[validate_time_zone],
        help_text=_("Where the event takes place, as Region/City (America/Montreal)."),
    )
    online = models.BooleanField(_("online"), default=False)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = CountryField(_("country"), blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=EventLanguage.choices, default=EventLanguage.ENGLISH
    )
    capacity = models.PositiveIntegerField(
        _("seats"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    # The confirmed registrations: changed only by the services, under the event's row lock.
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CAD
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes"),
        null=True,
        blank=True,
        help_text=_("Empty: registration is open until the event starts."),
    )
    cancellation_cutoff = models.DateTimeField(
        _("attendees may cancel until"),
        null=True,
        blank=True,
        help_text=_("Empty: until the event starts."),
    )
    payment_instructions = models.TextField(
        _("how to pay"),
        blank=True,
        help_text=_("Sent with each confirmation, with the amount due and the payment reference."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        limit_choices_to={"kind": EventKind.ANNUAL_MEETING},
        verbose_name=_("annual meeting"),
        help_text=_("A professional visit belongs to an annual meeting."),
    )
    requires_parent_registration = models.BooleanField(
        _("only for those registered to the meeting"), default=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["status", "ends_at"], name="event_listing_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(seats_taken__lte=models.F("capacity")),
                name="event_never_overbooked",
                violation_error_message=_("The event has no seat left."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")),
                name="event_ends_after_it_starts",
                violation_error_message=_("The event must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(kind="visit", parent__isnull=False)
                | (~Q(kind="visit") & Q(parent__isnull=True)),
                name="event_visit_belongs_to_a_meeting",
                violation_error_message=_(
                    "A professional visit belongs to an annual meeting; other events do not."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", kwargs={"slug": self.slug})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def local_start(self) -> datetime.datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime.datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_agm(self) -> bool:
        return self.kind == EventKind.AGM

    def registration_open(self, now: datetime.datetime) -> bool:
        closes = self.registration_closes_at or self.starts_at
        return self.status == EventStatus.PUBLISHED and now < closes

    def cancellable(self, now: datetime.datetime) -> bool:
        """Whether attendees may still cancel themselves."""
        return now < (self.cancellation_cutoff or self.starts_at)


class FeeAudience(models.TextChoices):
    MEMBERS = "members", _("Members in good standing")
    EVERYONE = "everyone", _("Everyone")
    ASSIGNED = "assigned", _("Given by the staff (students, speakers…)")


class FeeTier(models.Model):
    """One price of an event. The server picks, when someone registers, the lowest tier open
    to them that day; the tiers the staff give (students, speakers) only the staff apply."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="fee_tiers", verbose_name=_("event")
    )
    name = models.CharField(_("name"), max_length=80, help_text=_("“Member fee”, “Early-bird”…"))
    audience = models.CharField(_("for"), max_length=12, choices=FeeAudience.choices)
    amount = models.DecimalField(
        _("amount"),
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    available_until = models.DateField(
        _("until"),
        null=True,
        blank=True,
        help_text=_("The last day this fee applies (an early-bird fee); empty: always."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        ordering = ["event", "position", "amount", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def applies_on(self, day: datetime.date) -> bool:
        return self.available_until is None or day <= self.available_until


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Registered")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_REGISTRATION = [RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]

REGISTRATION_MOVES: Transitions[RegistrationStatus] = Transitions(
    {
        "": {RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED},
        RegistrationStatus.WAITLISTED: {RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED},
        RegistrationStatus.CONFIRMED: {RegistrationStatus.CANCELLED},
    }
)


class FeeBasis(models.TextChoices):
    MEMBER = "member", _("Member fee")
    NON_MEMBER = "non_member", _("Non-member fee")
    ASSIGNED = "assigned", _("Given by the staff")
    FREE = "free", _("No fee")


class RegistrationQuerySet(models.QuerySet["Registration"]):
    def active(self) -> "RegistrationQuerySet":
        return self.filter(status__in=ACTIVE_REGISTRATION)

    def confirmed(self) -> "RegistrationQuerySet":
        return self.filter(status=RegistrationStatus.CONFIRMED)

    def waitlisted(self) -> "RegistrationQuerySet":
        return self.filter(status=RegistrationStatus.WAITLISTED)


def new_payment_reference() -> str:
    """Short enough to type into a bank transfer, with no 0/O or 1/I to misread."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"EV-{code[:4]}-{code[4:]}"


class Registration(models.Model):
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="event_registrations",
        verbose_name=_("person"),
    )
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices)
    # The attendee, as they wrote it on the form.
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email"))
    job_title = models.CharField(_("position"), max_length=150, blank=True)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    dietary_needs = models.CharField(_("dietary needs"), max_length=300, blank=True)
    accessibility_needs = models.CharField(_("accessibility needs"), max_length=300, blank=True)
    listed = models.BooleanField(_("may appear on the attendee list"), default=False)
    # The fee, decided by the server when the seat was given (or the waitlist joined).
    member_organisation = models.ForeignKey(
        "members.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member fee through"),
    )
    fee_tier = models.ForeignKey(
        FeeTier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fee"),
    )
    fee_name = models.CharField(_("fee"), max_length=80, blank=True)
    fee_basis = models.CharField(_("fee basis"), max_length=12, choices=FeeBasis.choices)
    amount = models.DecimalField(_("amount due"), max_digits=9, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    # A member in good standing when joining the waitlist: comes before non-members.
    joined_as_member = models.BooleanField(_("member when registering"), default=False)
    payment_reference = models.CharField(
        _("payment reference"), max_length=16, unique=True, default=new_payment_reference
    )
    paid_at = models.DateTimeField(_("payment received"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment recorded by"),
    )
    attended_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("seat given"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["event", "registered_at", "pk"]
        indexes = [
            models.Index(
                fields=["event", "status", "registered_at"], name="registration_queue_idx"
            ),
            models.Index(fields=["user", "status"], name="registration_user_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="one_active_registration_per_person_per_event",
                violation_error_message=_("You are already registered for this event."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="registration_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="confirmed", confirmed_at__isnull=False)
                | ~Q(status="confirmed"),
                name="registration_confirmed_has_its_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} – {self.event}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_REGISTRATION

    @property
    def is_confirmed(self) -> bool:
        return self.status == RegistrationStatus.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.status == RegistrationStatus.WAITLISTED

    def attendee_may_cancel(self, now: datetime.datetime) -> bool:
        """Whether the attendee may still cancel it themselves: the waitlist may be left at any
        time, a seat until the event's cut-off (the staff may cancel at any time)."""
        return self.is_active and (self.is_waitlisted or self.event.cancellable(now))

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def owes(self) -> bool:
        return self.is_confirmed and self.amount > 0 and self.paid_at is None


class RegistrationStatusChange(StatusChange):
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("registration"),
    )
    from_status = models.CharField(
        _("from"), max_length=20, blank=True, choices=RegistrationStatus.choices
    )
    to_status = models.CharField(_("to"), max_length=20, choices=RegistrationStatus.choices)

    class Meta(StatusChange.Meta):
        verbose_name = _("registration status change")
        verbose_name_plural = _("registration status changes")


class EventStatusChange(StatusChange):
    """Every publication, withdrawal and cancellation of an event: who, when and why."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("event")
    )
    from_status = models.CharField(
        _("from"), max_length=20, blank=True, choices=EventStatus.choices
    )
    to_status = models.CharField(_("to"), max_length=20, choices=EventStatus.choices)

    class Meta(StatusChange.Meta):
        verbose_name = _("event status change")
        verbose_name_plural = _("event status changes")
