"""The home page: who I am, the workspaces I may open, and the work waiting for me."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse

from batchline.identity.authz import has_permission
from batchline.identity.models import User
from batchline.masterdata import selectors as masterdata
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.registry import KINDS, kind_for_record_type
from batchline.web.context import NAVIGATION
from batchline.web.views._guards import acting_user, signed_in

# How many items each "my work" list shows; the count above it tells the total.
LIST_LIMIT = 20


@dataclass(frozen=True)
class Tile:
    key: str  # label key, translated in the template (same keys as the navigation)
    href: str


def workspace_tiles(user: Any) -> list[Tile]:
    """The workspaces this person may open. A workspace whose screens are not installed is left out."""
    tiles = []
    for url_name, key, permission in NAVIGATION:
        if permission is None or not has_permission(user, permission):
            continue
        try:
            tiles.append(Tile(key, reverse(url_name)))
        except NoReverseMatch:
            continue
    return tiles


def drafts_awaiting_approval(user: Any) -> tuple[list[tuple[Any, Any]], int]:
    """Draft master-data items someone else wrote (the approver must not be the author, ES-08)."""
    rows: list[tuple[Any, Any]] = []
    total = 0
    for kind in KINDS.values():
        drafts = masterdata.items(kind, status=RecordStatus.DRAFT).exclude(created_by=user)
        total += drafts.count()
        if len(rows) < LIST_LIMIT:
            rows.extend((kind, item) for item in drafts[: LIST_LIMIT - len(rows)])
    return rows, total


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    context: dict[str, Any] = {"tiles": workspace_tiles(user)}
    if has_permission(user, "masterdata.approve"):
        changes = masterdata.pending_changes().exclude(proposed_by=user).order_by("proposed_at", "id")
        context["pending_changes"] = [(kind_for_record_type(c.record_type), c) for c in changes[:LIST_LIMIT]]
        context["pending_changes_total"] = changes.count()
        context["drafts"], context["drafts_total"] = drafts_awaiting_approval(user)
    if has_permission(user, "identity.manage_users"):
        locked = User.objects.filter(locked_at__isnull=False, is_active=True).order_by("locked_at")
        context["locked_accounts"] = list(locked[:LIST_LIMIT])
        context["locked_accounts_total"] = locked.count()
    return render(request, "web/home/home.html", context)


urlpatterns = [path("", home, name="home")]
