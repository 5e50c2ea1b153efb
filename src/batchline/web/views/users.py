"""User administration (AC-04, AC-05): accounts, roles, passwords, locks and API tokens.

Every change goes through identity.services, which authorizes, asks for the reason and writes the
audit entry; these views only collect the input and show the result or the refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from batchline.compliance.selectors import record_history
from batchline.core.clock import site_zone
from batchline.core.errors import DomainError, NotFound
from batchline.identity import services
from batchline.identity.authz import has_permission
from batchline.identity.models import ApiToken, User, UserKind
from batchline.identity.roles import role_label
from batchline.web.forms import show_refusal
from batchline.web.forms.identity import (
    ProfileForm,
    ReasonForm,
    ResetPasswordForm,
    RolesForm,
    TokenCreateForm,
    UserCreateForm,
    UserFilterForm,
)
from batchline.web.views._guards import acting_user, requires
from batchline.web.views.audit import action_label

MANAGE_USERS = "identity.manage_users"
MANAGE_TOKENS = "identity.manage_tokens"
PAGE_SIZE = 50


def _account(pk: int) -> User:
    account = User.objects.filter(pk=pk).first()
    if account is None:
        raise NotFound()
    return account


def _role_labels(roles: list[str]) -> list[str]:
    language = get_language() or "zh-hans"
    return [role_label(code, language) for code in roles]


def _detail_url(pk: int) -> str:
    return reverse("web:user_detail", args=[pk])


# --- list, create, detail -------------------------------------------------------------------------

def matching_accounts(q: str, status: str, role: str) -> list[User]:
    accounts = User.objects.order_by("username")
    if q:
        accounts = accounts.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    if status == "active":
        accounts = accounts.filter(is_active=True, locked_at__isnull=True)
    elif status == "locked":
        accounts = accounts.filter(locked_at__isnull=False)
    elif status == "inactive":
        accounts = accounts.filter(is_active=False)
    # Roles are a JSON list; filtering in Python keeps SQLite and PostgreSQL identical (a plant has
    # hundreds of accounts, not millions).
    return [a for a in accounts if not role or role in a.roles]


@requires(MANAGE_USERS)
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    q = status = role = ""
    if form.is_valid():
        data = form.cleaned_data
        q, status, role = data["q"].strip(), data["status"], data["role"]
    page = Paginator(matching_accounts(q, status, role), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(account, _role_labels(account.roles)) for account in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/users/list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "can_manage_tokens": has_permission(request.user, MANAGE_TOKENS),
    })


@sensitive_post_parameters("password")
@requires(MANAGE_USERS)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = data["kind"] == UserKind.PERSON
        try:
            account = services.create_user(
                actor=acting_user(request), username=data["username"], full_name=data["full_name"],
                roles=data["roles"], initial_password=data["password"] if person else None,
                email=data["email"], language=data["language"], kind=data["kind"])
        except DomainError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Account {username} was created.").format(username=account.username))
            return redirect(_detail_url(account.pk))
    return render(request, "web/users/create.html", {"form": form})


def _format_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def history_rows(account: User) -> list[dict[str, Any]]:
    """The account's audit trail, oldest first, with every changed field as old → new (AC-04)."""
    rows = []
    for entry in record_history("identity.user", str(account.pk)):
        rows.append({
            "entry": entry,
            "action": action_label(entry.action),
            "changes": [(name, _format_value(old), _format_value(new))
                        for name, old, new in entry.change_items],
        })
    return rows


@requires(MANAGE_USERS)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    return render(request, "web/users/detail.html", {
        "account": account,
        "role_labels": _role_labels(account.roles),
        "tokens": list(account.api_tokens.select_related("created_by")),
        "history": history_rows(account),
        "can_manage_tokens": has_permission(request.user, MANAGE_TOKENS),
        "is_self": account.pk == request.user.pk,
    })


# --- actions with a reason ------------------------------------------------------------------------

def _action(request: HttpRequest, account: User, *, form: Form, title: Any, intro: Any, submit: Any,
            perform: Callable[[dict[str, Any]], object], done: Any, danger: bool = False,
            aliases: Mapping[str, str] | None = None) -> HttpResponse:
    """One account action: show its form, run the service on POST, come back to the account page.

    Requested by HTMX (from the account page), the form alone is returned and appears inline, posts
    inline and shows its errors inline; without JavaScript the same form is a page of its own with a
    plain POST.
    """
    inline = bool(request.headers.get("HX-Request"))
    if request.method == "POST" and form.is_valid():
        try:
            perform(form.cleaned_data)
        except DomainError as error:
            show_refusal(form, error, aliases)
        else:
            messages.success(request, done)
            if inline:  # HTMX reloads the whole account page, which now shows the change
                return HttpResponse(headers={"HX-Redirect": _detail_url(account.pk)})
            return redirect(_detail_url(account.pk))
    context = {"account": account, "form": form, "title": title, "intro": intro, "submit": submit,
               "danger": danger, "action_url": request.path, "inline": inline}
    if inline:
        return render(request, "web/users/_action_form.html", context)
    return render(request, "web/users/action.html", context)


