"""The roles' groups are granted their permissions by each app's migrations with ``grant``, which
lives in core (core's own migrations use it too). Kept here for the migrations that import it."""

from core.roles import grant

__all__ = ["grant"]
