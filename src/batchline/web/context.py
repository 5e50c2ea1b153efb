"""Template context: the navigation a person sees follows their permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from batchline.core.clock import site_zone
from batchline.identity.authz import has_permission
from batchline.identity.roles import role_label

# (url name, label key, permission). Labels are translated in the template.
NAVIGATION = [
    ("web:home", "home", None),
    ("web:masterdata_index", "masterdata", "masterdata.view"),
    ("web:audit_trail", "audit", "audit.view"),
    ("web:users", "users", "identity.manage_users"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "site_time_zone": str(site_zone())}
    language = getattr(request, "LANGUAGE_CODE", "zh-hans")
    return {
        "nav_items": [(url, key) for url, key, perm in NAVIGATION if perm is None or has_permission(user, perm)],
        "user_role_labels": [role_label(r, language) for r in user.roles],
        "site_time_zone": str(site_zone()),
    }
