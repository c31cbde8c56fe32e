"""The portal's answers to a request it cannot serve: what was wrong, in the portal's look."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from core.admin_site import NulInQuery

log = logging.getLogger(__name__)


def what_was_wrong(exception: Exception | None) -> str:
    """What the person sent that the portal refused, when Django tells us; '' otherwise."""
    if isinstance(exception, RequestDataTooBig):
        return _(
            "The form sent more than %(max)s of text, the most the portal accepts. Documents do "
            "not count towards this limit: it is the typed answers that are too long."
        ) % {"max": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    if isinstance(exception, TooManyFilesSent):
        return _(
            "The form sent more than %(max)d files at once, the most the portal accepts. Send "
            "the documents in several goes, or gather them into fewer files."
        ) % {"max": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    if isinstance(exception, TooManyFieldsSent):
        return _("The form sent more than %(max)d fields, the most the portal accepts.") % {
            "max": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    if isinstance(exception, NulInQuery):
        return _("The address of the page holds a character the portal does not accept.")
    return ""


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    template = loader.get_template("400.html")
    too_big = isinstance(exception, RequestDataTooBig | TooManyFilesSent | TooManyFieldsSent)
    context = {"reason": what_was_wrong(exception), "form_too_big": too_big}
    try:
        body = template.render(context, request)
    except Exception:  # noqa: BLE001 - the request itself may be what is broken
        log.exception("The 400 page could not use the request; rendered without it")
        body = template.render(context)
    return HttpResponseBadRequest(body)
