from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

STAFF_GROUP = "Staff"
BOARD_GROUP = "Board"


def sitting_director(prefix: str = "") -> Q:
    """The one definition of a sitting director of the Board: an active member of its group.

    ``prefix`` reaches the user through a relation (``"votes__director__"``). The
    ``User.is_board_director`` property says the same of one user in Python.
    """
    return Q(**{f"{prefix}is_active": True, f"{prefix}groups__name": BOARD_GROUP})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def centre_staff(self):
        """The Centre's staff: the people told about work waiting for them."""
        return self.filter(is_active=True, groups__name=STAFF_GROUP)

    def board_directors(self):
        """The sitting directors of the Board: active members of the Board group."""
        return self.filter(sitting_director())


class User(AbstractUser):
    """A person with an account. The email address is the login."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Pages and emails use this language once you sign in."),
    )
    is_board_president = models.BooleanField(
        _("President of the Board"),
        default=False,
        help_text=_("The director who chairs the Board; every application is addressed to them."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_board_president"],
                condition=Q(is_board_president=True),
                name="one_board_president",
                violation_error_message=_("The Board already has a President."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def in_group(self, name: str) -> bool:
        cache = self.__dict__.setdefault("_group_names", None)
        if cache is None:
            cache = set(self.groups.values_list("name", flat=True))
            self.__dict__["_group_names"] = cache
        return name in cache

    @property
    def is_board_director(self) -> bool:
        """A sitting director (the same rule as ``sitting_director()``, for one loaded user)."""
        return self.is_active and self.in_group(BOARD_GROUP)

    @property
    def is_sitting_president(self) -> bool:
        """The President of the Board, while a sitting director."""
        return self.is_board_president and self.is_board_director

    @property
    def is_centre_staff(self) -> bool:
        return self.is_active and (self.is_superuser or self.in_group(STAFF_GROUP))
