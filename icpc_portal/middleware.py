from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


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
