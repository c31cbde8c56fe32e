"""Membership applications, their documents and their history."""

import uuid
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from core.status import StatusChange, Transitions
from members.models import Category, Organisation, Qualification


class AreaOfWorkQuerySet(models.QuerySet["AreaOfWork"]):
    def used(self) -> "AreaOfWorkQuerySet":
        """The areas some application (a draft included) has chosen."""
        return self.filter(
            Exists(Application.areas.through.objects.filter(areaofwork_id=OuterRef("pk")))
        )


class AreaOfWork(models.Model):
    """A field of crime prevention an applicant can say it works in (kept by staff).

    Once an application has chosen an area, the area is retired (``is_active`` off), never
    deleted: deleting it would take it off applications already sent or decided.
    """

    name_en = models.CharField(_("name (English)"), max_length=120, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(
        _("offered on the form"),
        default=True,
        help_text=_(
            "Untick to retire the area: applications that chose it keep it, new ones no longer "
            "see it. An area that an application has chosen cannot be deleted."
        ),
    )

    objects = AreaOfWorkQuerySet.as_manager()

    class Meta:
        verbose_name = _("area of work")
        verbose_name_plural = _("areas of work")
        ordering = ["position", "name_en"]

    def __str__(self) -> str:
        return self.name_fr if get_language() == "fr" and self.name_fr else self.name_en


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, being checked")
    INFO_REQUESTED = "info_requested", _("More information requested")
    WITH_BOARD = "with_board", _("With the Board for a vote")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The one table of the moves an application's status may make; services, the admin's buttons and
# the pages all read it.
APPLICATION_MOVES: Transitions[Status] = Transitions(
    {
        "": {Status.DRAFT},
        Status.DRAFT: {Status.SUBMITTED},
        Status.SUBMITTED: {Status.INFO_REQUESTED, Status.WITH_BOARD, Status.WITHDRAWN},
        Status.INFO_REQUESTED: {Status.SUBMITTED, Status.WITHDRAWN},
        # Back to the staff when the vote ends without quorum or the decision cannot be carried.
        Status.WITH_BOARD: {Status.APPROVED, Status.REJECTED, Status.SUBMITTED, Status.WITHDRAWN},
    }
)
# Submitted and not yet decided or withdrawn: what the staff work on.
OPEN_STATUSES = tuple(sorted(APPLICATION_MOVES.sources_of(Status.WITHDRAWN)))


class ApplicationQuerySet(models.QuerySet["Application"]):
    def for_applicant(self, user) -> "ApplicationQuerySet":
        return self.filter(applicant=user)

    def draft_of(self, user) -> "Application | None":
        """The applicant's draft (there is at most one: "Start" locks the applicant's row)."""
        return self.filter(applicant=user, status=Status.DRAFT).first()

    def in_queue(self) -> "ApplicationQuerySet":
        """What staff work on: everything submitted and not yet decided or withdrawn."""
        return self.filter(status__in=OPEN_STATUSES)

    def awaiting_staff(self) -> "ApplicationQuerySet":
        """Submitted applications, each with ``came_from``: the status it last left (draft for
        a first check, info_requested for an answer, with_board when a vote sent it back)."""
        last_move = (
            ApplicationEvent.objects.filter(application=OuterRef("pk"), to_status=Status.SUBMITTED)
            .order_by("-at", "-pk")
            .values("from_status")[:1]
        )
        return self.filter(status=Status.SUBMITTED).annotate(came_from=Subquery(last_move))

    def with_document_totals(self) -> "ApplicationQuerySet":
        return self.annotate(
            document_count=Count("documents"),
            letter_count=Count("documents", filter=Q(documents__kind="letter")),
        )


class Application(models.Model):
    """An organisation's written application to the President of the Board."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, blank=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("applicant"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )

    # The organisation
    org_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    org_acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    category = models.CharField(
        _("statutory category"), max_length=16, choices=Category.choices, blank=True
    )
    country = CountryField(_("country"), blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    website = models.URLField(_("website"), blank=True)
    activities = models.TextField(
        _("work in crime prevention and community safety"),
        blank=True,
        help_text=_("What the organisation does in crime prevention and community safety."),
    )
    areas = models.ManyToManyField(
        AreaOfWork, blank=True, related_name="applications", verbose_name=_("areas of work")
    )

    # The designated representative
    rep_first_name = models.CharField(_("first name"), max_length=100, blank=True)
    rep_last_name = models.CharField(_("last name"), max_length=100, blank=True)
    rep_title = models.CharField(_("title or position"), max_length=150, blank=True)
    rep_email = models.EmailField(_("email"), blank=True)
    rep_phone = models.CharField(_("phone"), max_length=40, blank=True)
    rep_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        # In the database too, so rows written by older code (and older migrations) get it.
        db_default=settings.LANGUAGE_CODE,
        help_text=_("The Centre writes to the representative in this language."),
    )
    rep_qualification = models.CharField(
        _("qualification"), max_length=16, choices=Qualification.choices, blank=True
    )
    rep_declaration = models.BooleanField(
        _("I declare that the representative holds this position"), default=False
    )

    # Why it wants to join
    motivation = models.TextField(_("why the organisation wants to join"), blank=True)
    agrees_to_statutes = models.BooleanField(
        _("the organisation shares the Centre's values and agrees to its statutes"),
        default=False,
    )

    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last saved"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("the Board's reason"), blank=True)
    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
        verbose_name=_("member organisation"),
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")
        ordering = ["-submitted_at", "-created_at"]
        permissions = [
            ("review_application", _("Can check applications and send them to the Board")),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["applicant", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(reference__isnull=False, submitted_at__isnull=False),
                name="submitted_application_has_reference",
            ),
        ]

    def __str__(self) -> str:
        label = self.org_name or _("Untitled application")
        return f"{self.reference} – {label}" if self.reference else str(label)

    @property
    def rep_full_name(self) -> str:
        return f"{self.rep_first_name} {self.rep_last_name}".strip()

    def can_move_to(self, status: Status) -> bool:
        return APPLICATION_MOVES.allows(self.status, status)

    @property
    def is_editable(self) -> bool:
        """Only a draft is edited; once submitted, it changes through the staff's questions."""
        return self.status == Status.DRAFT

    @property
    def can_withdraw(self) -> bool:
        return self.can_move_to(Status.WITHDRAWN)

    @property
    def can_request_information(self) -> bool:
        return self.can_move_to(Status.INFO_REQUESTED)

    @property
    def can_send_to_board(self) -> bool:
        return self.can_move_to(Status.WITH_BOARD)

    @property
    def awaits_applicant(self) -> bool:
        return self.status == Status.INFO_REQUESTED

    @property
    def is_approved(self) -> bool:
        return self.status == Status.APPROVED

    @property
    def is_rejected(self) -> bool:
        return self.status == Status.REJECTED

    @property
    def board_recommendation(self) -> "ApplicationNote | None":
        """The staff's latest recommendation for the Board, if they wrote one."""
        return self.notes.recommendations().first()

    def open_question(self) -> "ApplicationEvent | None":
        """The staff's question the applicant still has to answer, if any."""
        if not self.awaits_applicant:
            return None
        return self.events.filter(to_status=Status.INFO_REQUESTED).order_by("-at", "-pk").first()

    def exchanges(self) -> "list[Exchange]":
        """The staff's questions, in order, each with the applicant's answer (once given) and
        the documents the applicant added while the question was open: the conversation the
        applicant, the staff and the Board read. Two queries, whatever its length."""
        events = list(
            self.events.filter(
                Q(to_status=Status.INFO_REQUESTED)
                | Q(from_status=Status.INFO_REQUESTED, to_status=Status.SUBMITTED)
            )
            .select_related("actor")
            .order_by("at", "pk")
        )
        exchanges: list[Exchange] = []
        for event in events:
            if event.to_status == Status.INFO_REQUESTED:
                exchanges.append(Exchange(question=event))
            elif exchanges and exchanges[-1].answer is None:
                exchanges[-1].answer = event
        if not exchanges:
            return exchanges
        documents = self.documents.filter(uploaded_at__gte=exchanges[0].question.at).order_by(
            "uploaded_at", "pk"
        )
        for document in documents:
            for exchange in reversed(exchanges):
                if exchange.question.at <= document.uploaded_at:
                    if exchange.answer is None or document.uploaded_at <= exchange.answer.at:
                        exchange.documents.append(document)
                    break
        return exchanges

    @cached_property
    def bytes_uploaded(self) -> int:
        return self.documents.aggregate(total=Sum("size"))["total"] or 0


# Files live under MEDIA_ROOT (read when used, so nothing machine-specific is in a migration).
# No URL serves MEDIA_ROOT: documents go out only through applications.views.download.
private_storage = FileSystemStorage()


def document_path(instance: "ApplicationDocument", filename: str) -> str:
    """A generated name: nothing the applicant typed ends up in a path."""
    extension = PurePath(filename).suffix.lower()
    return f"applications/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


class DocumentKind(models.TextChoices):
    LETTER = "letter", _("Signed application letter")
    SUPPORTING = "supporting", _("Supporting document")


class ApplicationDocument(models.Model):
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=document_path, storage=private_storage)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["kind", "uploaded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(kind="letter"),
                name="one_letter_per_application",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]

    def __str__(self) -> str:
        return self.original_name


