"""The organisation's contacts: colleagues its representative adds, who register for the
Centre's events at the member fee while the organisation is a member in good standing."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import access_link, invite_person
from core.emails import absolute_url, send_to_user
from core.locking import lock, lock_name
from members.models import Contact, Membership, MembershipEvent, MembershipEventKind
from members.signals import announce_joined

from .member import acts_for

# How many contacts one organisation may have: enough for a city's whole delegation, not a
# mailing list.
MAX_CONTACTS = 50


def _check_may_manage(membership: Membership, by: User) -> None:
    if membership.organisation_id is None or not acts_for(membership, by):
        raise PermissionDenied(_("Only the member's representative can do this."))
    if not membership.is_active:
        raise ValidationError(
            _("This membership has ended: its contacts can no longer be changed."), code="ended"
        )


def add_contact(
    *,
    membership: Membership,
    email: str,
    first_name: str,
    last_name: str,
    language: str,
    by: User,
) -> Contact:
    """The representative adds a colleague; the colleague is told by email (with a link to
    choose a password when they have no account yet)."""
    email = email.strip().lower()
    with transaction.atomic():
        membership = lock(membership)
        _check_may_manage(membership, by)
        organisation = membership.organisation
        assert organisation is not None
        lock_name(f"members.contacts:{organisation.pk}")
        current = Contact.objects.current().filter(organisation=organisation)
        if current.filter(user__email__iexact=email).exists():
            raise ValidationError(
                {"email": _("This person is already one of your contacts.")}, code="exists"
            )
        if current.count() >= MAX_CONTACTS:
            raise ValidationError(
                _("An organisation can have at most %(count)d contacts: remove one first.")
                % {"count": MAX_CONTACTS},
                code="too_many",
            )
        person, _link = invite_person(
            email=email, first_name=first_name, last_name=last_name, language=language
        )
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    organisation=organisation, user=person, added_by=by
                )
        except IntegrityError as error:  # pragma: no cover - the lock above serialises adds
            raise ValidationError(
                {"email": _("This person is already one of your contacts.")}, code="exists"
            ) from error
        announce_joined([person.pk])
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.CONTACT_ADDED,
            by=by,
            note=f"{person.get_full_name() or person.email} <{person.email}>",
        )
        send_to_user(
            template="members/email/contact_added",
            user=person,
            context={
                "organisation": organisation,
                "by": by,
                "access_link": access_link(person),
                "events_url": absolute_url(reverse("events:list")),
            },
            purpose=f"members.contact-added:{contact.pk}",
            sensitive=True,
        )
    return contact


def remove_contact(*, contact: Contact, by: User) -> Contact:
    """The representative removes a colleague: from now on they pay the non-member fee."""
    with transaction.atomic():
        locked = lock(contact)
        membership = (
            Membership.objects.filter(organisation_id=locked.organisation_id)
            .order_by("-started_on")
            .first()
        )
        if membership is None or not acts_for(membership, by):
            raise PermissionDenied(_("Only the member's representative can do this."))
        if locked.removed_at is not None:
            return locked
        locked.removed_at = timezone.now()
        locked.removed_by = by
        locked.save(update_fields=["removed_at", "removed_by"])
        person = locked.user
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.CONTACT_REMOVED,
            by=by,
            note=f"{person.get_full_name() or person.email} <{person.email}>",
        )
    return locked
