"""The typed request of a signed-in view, so that ``request.user`` is the portal's user."""

from typing import Generic, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

UserT = TypeVar("UserT", bound=AbstractBaseUser)


class SignedInRequest(HttpRequest, Generic[UserT]):
    """A request behind ``login_required``: ``SignedInRequest[User]`` in a view's signature."""

    user: UserT  # type: ignore[assignment]
