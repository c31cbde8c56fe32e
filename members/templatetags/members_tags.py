"""Members' part of pages other apps own: the organisations a person represents."""

from django import template

from ..models import Representative

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
