"""Sign-in, sign-out, the forced password change and the language switch (AC-03)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from batchline.core.errors import DomainError
from batchline.identity import services
from batchline.identity.errors import AccountInactive, AccountLocked, AuthenticationFailed
from batchline.identity.models import User, UserKind
from batchline.identity.passwords import is_expired
from batchline.web.forms import show_refusal
from batchline.web.forms.identity import PasswordChangeForm, SignInForm
from batchline.web.views._guards import acting_user, signed_in


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go after a form: the `next` the page gave, if it points into this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _refusal_message(username: str, password: str) -> str:
    """Why a sign-in failed, as specific as is safe.

    Wrong user id or password: one generic message (no hint which was wrong). A locked account is
    named as locked, so the person knows to call an administrator. A deactivated account is named
    only when the password was right, so a guesser learns nothing about accounts.
    """
    user = User.objects.filter(username=username).first()
    if user is not None and user.kind == UserKind.PERSON:
        if user.is_locked:
            return AccountLocked().render()
        if not user.is_active and check_password(password, user.password):
            return AccountInactive().render()
    return AuthenticationFailed().render()


def _use_browser_language(request: HttpRequest) -> None:
    """Before sign-in: Chinese for a browser that asks for Chinese, English for every other browser.

    LocaleMiddleware already honours a language chosen with the switch (cookie) and a browser that
    asks for zh or en; a browser asking for neither would get the site default (Chinese), which a
    visitor who reads no Chinese cannot use to find the switch.
    """
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in dict(settings.LANGUAGES):
        return
    if "zh" not in request.headers.get("Accept-Language", "").lower():
        translation.activate("en")
        request.LANGUAGE_CODE = "en"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    home = reverse("web:home")
    if request.user.is_authenticated:
        return redirect(_safe_next(request, home))
    _use_browser_language(request)
    form = SignInForm(request.POST or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        username, password = form.cleaned_data["username"].strip(), form.cleaned_data["password"]
        user = authenticate(request, username=username, password=password)
        if user is not None:
            login(request, user)  # rotates the session key: no session fixation
            response = redirect(_safe_next(request, home))
            # The sign-in page after sign-out speaks the person's language too.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE, max_age=365 * 24 * 3600)
            return response
        refusal = _refusal_message(username, password)
    return render(request, "web/auth/login.html", {
        "form": form, "refusal": refusal, "next": _safe_next(request, ""),
    })


def sign_out(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST signs out (a link alone must never end a session)."""
    if request.method == "POST":
        logout(request)
        return redirect("web:login")
    if not request.user.is_authenticated:
        return redirect("web:login")
    return render(request, "web/auth/logout.html")


@sensitive_post_parameters("current_password", "password", "password_confirm")
@never_cache
@signed_in
def password_change(request: HttpRequest) -> HttpResponse:
    """The person's own password change; forced after an administrator's reset or on expiry (AC-03)."""
    user = acting_user(request)
    forced = user.must_change_password or is_expired(user)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.change_own_password(
                user=user, current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["password"])
        except DomainError as error:
            show_refusal(form, error)
        else:
            update_session_auth_hash(request, changed)  # stay signed in with the new password
            messages.success(request, _("Your password was changed."))
            return redirect("web:home")
    return render(request, "web/auth/password_change.html", {
        "form": form, "forced": forced, "rules": PasswordChangeForm.rules(),
    })


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: a signed-in person's choice is kept on their account."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        services.set_own_language(user=acting_user(request), language=language)
    translation.activate(language)
    response = HttpResponseRedirect(_safe_next(request, reverse("web:home")))
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, max_age=365 * 24 * 3600)
    return response


urlpatterns = [
    path("login/", sign_in, name="login"),
    path("logout/", sign_out, name="logout"),
    path("password/change/", password_change, name="password_change"),
    path("language/", set_language, name="set_language"),
]
