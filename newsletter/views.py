"""The newsletter's public pages: subscribing (with a confirmation by email), the preferences
and unsubscribe pages reached from the signed link in every email (no sign-in), and the
archive of past editions."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from core.pagecache import cache_for_anonymous

from . import services, tokens
from .forms import PreferencesForm, SubscribeForm
from .models import Edition, Language, Subscriber, SubscriberStatus
from .rendering import markdown_to_html

PAGE_SIZE = 20


def _language() -> str:
    return Language.FRENCH if (get_language() or "").startswith("fr") else Language.ENGLISH


def _subscriber(purpose: str, token: str) -> Subscriber | None:
    """The subscriber the signed link is for, or None if the link was changed or is not ours."""
    return tokens.subscriber_for(purpose, token)


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletter/bad_link.html", status=400)


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        if form.is_valid():
            services.subscribe(
                email=form.cleaned_data["email"],
                language=form.cleaned_data["language"],
                topics=form.cleaned_data.get("topics") or (),
            )
            # The same page whether the address was new, waiting or subscribed already.
            return render(
                request, "newsletter/subscribe_sent.html", {"email": form.cleaned_data["email"]}
            )
    else:
        form = SubscribeForm(initial={"language": _language()})
    return render(request, "newsletter/subscribe.html", {"form": form})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (a link scanner opening the email confirms nothing); POST confirms."""
    subscriber = _subscriber(tokens.CONFIRM, token)
    if subscriber is None:
        return _bad_link(request)
    if request.method == "POST":
        if not services.confirm_subscription(subscriber=subscriber):
            return render(
                request, "newsletter/confirm.html", {"subscriber": subscriber, "gone": True}
            )
        manage = tokens.make_token(tokens.MANAGE, pk=subscriber.pk, email=subscriber.email)
        return render(
            request, "newsletter/confirmed.html", {"subscriber": subscriber, "token": manage}
        )
    return render(request, "newsletter/confirm.html", {"subscriber": subscriber})


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(tokens.MANAGE, token)
    if subscriber is None:
        return _bad_link(request)
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST, instance=subscriber)
        if form.is_valid():
            services.update_preferences(
                subscriber=subscriber,
                language=form.cleaned_data["language"],
                topics=form.cleaned_data.get("topics") or (),
            )
            saved = True
            subscriber.refresh_from_db()
            form = PreferencesForm(instance=subscriber)
    else:
        form = PreferencesForm(instance=subscriber)
    return render(
        request,
        "newsletter/preferences.html",
        {"form": form, "subscriber": subscriber, "token": token, "saved": saved},
    )


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """POST unsubscribes at once (the one-click of RFC 8058, or the page's button); GET only
    shows the button, because link scanners open every link of an email."""
    subscriber = _subscriber(tokens.MANAGE, token)
    if subscriber is None:
        return _bad_link(request)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.unsubscribe(
            subscriber=subscriber,
            note=_("one-click from the email") if one_click else _("from the unsubscribe page"),
        )
        return render(request, "newsletter/unsubscribed.html", {"token": token})
    return render(
        request,
        "newsletter/unsubscribe.html",
        {
            "subscriber": subscriber,
            "already": subscriber.status == SubscriberStatus.UNSUBSCRIBED,
            "token": token,
        },
    )


@require_GET
@cache_for_anonymous(generation=services.ARCHIVE_PAGES, query=True)
def archive(request: HttpRequest) -> HttpResponse:
    language = _language()
    page = Paginator(Edition.objects.archived(), PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {"edition": edition, "subject": edition.version(language)[0]}
        for edition in page.object_list
    ]
    return render(request, "newsletter/archive.html", {"page": page, "items": items})


@require_GET
@cache_for_anonymous(generation=services.ARCHIVE_PAGES)
def edition(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Edition.objects.archived(), pk=pk)
    language = _language()
    subject, body = item.version(language)
    return render(
        request,
        "newsletter/edition.html",
        {
            "edition": item,
            "subject": subject,
            "body": markdown_to_html(body),
            "in_english": language == Language.FRENCH and not item.has_french,
        },
    )
