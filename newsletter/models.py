"""The newsletter: its subscribers and their topics, the editions staff compose, and one
delivery per subscriber per edition.

A subscriber is an email address with a language, not an account: members' representatives
and contacts are subscribed from their account (``sync_member_subscribers``), anyone else
through the public page with a confirmation. The status says who receives editions; only the
services move it, through ``SUBSCRIBER_MOVES``, and each move is kept.

A delivery is the promise "this subscriber gets this edition once": one row per pair, as a
unique constraint, claimed before its email is written to the outbox.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.status import StatusChange, Transitions
from members.models import Contact, Membership, Representative


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCING = "bouncing", _("Bouncing")


SUBSCRIBER_MOVES: Transitions[SubscriberStatus] = Transitions(
    {
        # The public page starts a pending row; a member's account starts subscribed.
        "": {SubscriberStatus.PENDING, SubscriberStatus.SUBSCRIBED},
        SubscriberStatus.PENDING: {
            SubscriberStatus.SUBSCRIBED,
            SubscriberStatus.UNSUBSCRIBED,
            SubscriberStatus.BOUNCING,
        },
        SubscriberStatus.SUBSCRIBED: {SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCING},
        # Subscribing again on the public page asks for a confirmation again.
        SubscriberStatus.UNSUBSCRIBED: {SubscriberStatus.PENDING},
        # Staff clear the mark once the address works again; the person may still leave.
        SubscriberStatus.BOUNCING: {SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNSUBSCRIBED},
    }
)


class SubscriberSource(models.TextChoices):
    MEMBER = "member", _("Member's representative or contact")
    PUBLIC = "public", _("Public subscription page")


class Topic(models.Model):
    """What an edition may be about, defined by staff; subscribers choose theirs."""

    name_en = models.CharField(_("name in English"), max_length=100)
    name_fr = models.CharField(_("name in French"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["position", "name_en"]

    def __str__(self) -> str:
        return self.name_en

    def name_in(self, language: str) -> str:
        return self.name_fr if language == Language.FRENCH and self.name_fr else self.name_en


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def receiving(self) -> "SubscriberQuerySet":
        """Those editions are sent to: confirmed, not unsubscribed, not bouncing."""
        return self.filter(status=SubscriberStatus.SUBSCRIBED)

    def of_members(self, on: datetime.date) -> "SubscriberQuerySet":
        """Whose account is the current representative or a current contact of an organisation
        in good standing on ``on``, or a person who is an honorary member."""
        standing = Membership.objects.in_good_standing(on)
        organisations = standing.filter(organisation__isnull=False).values("organisation")
        return self.filter(
            Exists(
                Representative.objects.current().filter(
                    user=OuterRef("user"), organisation__in=organisations
                )
            )
            | Exists(
                Contact.objects.current().filter(
                    user=OuterRef("user"), organisation__in=organisations
                )
            )
            | Exists(standing.filter(person=OuterRef("user")))
        )


class Subscriber(models.Model):
    email = models.EmailField(_("email"), max_length=254)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="newsletter_subscriptions",
        verbose_name=_("account"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubscriberStatus.choices,
        default=SubscriberStatus.PENDING,
    )
    source = models.CharField(_("source"), max_length=8, choices=SubscriberSource.choices)
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="subscribers", verbose_name=_("topics")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="newsletter_one_subscriber_per_address",
                violation_error_message=_("This address is already a subscriber."),
            ),
            models.CheckConstraint(
                condition=Q(email=Lower("email")), name="newsletter_subscriber_email_lowercase"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubscriberStatus.values),
                name="newsletter_subscriber_known_status",
            ),
        ]
        indexes = [models.Index(fields=["status", "language"], name="newsletter_sub_status")]

    def __str__(self) -> str:
        return self.email

    @property
    def receives_editions(self) -> bool:
        return self.status == SubscriberStatus.SUBSCRIBED


class SubscriberStatusChange(StatusChange):
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("subscriber"),
    )
    from_status = models.CharField(
        _("from"), max_length=20, blank=True, choices=SubscriberStatus.choices
    )
    to_status = models.CharField(_("to"), max_length=20, choices=SubscriberStatus.choices)

    class Meta(StatusChange.Meta):
        verbose_name = _("subscriber status change")
        verbose_name_plural = _("subscriber status changes")


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone subscribed")
    MEMBERS = "members", _("Members only (representatives and contacts in good standing)")
    TOPIC = "topic", _("Subscribers to a topic")


class EditionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")


EDITION_MOVES: Transitions[EditionStatus] = Transitions(
    {
        "": {EditionStatus.DRAFT},
        EditionStatus.DRAFT: {EditionStatus.SCHEDULED, EditionStatus.SENDING},
        EditionStatus.SCHEDULED: {EditionStatus.DRAFT, EditionStatus.SENDING},
        EditionStatus.SENDING: {EditionStatus.PAUSED, EditionStatus.SENT},
        EditionStatus.PAUSED: {EditionStatus.SENDING},
    }
)
# Staff edit the text only before the sending starts.
EDITABLE = frozenset({EditionStatus.DRAFT, EditionStatus.SCHEDULED})


class EditionQuerySet(models.QuerySet["Edition"]):
    def archived(self) -> "EditionQuerySet":
        """The public archive: editions sent, or being sent, newest first."""
        return self.filter(status=EditionStatus.SENT).order_by("-sent_at", "-pk")

    def due(self, now: datetime.datetime) -> "EditionQuerySet":
        return self.filter(status=EditionStatus.SCHEDULED, scheduled_at__lte=now)

    def with_counts(self) -> "EditionQuerySet":
        return self.annotate(
            total_count=Count("deliveries"),
            sent_count=Count(
                "deliveries",
                filter=Q(deliveries__status=DeliveryStatus.SENT)
                | Q(
                    deliveries__status=DeliveryStatus.QUEUED,
                    deliveries__message__status="sent",
                ),
            ),
            failed_count=Count(
                "deliveries",
                filter=Q(deliveries__status=DeliveryStatus.FAILED)
                | Q(
                    deliveries__status=DeliveryStatus.QUEUED,
                    deliveries__message__status="failed",
                ),
            ),
            skipped_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SKIPPED)),
        )


class Edition(models.Model):
    subject_en = models.CharField(_("subject in English"), max_length=200)
    subject_fr = models.CharField(_("subject in French"), max_length=200, blank=True)
    body_en = models.TextField(
        _("text in English"), help_text=_("Markdown: **bold**, *italics*, ## headings, lists.")
    )
    body_fr = models.TextField(_("text in French"), blank=True)
    english_for_french = models.BooleanField(
        _("send the English text to French subscribers"),
        default=False,
        help_text=_("Only when there is no French text."),
    )
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.EVERYONE
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="editions",
        verbose_name=_("topic"),
        help_text=_("For the audience “Subscribers to a topic”."),
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EditionStatus.choices, default=EditionStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Each batch a worker sends stamps it: the beat takes over an edition no worker stamped
    # for a while (its worker died).
    last_batch_at = models.DateTimeField(_("last batch"), null=True, blank=True, editable=False)

    objects = EditionQuerySet.as_manager()

    class Meta:
        verbose_name = _("edition")
        verbose_name_plural = _("editions")
        ordering = ["-created_at", "-pk"]
        permissions = [("send_edition", _("Can schedule, send and pause an edition"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(audience="topic") | Q(topic__isnull=False),
                name="newsletter_topic_audience_has_topic",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(scheduled_at__isnull=False),
                name="newsletter_scheduled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.subject_en

    def get_absolute_url(self) -> str:
        return reverse("newsletter:edition", args=[self.pk])

    @property
    def has_french(self) -> bool:
        return bool(self.subject_fr.strip() and self.body_fr.strip())

    def version(self, language: str) -> tuple[str, str]:
        """(subject, Markdown text) in ``language``: French falls back to English."""
        if language == Language.FRENCH and self.has_french:
            return self.subject_fr, self.body_fr
        return self.subject_en, self.body_en

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class EditionStatusChange(StatusChange):
    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("edition")
    )
    from_status = models.CharField(
        _("from"), max_length=20, blank=True, choices=EditionStatus.choices
    )
    to_status = models.CharField(_("to"), max_length=20, choices=EditionStatus.choices)

    class Meta(StatusChange.Meta):
        verbose_name = _("edition status change")
        verbose_name_plural = _("edition status changes")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    QUEUED = "queued", _("Handed to the outbox")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (unsubscribed or bouncing meanwhile)")


class Delivery(models.Model):
    """One subscriber's copy of one edition. Pending until a batch claims it (row lock, skip
    locked) and writes its email to the outbox in the same transaction (queued); the outbox
    sends it once; the batch records the result (sent or failed)."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("edition")
    )
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscriber"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    message = models.ForeignKey(
        "core.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("email"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "subscriber"], name="newsletter_one_copy_per_subscriber"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="newsletter_delivery_known_status",
            ),
        ]
        indexes = [models.Index(fields=["edition", "status"], name="newsletter_delivery_todo")]

    def __str__(self) -> str:
        return f"{self.edition} → {self.subscriber}"
