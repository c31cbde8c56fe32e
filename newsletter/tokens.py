"""The signed links of the newsletter's emails: confirming a subscription, and managing it
(preferences and unsubscribing), without signing in.

A token is ``<subscriber id>.<signature>``; the signature covers the id and the address, under
a salt per purpose and the portal's SECRET_KEY. A changed id, a token made for another
address, or a confirmation token used to unsubscribe (or the reverse) does not verify. The
links do not expire: an unsubscribe link in an old email must still work.
"""

from typing import TYPE_CHECKING

from django.core import signing
from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from .models import Subscriber

CONFIRM = "newsletter.confirm"
MANAGE = "newsletter.manage"


def _signature(purpose: str, pk: int, email: str) -> str:
    return signing.Signer(salt=purpose).signature(f"{pk}:{email.lower()}")


def make_token(purpose: str, *, pk: int, email: str) -> str:
    return f"{pk}.{_signature(purpose, pk, email)}"


def token_subscriber_id(token: str) -> int | None:
    """The id the token claims, before it is checked (None if it is not even shaped right)."""
    pk, dot, _signature_part = token.partition(".")
    if not dot or not pk.isdigit() or len(pk) > 18:
        return None
    return int(pk)


def token_matches(purpose: str, token: str, *, pk: int, email: str) -> bool:
    return constant_time_compare(token, make_token(purpose, pk=pk, email=email))


def subscriber_for(purpose: str, token: str) -> "Subscriber | None":
    """The subscriber a signed link (or an unsubscribe address) is for; None if the token was
    changed, made for another purpose, or names no subscriber."""
    from .models import Subscriber

    pk = token_subscriber_id(token)
    if pk is None:
        return None
    subscriber = Subscriber.objects.filter(pk=pk).first()
    if subscriber is None or not token_matches(purpose, token, pk=pk, email=subscriber.email):
        return None
    return subscriber
