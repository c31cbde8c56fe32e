"""Members' part of pages other apps own: the organisations a person represents, and whether the
menu offers the Membership page."""

from django import template

from ..models import Representative
from ..services.member import memberships_visible_to

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


@register.simple_tag
def has_membership_page(user) -> bool:
    """Whether ``user`` holds or held a membership: the menu then links to its page.

    No query for a visitor; one for a signed-in person, remembered for the rest of the request.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_has_membership_page", None)
    if cached is None:
        cached = memberships_visible_to(user).exists()
        user._has_membership_page = cached
    return cached
