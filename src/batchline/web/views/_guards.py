"""Access guards for web views: every screen needs a signed-in person, most a permission too (AC-01, AC-02).

    @requires("identity.manage_users")
    def users(request): ...

An anonymous visitor is sent to the sign-in page (and back afterwards); a signed-in person who lacks
the permission gets a 403 page that says, in their language, which permission is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from batchline.core.errors import PermissionDenied
from batchline.identity.authz import authorize
from batchline.identity.models import User

View = Callable[..., HttpResponse]


def refused(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    """The 403 page (or, for an HTMX request, the message alone in the flash area)."""
    if request.headers.get("HX-Request"):
        response = render(request, "web/partials/error.html", {"error": error}, status=403)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "web/error.html", {"error": error}, status=403)


def requires(permission: str | None) -> Callable[[View], View]:
    """Sign-in, then `authorize(user, permission)`; `None` means any signed-in person."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                login = redirect_to_login(request.get_full_path())
                if request.headers.get("HX-Request"):
                    # An expired session inside an HTMX request: send the whole page to sign-in, not
                    # the sign-in form into a fragment of the page.
                    return HttpResponse(headers={"HX-Redirect": login["Location"]})
                return login
            if permission is not None:
                try:
                    authorize(request.user, permission)
                except PermissionDenied as error:
                    return refused(request, error)
            return view(request, *args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorate


signed_in = requires(None)


def acting_user(request: HttpRequest) -> User:
    """The signed-in person behind a guarded view (the guards have already turned anonymous visitors away)."""
    return cast(User, request.user)
