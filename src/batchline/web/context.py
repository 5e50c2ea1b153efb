"""Template context: the navigation a person sees follows their permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from batchline.core.clock import site_zone
from batchline.identity.authz import has_permission
from batchline.identity.roles import role_label
from batchline.web.signing import username_required

# (url name, label key, permission). Labels are translated in the template.
NAVIGATION = [
    ("web:home", "home", None),
    ("web:warehouse", "warehouse", "inventory.view"),
    ("web:equipment", "equipment", "equipment.view"),
    ("web:environment", "environment", "environment.view"),
    ("web:masterdata_index", "masterdata", "masterdata.view"),
    ("web:audit_trail", "audit", "audit.view"),
    ("web:interfaces", "interfaces", "integration.view"),
    ("web:users", "users", "identity.manage_users"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "site_time_zone": str(site_zone())}
    language = getattr(request, "LANGUAGE_CODE", "zh-hans")
    nav_items = [(url, key) for url, key, perm in NAVIGATION if perm is None or has_permission(user, perm)]
    return {
        "nav_items": nav_items,
        "nav_current": current_workspace(request.path, nav_items),
        "user_role_labels": [role_label(r, language) for r in user.roles],
        "site_time_zone": str(site_zone()),
        # For partials/signature_dialog.html: the user id is asked at the first signature only (ES-05).
        "signature_username_required": username_required(request),
    }


def current_workspace(path: str, nav_items: list[tuple[str, str]]) -> str:
    """The label key of the workspace the page belongs to: the longest navigation URL that starts the path."""
    best, best_length = "", 0
    for url_name, key in nav_items:
        try:
            href = reverse(url_name)
        except NoReverseMatch:  # a workspace whose screens are not installed
            continue
        matches = path == href if href == "/" else path.startswith(href)
        if matches and len(href) > best_length:
            best, best_length = key, len(href)
    return best
