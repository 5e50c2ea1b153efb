"""Who am I, and account and token administration (identity.manage_users / identity.manage_tokens).

Every change goes through identity.services, which check the permission and audit the change (AC-04).
The administration endpoints check the permission before looking an account up as well, so that a
caller without it cannot learn which user ids exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.schemas import (
    ERRORS,
    MeOut,
    PageQuery,
    ReasonIn,
    ResetPasswordIn,
    RolesIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    UserCreateIn,
    UserOut,
    UserPage,
    UserQuery,
)
from batchline.core.errors import NotFound
from batchline.identity import services
from batchline.identity.authz import authorize, has_permission
from batchline.identity.models import ApiToken, User
from batchline.identity.roles import permissions_of

me_router = Router(tags=["identity"])
router = Router(tags=["identity"])

MANAGE_USERS = "identity.manage_users"
MANAGE_TOKENS = "identity.manage_tokens"


@me_router.get("/me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest) -> dict[str, Any]:
    """The caller: account, roles, and what this request may do (roles narrowed by the token's scopes)."""
    user = caller(request)
    scopes = user.token_scopes
    return {
        "username": user.username, "full_name": user.full_name, "kind": user.kind,
        "roles": sorted(user.roles),
        "permissions": sorted(p for p in permissions_of(tuple(user.roles)) if has_permission(user, p)),
        "token_scopes": sorted(scopes) if scopes is not None else None,
        "authenticated_by": getattr(request, "auth_method", "session"), "language": user.language,
    }


def user_out(user: User) -> dict[str, Any]:
    return UserOut(
        username=user.username, full_name=user.full_name, email=user.email, kind=user.kind,
        roles=sorted(user.roles), language=user.language, is_active=user.is_active, locked=user.is_locked,
        must_change_password=user.must_change_password, created_at=user.created_at,
        deactivated_at=user.deactivated_at, last_login=user.last_login,
    ).model_dump(mode="json")


def token_out(token: ApiToken) -> dict[str, Any]:
    return TokenOut(
        id=token.pk, username=token.user.username, name=token.name, prefix=token.prefix, scopes=token.scopes,
        created_at=token.created_at, created_by=token.created_by.username, expires_at=token.expires_at,
        revoked_at=token.revoked_at, last_used_at=token.last_used_at,
    ).model_dump(mode="json")


def _account(request: HttpRequest, username: str, permission: str = MANAGE_USERS) -> User:
    authorize(caller(request), permission)
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(field="username")
    return user


def _fresh(user_id: int) -> dict[str, Any]:
    return user_out(User.objects.get(pk=user_id))


@router.get("/users", response={200: UserPage, **ERRORS})
def list_users(request: HttpRequest, query: Query[UserQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    authorize(caller(request), MANAGE_USERS)
    qs = User.objects.order_by("username")
    if query.search:
        qs = qs.filter(Q(username__icontains=query.search) | Q(full_name__icontains=query.search))
    if query.active is not None:
        qs = qs.filter(is_active=query.active)
    start = (paging.page - 1) * paging.page_size
    rows = list(qs[start:start + paging.page_size])
    return {"items": [user_out(u) for u in rows], "count": qs.count(), "page": paging.page,
            "page_size": paging.page_size}


@router.get("/users/{username}", response={200: UserOut, **ERRORS})
def get_user(request: HttpRequest, username: str) -> dict[str, Any]:
    return user_out(_account(request, username))


@router.post("/users", response={201: UserOut, **ERRORS})
def create_user(request: HttpRequest, payload: UserCreateIn) -> HttpResponse:
    """Open an account. A person gets an initial password to change at first sign-in."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        user = services.create_user(actor=actor, username=payload.username, full_name=payload.full_name,
                                    roles=payload.roles, initial_password=payload.initial_password,
                                    email=payload.email, language=payload.language, kind=payload.kind)
        return 201, _fresh(user.pk)

    return respond(request, action)


@router.post("/users/{username}/roles", response={200: UserOut, **ERRORS})
def change_roles(request: HttpRequest, username: str, payload: RolesIn) -> HttpResponse:
    actor, user = caller(request), _account(request, username)

    def action() -> tuple[int, Any]:
        services.change_roles(actor=actor, user_id=user.pk, roles=payload.roles, reason=payload.reason)
        return 200, _fresh(user.pk)

    return respond(request, action)


@router.post("/users/{username}/deactivate", response={200: UserOut, **ERRORS})
def deactivate_user(request: HttpRequest, username: str, payload: ReasonIn) -> HttpResponse:
    """Deactivate an account (never deleted; its tokens are revoked)."""
    actor, user = caller(request), _account(request, username)

    def action() -> tuple[int, Any]:
        services.deactivate_user(actor=actor, user_id=user.pk, reason=payload.reason)
        return 200, _fresh(user.pk)

    return respond(request, action)


@router.post("/users/{username}/reactivate", response={200: UserOut, **ERRORS})
def reactivate_user(request: HttpRequest, username: str, payload: ReasonIn) -> HttpResponse:
    actor, user = caller(request), _account(request, username)

    def action() -> tuple[int, Any]:
        services.reactivate_user(actor=actor, user_id=user.pk, reason=payload.reason)
        return 200, _fresh(user.pk)

    return respond(request, action)


@router.post("/users/{username}/unlock", response={200: UserOut, **ERRORS})
def unlock_user(request: HttpRequest, username: str, payload: ReasonIn) -> HttpResponse:
    actor, user = caller(request), _account(request, username)

    def action() -> tuple[int, Any]:
        services.unlock_user(actor=actor, user_id=user.pk, reason=payload.reason)
        return 200, _fresh(user.pk)

    return respond(request, action)


@router.post("/users/{username}/reset-password", response={200: UserOut, **ERRORS})
def reset_password(request: HttpRequest, username: str, payload: ResetPasswordIn) -> HttpResponse:
    """Set a temporary password; the person must change it at next sign-in."""
    actor, user = caller(request), _account(request, username)

    def action() -> tuple[int, Any]:
        services.reset_password(actor=actor, user_id=user.pk, temporary_password=payload.temporary_password,
                                reason=payload.reason)
        return 200, _fresh(user.pk)

    return respond(request, action)


@router.get("/users/{username}/tokens", response={200: list[TokenOut], **ERRORS})
def list_tokens(request: HttpRequest, username: str) -> list[dict[str, Any]]:
    """The account's tokens, newest first (never their secrets)."""
    user = _account(request, username, MANAGE_TOKENS)
    return [token_out(t) for t in ApiToken.objects.filter(user=user).select_related("user", "created_by")]


@router.post("/users/{username}/tokens", response={201: TokenCreatedOut, **ERRORS})
def create_token(request: HttpRequest, username: str, payload: TokenCreateIn) -> HttpResponse:
    """Issue a token. The secret is in this response only; a replay of the request returns the token
    without it (the secret is never stored, not even for replays)."""
    actor, user = caller(request), _account(request, username, MANAGE_TOKENS)
    secret: dict[str, str] = {}

    def action() -> tuple[int, Any]:
        token, secret["value"] = services.create_api_token(actor=actor, user_id=user.pk, name=payload.name,
                                                           scopes=payload.scopes,
                                                           expires_at=payload.expires_at)
        token = ApiToken.objects.select_related("user", "created_by").get(pk=token.pk)
        return 201, {**token_out(token), "secret": None}

    return respond(request, action, first_only=lambda body: {**body, "secret": secret["value"]})


@router.post("/tokens/{int:token_id}/revoke", response={200: TokenOut, **ERRORS})
def revoke_token(request: HttpRequest, token_id: int, payload: ReasonIn) -> HttpResponse:
    actor = caller(request)

    def action() -> tuple[int, Any]:
        services.revoke_api_token(actor=actor, token_id=token_id, reason=payload.reason)
        return 200, token_out(ApiToken.objects.select_related("user", "created_by").get(pk=token_id))

    return respond(request, action)
