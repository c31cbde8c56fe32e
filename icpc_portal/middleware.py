from collections.abc import Callable

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.middleware.csrf import InvalidTokenFormat, _check_token_format  # type: ignore[attr-defined]  # Django's own rule; not in the stubs
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import escape_leading_slashes, url_has_allowed_host_and_scheme

from core.pagecache import MAX_CACHED_QUERY, anonymous_visit, keep_anonymous, kept_anonymous


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp, with the site-wide policy built once rather than on every response.

    Responses that carry their own policy (the csp decorators, a nonce) or a report-only policy
    go through django-csp unchanged.
    """

    _policy_id: int | None = None
    _header: str = ""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        parts = self.get_policy_parts(request=request, response=response)
        special = parts.config or parts.update or parts.replace or parts.nonce is not None
        if special or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        policy = settings.CONTENT_SECURITY_POLICY
        if self._policy_id != id(policy):
            self._header, self._policy_id = build_policy(), id(policy)
        if self._header and HEADER not in response and not getattr(response, "_csp_exempt", False):
            response[HEADER] = self._header
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


class FirstVisitLanguageMiddleware:
    """A first visit to an English page from a browser that asks for French goes to the French
    page. The visitor's own choice (the language switch's cookie) and signed-in visits are left
    alone, and so are pages outside the translated site (/healthz, static files)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        target = self._french_address(request)
        if target:
            response: HttpResponseBase = HttpResponseRedirect(target)
        else:
            response = self.get_response(request)
        if request.method in ("GET", "HEAD"):
            patch_vary_headers(response, ["Accept-Language"])
        return response

    def _french_address(self, request: HttpRequest) -> str | None:
        return french_address(request)


class KeptAnonymousPagesMiddleware:
    """A visitor's page that ``core.pagecache.cache_for_anonymous`` keeps is served again from
    here, whole, with the headers the inner middleware gave it, before the session, the
    language, the URL resolver and the rest run (as Django's own FetchFromCacheMiddleware
    does). Only the requests the view would answer from its cache anyway: a GET with neither a
    session nor a message waiting, that no first-visit redirect to French applies to; the host
    is checked as before, and the middleware above (security headers, the CSP) still runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        address = self._address(request)
        if address is not None:
            request.get_host()  # a host not allowed answers 400, as before
            kept = kept_anonymous(address)
            if kept is not None:
                return kept
        response = self.get_response(request)
        if address is not None:
            keep_anonymous(address, response)
        return response

    def _address(self, request: HttpRequest) -> str | None:
        if not anonymous_visit(request):
            return None
        token = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
        if token is not None and not _well_formed_csrf(token):
            return None  # CsrfViewMiddleware replaces it: the answer sets a cookie
        if len(request.META.get("QUERY_STRING", "")) > MAX_CACHED_QUERY:
            return None
        if french_address(request) is not None:
            return None
        return request.get_full_path()


def french_address(request: HttpRequest) -> str | None:
    """Where a first visit from a browser that asks for French goes, if anywhere."""
    if request.method not in ("GET", "HEAD"):
        return None
    if translation.get_language_from_path(request.path_info):
        return None  # the address already names its language
    cookies = request.COOKIES
    if settings.LANGUAGE_COOKIE_NAME in cookies or settings.SESSION_COOKIE_NAME in cookies:
        return None  # a choice made, or a visit already under way
    wanted = translation.get_language_from_request(request, check_path=False)
    if wanted == settings.LANGUAGE_CODE:
        return None
    # The path only, never read as a host: "//evil.example/" must not leave the portal. It has
    # no language prefix: it is read in the default language, whichever this thread last used
    # (KeptAnonymousPagesMiddleware asks before LocaleMiddleware has set it).
    path = escape_leading_slashes(request.path_info)
    with translation.override(settings.LANGUAGE_CODE):
        target = translate_url(path, wanted)
    if target == path or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    query = request.META.get("QUERY_STRING", "")
    return f"{target}?{query}" if query else target


def _well_formed_csrf(token: str) -> bool:
    """Django's own rule for the cookie (CsrfViewMiddleware replaces one that breaks it)."""
    try:
        _check_token_format(token)
    except InvalidTokenFormat:
        return False
    return True
