"""Members' part of pages other apps own: the organisations a person represents, and whether the
menu offers the Membership page."""

from django import template
from django.db import connection

from ..models import Membership, MembershipStatus, Representative, RepresentativeStatus

register = template.Library()


@register.inclusion_tag("members/my_organisations.html", takes_context=True)
def my_organisations(context) -> dict:
    """The profile page's card: each organisation the signed-in person represents."""
    user = context["request"].user
    representations = (
        Representative.objects.standing()
        .filter(user_id=user.pk)
        .select_related("organisation")
        .with_current_membership()
    )
    return {"representations": representations}


# The rule of ``members.services.member.memberships_visible_to`` (is there any membership the
# person sees on the Membership page?) as one statement: the ORM takes three times longer to
# build that query than PostgreSQL takes to answer it, and the menu asks on every signed-in page.
# Both read the representative's rows by person first (an index lookup), then the memberships of
# those few organisations. tests/members/test_nav.py holds the two to the same answers.
_HAS_VISIBLE_MEMBERSHIP = f"""
SELECT EXISTS (SELECT 1 FROM {Membership._meta.db_table} WHERE person_id = %(user)s)
    OR EXISTS (
        SELECT 1
        FROM {Representative._meta.db_table} r
        JOIN {Membership._meta.db_table} m ON m.organisation_id = r.organisation_id
        WHERE r.user_id = %(user)s
          AND (
              -- an active member they represent now
              (m.status = %(active)s AND r.status = %(current)s)
              -- an ended member they represented when it ended
              OR (
                  m.status = %(ended)s
                  AND r.status IN (%(current)s, %(replaced)s)
                  AND r.started_on <= m.ended_on
                  AND (r.ended_on IS NULL OR r.ended_on >= m.ended_on)
              )
          )
    )
"""  # noqa: S608 - only table names are formatted in; the values are parameters


def has_visible_membership(user_id: int) -> bool:
    """Whether ``memberships_visible_to(user)`` would find any membership, in one cheap query."""
    with connection.cursor() as cursor:
        cursor.execute(
            _HAS_VISIBLE_MEMBERSHIP,
            {
                "user": user_id,
                "active": MembershipStatus.ACTIVE.value,
                "ended": MembershipStatus.ENDED.value,
                "current": RepresentativeStatus.CURRENT.value,
                "replaced": RepresentativeStatus.ENDED.value,
            },
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@register.simple_tag
def has_membership_page(user) -> bool:
    """Whether ``user`` holds or held a membership: the menu then links to its page.

    No query for a visitor; one for a signed-in person, remembered for the rest of the request.
    The Membership page itself still checks what the person may see.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_has_membership_page", None)
    if cached is None:
        cached = has_visible_membership(user.pk)
        user._has_membership_page = cached
    return cached
