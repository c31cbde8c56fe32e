"""Settings for the ICPC membership portal.

One module, read from the environment (django-environ). With nothing set it runs as a
developer's portal: SQLite in var/, Celery tasks in-process, email on the console. Production
sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL, REDIS_URL and EMAIL_URL.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; silently ignored when absent

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET = "dev-only-secret-key-not-for-production-use-0123456789abcdefghij"  # noqa: S105 - only when DEBUG is on
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Every link in an email starts with it; `make run` sets it from HOST and PORT.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
if not SITE_URL:
    raise environ.ImproperlyConfigured(
        "SITE_URL must be set when DEBUG is off: the links in emails start with it."
    )

INSTALLED_APPS = [
    "accounts",
    "core.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_countries",
    "icpc_portal.apps.PortalConfig",
    "core",
    "members",
    "applications",
    "board",
    "events",
    "newsletter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "icpc_portal.middleware.PortalCSPMiddleware",
    # A visitor's kept page, served before the session, the language and the URL resolver.
    "icpc_portal.middleware.KeptAnonymousPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "icpc_portal.middleware.FirstVisitLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading sessions that name the sign-in backends' former paths.
    "accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "icpc_portal.urls"
WSGI_APPLICATION = "icpc_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "icpc_portal.context_processors.portal",
                # After Django's own: the CSRF marker of a signed-in page that will be kept.
                "core.personalpages.csrf_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, with its client made once (core/cache.py).
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="icpc"),
            # A Redis that stops answering fails a request in half a second rather than hang it.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Sessions are read from Redis on every signed-in request and kept in the database too, so
    # a restart or an eviction of the cache signs nobody out, and pages work without Redis
    # (core/sessions.py).
    SESSION_ENGINE = "core.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Public pages rendered for visitors without a session: kept in each process's memory, where a
# hit costs a fraction of a network round trip. They only expire with time.
# Each page twice: the view's copy, and the whole response (icpc_portal.middleware).
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": 1000},
}
# A signed-in person's own event pages, kept for them alone while nothing they show has changed
# (core/personalpages.py): a thousand pages of 10 to 20 kB, per process.
CACHES["person-pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "person-pages",
    "OPTIONS": {"MAX_ENTRIES": env.int("PERSON_PAGES_KEPT", default=1000)},
}

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's, reading the signed-in person's account from memory while it has not
# changed (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# An invited representative chooses a password through the reset link and is then signed in.
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
EMAIL_SUBJECT_PREFIX = "[ICPC] "  # every email the portal sends, allauth's and ours
ACCOUNT_EMAIL_SUBJECT_PREFIX = EMAIL_SUBJECT_PREFIX
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# A sixth failed sign-in for the same account within five minutes is refused, and the admin's
# sign-in goes through allauth, so the same limit protects it.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "ICPC Portal"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Montreal"
USE_I18N = True
USE_TZ = True
# Dates day first in English too ("20 December 2026"), as `|when` writes them.
FORMAT_MODULE_PATH = ["icpc_portal.formats"]

# --- Static files and uploads ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # collectstatic fills it in production
# Uploaded documents live outside any public URL; views that check permissions serve them.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Django's limits on one request, set for the application form, whose documents are checked by
# applications.uploads (10 MB a file, 30 MB an application) with a message by the field. Files
# do not count towards the memory limit: it bounds the typed answers, where 2.5 MB is some 400
# pages of text. A 30 MB application may come as scanned pages of some 150 KB each: 200 files.
# A request over either limit gets the 400 page, which says which limit it passed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 200

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Every email is first a row of the outbox, written with the change that caused it; a Celery
# task sends it after the commit through the backend EMAIL_URL names (see core.outbox).
EMAIL_DELIVERY_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_BACKEND = "core.mail.OutboxEmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ICPC Portal <portal@cipc-icpc.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The Maildir where the mail server delivers what comes back to the newsletter: bounce and
# complaint reports, and mail to its unsubscribe addresses (newsletter.inbound). Unset: none.
NEWSLETTER_INBOUND_MAILDIR = env.str("NEWSLETTER_INBOUND_MAILDIR", default="")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process and their exceptions reach the caller.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# The one place for periodic jobs; each feature adds its entry here.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "board-vote-reminders": {"task": "board.send_vote_reminders", "schedule": 3600.0},
    # A sweep left in the queue while no worker ran is dropped: the next one does its work.
    "outbox-sweep": {"task": "core.sweep_outbox", "schedule": 60.0, "options": {"expires": 50}},
    "outbox-purge": {"task": "core.purge_outbox", "schedule": crontab(hour=3, minute=40)},
    "membership-renewal": {
        "task": "members.renew_memberships",
        "schedule": crontab(hour=2, minute=10),
    },
    # Thirty days ahead: the representative confirms the details, or says what changed.
    "membership-renewal-notices": {
        "task": "members.send_renewal_notices",
        "schedule": crontab(hour=2, minute=40),
    },
    # Newsletter editions scheduled for now start; one whose worker died is taken over.
    "newsletter-send-due": {
        "task": "newsletter.send_due_editions",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # New representatives and contacts of members join the newsletter's subscribers.
    "newsletter-member-subscribers": {
        "task": "newsletter.sync_member_subscribers",
        "schedule": crontab(hour=1, minute=50),
    },
    # Bounce and complaint reports, and unsubscribing by email (NEWSLETTER_INBOUND_MAILDIR).
    "newsletter-inbound-mail": {
        "task": "newsletter.process_inbound_mail",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # A vote past its deadline closes itself under the rule copied onto it.
    "board-close-overdue-votes": {
        "task": "board.close_overdue_ballots",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}

# --- Email outbox (core.outbox) -------------------------------------------------------------
# A failed send is tried again after OUTBOX_RETRY_DELAY seconds, doubled at each attempt up to
# OUTBOX_RETRY_MAX_DELAY; after OUTBOX_MAX_ATTEMPTS attempts the email is marked failed.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_DELAY = env.int("OUTBOX_RETRY_DELAY", default=60)
OUTBOX_RETRY_MAX_DELAY = env.int("OUTBOX_RETRY_MAX_DELAY", default=3600)
# Seconds after which an email claimed by a worker that never reported is sent again. Longer
# than the task time limit, so that a worker still alive would have been stopped by then.
OUTBOX_CLAIM_LEASE = env.int("OUTBOX_CLAIM_LEASE", default=600)
if OUTBOX_CLAIM_LEASE <= CELERY_TASK_TIME_LIMIT:
    raise environ.ImproperlyConfigured("OUTBOX_CLAIM_LEASE must exceed CELERY_TASK_TIME_LIMIT.")
OUTBOX_SWEEP_BATCH = env.int("OUTBOX_SWEEP_BATCH", default=500)
# Sent and failed emails are deleted after this many days; pending ones are kept.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=90)

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Everything is served by the portal itself: no inline script, no third-party host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Test helpers read this: a test that needs PostgreSQL, Redis, a Celery worker or the browser
# fails instead of skipping when it is set.
REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)