@requires(MANAGE_USERS)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    initial = {"full_name": account.full_name, "email": account.email, "language": account.language}
    form = ProfileForm(request.POST or None, initial=initial)
    return _action(
        request, account, form=form, title=_("Edit profile"), intro="", submit=_("Save"),
        perform=lambda d: services.update_profile(
            actor=acting_user(request), user_id=account.pk, full_name=d["full_name"],
            email=d["email"], language=d["language"], reason=d["reason"]),
        done=_("The profile was saved."))


@requires(MANAGE_USERS)
def user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    form = RolesForm(request.POST or None, initial={"roles": account.roles})
    return _action(
        request, account, form=form, title=_("Change roles"),
        intro=_("Roles decide what the person may see and do. The change takes effect at once."),
        submit=_("Change roles"),
        perform=lambda d: services.change_roles(
            actor=acting_user(request), user_id=account.pk, roles=d["roles"], reason=d["reason"]),
        done=_("The roles were changed."))


@requires(MANAGE_USERS)
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    return _action(
        request, account, form=ReasonForm(request.POST or None), title=_("Deactivate account"),
        intro=_("The person can no longer sign in and the account's API tokens are revoked. The account "
                "and its history stay; the user id is never given to anyone else."),
        submit=_("Deactivate"), danger=True,
        perform=lambda d: services.deactivate_user(
            actor=acting_user(request), user_id=account.pk, reason=d["reason"]),
        done=_("The account was deactivated."))


@requires(MANAGE_USERS)
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    return _action(
        request, account, form=ReasonForm(request.POST or None), title=_("Reactivate account"),
        intro=_("The person can sign in again with their roles."), submit=_("Reactivate"),
        perform=lambda d: services.reactivate_user(
            actor=acting_user(request), user_id=account.pk, reason=d["reason"]),
        done=_("The account was reactivated."))


@sensitive_post_parameters("temporary_password")
@requires(MANAGE_USERS)
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    return _action(
        request, account, form=ResetPasswordForm(request.POST or None), title=_("Reset password"),
        intro=_("Give the person the temporary password in person; they must change it at the next sign-in."),
        submit=_("Reset password"), aliases={"password": "temporary_password"},
        perform=lambda d: services.reset_password(
            actor=acting_user(request), user_id=account.pk,
            temporary_password=d["temporary_password"], reason=d["reason"]),
        done=_("The password was reset. The person must change it at the next sign-in."))


@requires(MANAGE_USERS)
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    return _action(
        request, account, form=ReasonForm(request.POST or None), title=_("Unlock account"),
        intro=_("The failed-attempt count goes back to zero."), submit=_("Unlock"),
        perform=lambda d: services.unlock_user(
            actor=acting_user(request), user_id=account.pk, reason=d["reason"]),
        done=_("The account was unlocked."))


# --- API tokens -------------------------------------------------------------------------------------

def _end_of_site_day(day: Any) -> datetime:
    """An expiry date as people mean it: valid through that whole day in the site's time zone."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=site_zone())


@requires(MANAGE_TOKENS)
def token_list(request: HttpRequest) -> HttpResponse:
    tokens = ApiToken.objects.select_related("user", "created_by").order_by("user__username", "-created_at")
    return render(request, "web/users/tokens.html", {"tokens": tokens})


@never_cache
@requires(MANAGE_TOKENS)
def token_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    form = TokenCreateForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires_at = _end_of_site_day(data["expires_on"]) if data["expires_on"] else None
        try:
            token, secret = services.create_api_token(
                actor=acting_user(request), user_id=account.pk, name=data["name"],
                scopes=data["scopes"], expires_at=expires_at)
        except DomainError as error:
            show_refusal(form, error)
        else:
            # The secret exists only in this response (never cached): it is stored hashed, never shown again.
            return render(request, "web/users/token_created.html",
                          {"account": account, "token": token, "secret": secret})
    return render(request, "web/users/token_create.html", {"account": account, "form": form})


@requires(MANAGE_TOKENS)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None:
        raise NotFound()
    return _action(
        request, token.user, form=ReasonForm(request.POST or None),
        title=_("Revoke token {name}").format(name=token.name),
        intro=_("Systems using this token are refused from now on. This cannot be undone."),
        submit=_("Revoke"), danger=True,
        perform=lambda d: services.revoke_api_token(
            actor=acting_user(request), token_id=token.pk, reason=d["reason"]),
        done=_("The token was revoked."))


urlpatterns = [
    path("users/", user_list, name="users"),
    path("users/new/", user_create, name="user_create"),
    path("users/tokens/", token_list, name="tokens"),
    path("users/tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
    path("users/<int:pk>/", user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", user_edit, name="user_edit"),
    path("users/<int:pk>/roles/", user_roles, name="user_roles"),
    path("users/<int:pk>/deactivate/", user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", user_reactivate, name="user_reactivate"),
    path("users/<int:pk>/password/", user_reset_password, name="user_reset_password"),
    path("users/<int:pk>/unlock/", user_unlock, name="user_unlock"),
    path("users/<int:pk>/tokens/new/", token_create, name="token_create"),
]
