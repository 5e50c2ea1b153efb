"""Cross-cutting request handling for the web interface."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation

from batchline.core.context import correlation
from batchline.core.errors import DomainError
from batchline.identity.errors import AuthenticationFailed
from batchline.identity.passwords import is_expired
from batchline.identity.services import register_failed_authentication

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class CorrelationIdMiddleware:
    """Tags everything a request writes (audit entries, events) with one correlation id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Correlation-ID", "")
        with correlation(given if _SAFE_ID.match(given) else None) as cid:
            request.correlation_id = cid  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Correlation-ID"] = cid
        return response


class UserLanguageMiddleware:
    """A signed-in person sees their own language; before sign-in the browser's decides."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class PasswordPolicyMiddleware:
    """Sends a person whose password expired or was reset by an administrator to change it first."""

    ALLOWED = ("/password/", "/logout/", "/static/", "/api/", "/language/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and (user.must_change_password or is_expired(user))
                and not request.path.startswith(self.ALLOWED)):
            return HttpResponseRedirect(reverse("web:password_change"))
        return self.get_response(request)


def count_failed_signature(error: DomainError) -> None:
    """A wrong signature password counts toward lockout (ES-09). Views that catch a DomainError to
    re-render their form call this themselves; otherwise DomainErrorMiddleware does."""
    if isinstance(error, AuthenticationFailed) and error.user is not None:
        register_failed_authentication(error.user, context="signature")  # type: ignore[arg-type]


class DomainErrorMiddleware:
    """Shows a refused action to the person in their language, and counts a wrong signature password.

    Views let DomainError escape; the business transaction has rolled back by the time it gets here,
    so the failed-attempt count written now is kept (ES-09).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        count_failed_signature(exception)
        if request.headers.get("HX-Request"):
            response = render(request, "web/partials/error.html", {"error": exception}, status=200)
            response["HX-Retarget"] = "#flash"
            response["HX-Reswap"] = "innerHTML"
            return response
        messages.error(request, exception.render())
        if request.method == "POST":
            return HttpResponseRedirect(request.get_full_path())
        return render(request, "web/error.html", {"error": exception}, status=exception.http_status)
