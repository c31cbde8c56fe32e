from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from accounts import views as account_views

from . import views

# The 500 page is Django's own view: it renders templates/500.html with no request and no
# database, whatever broke.
handler400 = "icpc_portal.errors.bad_request"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/language/", account_views.switch_language, name="switch_language"),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("contact/", views.contact, name="contact"),
    path("privacy/", views.privacy, name="privacy"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("members/", include("members.urls")),
    path("events/", include("events.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("", include("applications.urls")),
    prefix_default_language=False,
)
