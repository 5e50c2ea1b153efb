"""authorize(): the single permission check every view, endpoint and service uses."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import NotAuthenticated, PermissionDenied
from batchline.identity.roles import permissions_of, roles_holding


def has_permission(user: Any, permission: str) -> bool:
    roles_holding(permission)  # an unknown permission is a programming error, never a silent "no"
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_locked:
        return False
    if permission not in permissions_of(tuple(user.roles)):
        return False
    scopes = getattr(user, "token_scopes", None)
    return scopes is None or _scope_allows(scopes, permission)


def _scope_allows(scopes: frozenset[str], permission: str) -> bool:
    app = permission.split(".", 1)[0]
    return permission in scopes or f"{app}.*" in scopes


def authorize(user: Any, permission: str) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not has_permission(user, permission):
        raise PermissionDenied(_("You do not have the permission '{permission}'."), permission=permission)
