"""Who is calling (AC-01): an API token (`Authorization: Bearer bl_...`) or a signed-in web session.

Every operation of the API uses both classes; a request that satisfies neither gets 401
`not_authenticated`. A token's scopes are attached to the account by
identity.services.authenticate_token and narrow what authorize() allows (INT-06). A session
caller must send the CSRF token with every unsafe method, as the web forms do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from batchline.api.errors import CsrfFailed, PasswordChangeRequired
from batchline.core.errors import DomainError, NotAuthenticated
from batchline.identity.passwords import is_expired
from batchline.identity.services import authenticate_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class TokenAuth(HttpBearer):
    """`Authorization: Bearer bl_...`: an invalid, expired or revoked token is a 401 `token_invalid`
    (raised by authenticate_token), never a silent fall-back to the session."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        request.user = user
        request.auth_method = "token"  # type: ignore[attr-defined]
        return user


class SessionAuth(APIKeyCookie):
    """The web session of a signed-in person (same cookie as the web interface)."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        # Authentication is decided before CSRF, so that an anonymous caller gets 401, not 403.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        unsafe = request.method not in SAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False)
        if unsafe and check_csrf(request) is not None:
            raise CsrfFailed()
        if user.must_change_password or is_expired(user):
            raise PasswordChangeRequired()
        request.auth_method = "session"  # type: ignore[attr-defined]
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
AUTH = [token_auth, session_auth]


def caller(request: HttpRequest) -> Any:
    """The authenticated account of this request (set by one of the classes above)."""
    return request.auth  # type: ignore[attr-defined]


def uses_token(request: HttpRequest) -> bool:
    return getattr(request, "auth_method", "") == "token"


def api_language(request: HttpRequest) -> str:
    """The language of messages: the first supported one in Accept-Language, else zh-hans."""
    weighted: list[tuple[float, str]] = []
    for part in request.headers.get("Accept-Language", "").split(","):
        code, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code and code != "*" and quality > 0:
            weighted.append((quality, code))
    for _quality, code in sorted(weighted, key=lambda pair: -pair[0]):
        try:
            return translation.get_supported_language_variant(code.lower())
        except LookupError:
            continue
    return "zh-hans"


def in_request_language(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operation decorator: everything an operation says, including refusals, in the caller's language."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(api_language(request)):
            return run(request, *args, **kwargs)

    return wrapper


def docs_require_sign_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The schema and the docs page are for signed-in people and token holders only (see docs/api.md).

    A browser without a session is sent to the sign-in page; a program gets 401 as from any endpoint.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from batchline.api.api import api  # the API object imports this module

        with translation.override(api_language(request)):
            try:
                if request.headers.get("Authorization", "").lower().startswith("bearer "):
                    token_auth(request)
                elif not request.user.is_authenticated:
                    if "text/html" in request.headers.get("Accept", "") and view_is_docs_page(request):
                        return redirect_to_login(request.get_full_path())
                    raise NotAuthenticated()
            except DomainError as exc:
                return api.on_exception(request, exc)
            return view(request, *args, **kwargs)

    return wrapper


def view_is_docs_page(request: HttpRequest) -> bool:
    return not request.path.endswith(".json")
