"""The Board's panel on the admin's home page: what awaits the signed-in director's vote."""

from django import template

from ..models import Ballot

register = template.Library()


@register.inclusion_tag("admin/board/awaiting_my_vote.html", takes_context=True)
def awaiting_my_vote(context) -> dict:
    user = context["request"].user
    if not getattr(user, "is_board_director", False):
        return {"show": False}
    ballots = Ballot.objects.awaiting_vote_of(user).order_by("deadline")[:20]
    return {"show": True, "awaiting_votes": list(ballots)}