@dataclass
class Exchange:
    """One question from the staff, and what the applicant sent back."""

    question: "ApplicationEvent"
    answer: "ApplicationEvent | None" = None
    documents: list[ApplicationDocument] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.answer is None and self.question.application.awaits_applicant


class ApplicationEvent(StatusChange):
    """The timeline of an application: every change of status, who made it, when and why."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="events", verbose_name=_("application")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)

    class Meta(StatusChange.Meta):
        pass


class ReferenceCounter(models.Model):
    """The last reference number given in a year (APP-2026-0007), locked when a new one is due."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class NoteKind(models.TextChoices):
    RECOMMENDATION = "recommendation", _("Recommendation for the Board")
    INTERNAL = "internal", _("Internal note (staff only)")


class ApplicationNoteQuerySet(models.QuerySet["ApplicationNote"]):
    def recommendations(self) -> "ApplicationNoteQuerySet":
        return self.filter(kind=NoteKind.RECOMMENDATION)


class ApplicationNote(models.Model):
    """What the staff write about an application: never shown to the applicant.

    A recommendation is for the Board (its vote page shows the latest one first); an internal
    note is for the staff only."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="notes", verbose_name=_("application")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NoteKind.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    at = models.DateTimeField(_("written"), default=timezone.now)

    objects = ApplicationNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("staff note")
        verbose_name_plural = _("staff notes")
        indexes = [models.Index(fields=["application", "kind", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.at:%Y-%m-%d}"
