"""What every signed-in request spends before a page's own queries, for the pinned budgets.

With Redis configured, sessions are read from the cache (``cached_db``), which costs no query;
without it (SQLite, no services) each signed-in request reads its session from the database.
"""

from django.conf import settings

SESSION_QUERIES = 0 if settings.SESSION_ENGINE == "core.sessions" else 1
