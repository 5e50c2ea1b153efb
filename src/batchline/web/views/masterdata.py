"""Master-data screens: lists, detail with versions and signatures, and the lifecycle actions.

Every action calls one masterdata service; the service checks the permission and the rules. A refusal
re-renders the page with the message next to the field it concerns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.compliance.meanings import meaning_for
from batchline.compliance.selectors import signatures_of
from batchline.compliance.signatures import signature_applies
from batchline.core.errors import DomainError
from batchline.identity.authz import has_permission
from batchline.masterdata import selectors, services
from batchline.masterdata.choices import ChangeKind, ChangeStatus, RecordStatus
from batchline.masterdata.content import content_of, portable
from batchline.masterdata.models import MasterDataChange, MasterRecord
from batchline.masterdata.registry import KINDS, Kind, kind_of
from batchline.web import signing
from batchline.web.forms.masterdata import (
    content_inputs,
    default_values,
    field_errors,
    initial_values,
    submitted_values,
)
from batchline.web.middleware import count_failed_signature
from batchline.web.views._guards import requires

PAGE_SIZE = 50
APPROVE = "approve"  # the signature meaning of every master-data approval (masterdata.apps)
NAME_FIELDS = ("name_zh", "name_en")


# --- showing values -----------------------------------------------------------------------------

def field_label(model: type[models.Model], name: str) -> str:
    return str(capfirst(model._meta.get_field(name).verbose_name))  # type: ignore[union-attr]


def display_value(model: type[models.Model], name: str, value: Any) -> str:
    """A content value as a reader sees it: choice labels, yes/no, linked items by code, exact decimals."""
    model_field: Any = model._meta.get_field(name)
    if value is None or value == "":
        return "—"
    if isinstance(value, models.Model):
        return str(getattr(value, "code", value))
    if isinstance(model_field, models.BooleanField) or isinstance(value, bool):
        if isinstance(value, str):
            return value
        return _("Yes") if value else _("No")
    if model_field.choices:
        labels = {str(code): str(label) for code, label in model_field.choices}
        return labels.get(str(value), str(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(model_field, models.DecimalField):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except ArithmeticError:
            return str(value)
    return str(value)


def _linked_name(value: Any) -> str:
    if isinstance(value, MasterRecord):
        return value.name(get_language() or "zh-hans")
    return ""


def _rows(model: type[MasterRecord], content: dict[str, Any]) -> list[dict[str, str]]:
    return [{"name": name, "label": field_label(model, name),
             "value": display_value(model, name, content.get(name)),
             "linked_name": _linked_name(content.get(name))}
            for name in model.content_fields]


def _badge_status(status: str) -> str:
    return "pending" if status == ChangeStatus.PENDING else status


# --- index and lists ------------------------------------------------------------------------------

@requires("masterdata.view")
def index(request: HttpRequest) -> HttpResponse:
    pending_by_type = dict(MasterDataChange.objects.filter(status=ChangeStatus.PENDING).values("record_type")
                           .annotate(n=Count("id")).values_list("record_type", "n"))
    kinds = []
    for kind in KINDS.values():
        counts = dict(kind.model._default_manager.values("status").annotate(n=Count("id"))
                      .values_list("status", "n"))
        kinds.append({"kind": kind, "draft": counts.get(RecordStatus.DRAFT, 0),
                      "approved": counts.get(RecordStatus.APPROVED, 0),
                      "retired": counts.get(RecordStatus.RETIRED, 0),
                      "pending": pending_by_type.get(kind.record_type, 0)})
    pending = [{"change": change, "kind": KINDS_BY_TYPE.get(change.record_type)}
               for change in selectors.pending_changes()[:PAGE_SIZE]]
    return render(request, "web/masterdata/index.html", {
        "kinds": kinds, "pending": pending,
        "can_configure": has_permission(request.user, "masterdata.configure"),
    })


KINDS_BY_TYPE = {kind.record_type: kind for kind in KINDS.values()}


def _columns(kind: Kind) -> list[dict[str, str]]:
    """The list columns; the Chinese and English names become one "name" column in the reader's language."""
    columns: list[dict[str, str]] = []
    for name in kind.columns:
        if name in NAME_FIELDS:
            if not any(c["name"] == "name" for c in columns):
                columns.append({"name": "name", "label": _("Name")})
            continue
        columns.append({"name": name, "label": field_label(kind.model, name)})
    return columns


@requires("masterdata.view")
def item_list(request: HttpRequest, kind: str) -> HttpResponse:
    found = kind_of(kind)
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in RecordStatus.values:
        status = ""
    items = selectors.items(found, search=search, status=status)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    columns = _columns(found)
    language = get_language() or "zh-hans"
    rows = []
    for item in page.object_list:
        cells = []
        for column in columns:
            if column["name"] == "name":
                other = item.name_en if language.startswith("zh") else item.name_zh
                cells.append({"value": item.name(language), "secondary": other})
            else:
                value = display_value(found.model, column["name"], getattr(item, column["name"]))
                cells.append({"value": value, "secondary": ""})
        rows.append({"item": item, "cells": cells})
    return render(request, "web/masterdata/list.html", {
        "kind": found, "columns": columns, "rows": rows, "page": page, "search": search, "status": status,
        "statuses": RecordStatus.choices, "can_edit": has_permission(request.user, "masterdata.edit"),
        "query": _query_without_page(request),
    })


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- detail and actions on it ---------------------------------------------------------------------

def _item(kind: Kind, item_id: int) -> MasterRecord:
    return get_object_or_404(kind.model, pk=item_id)


def _detail_url(kind: Kind, item: MasterRecord) -> str:
    return reverse("web:masterdata_detail", args=[kind.slug, item.pk])


def _change_diff(kind: Kind, item: MasterRecord, change: MasterDataChange) -> list[dict[str, str]]:
    current = portable(content_of(item))
    return [{"label": field_label(kind.model, name),
             "old": display_value(kind.model, name, current.get(name)),
             "new": display_value(kind.model, name, value)}
            for name, value in change.proposed.items()]


def _versions(kind: Kind, item: MasterRecord) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every approved version side by side, newest first: the columns, and per field a row whose cells
    mark the values that differ from the version before (AT-06: earlier values stay visible)."""
    versions = list(selectors.versions_of(kind, item).select_related("approved_by", "change"))
    columns = [{"version": v, "current": v.version == item.version and item.status == RecordStatus.APPROVED}
               for v in versions]
    rows = []
    for name in kind.model.content_fields:
        cells = []
        for index, version in enumerate(versions):
            older = versions[index + 1].content if index + 1 < len(versions) else None
            cells.append({"version": version.version,
                          "value": display_value(kind.model, name, version.content.get(name)),
                          "changed": older is not None and older.get(name) != version.content.get(name)})
        rows.append({"name": name, "label": field_label(kind.model, name), "cells": cells})
    return columns, rows


def _render_detail(request: HttpRequest, kind: Kind, item: MasterRecord, *, error: DomainError | None = None,
                   failed_action: str = "", posted: dict[str, str] | None = None) -> HttpResponse:
    language = get_language() or "zh-hans"
    pending = selectors.pending_change(kind, item)
    signatures = [(s, signature_applies(s, item, record_type=kind.record_type))
                  for s in signatures_of(kind.record_type, item.pk)]
    user = request.user
    versions, version_fields = _versions(kind, item)
    context = {
        "kind": kind, "item": item, "rows": _rows(kind.model, content_of(item)),
        "pending": pending,
        "pending_diff": _change_diff(kind, item, pending) if pending else [],
        "pending_is_retirement": pending is not None and pending.kind == ChangeKind.RETIRE,
        "versions": versions, "version_fields": version_fields,
        "changes": selectors.changes_of(kind, item).exclude(status=ChangeStatus.PENDING)
                                                  .select_related("proposed_by", "decided_by"),
        "signatures": signatures,
        "meaning_label": meaning_for(kind.record_type, APPROVE).label(language),
        "signature_username_required": signing.username_required(request),
        "can_edit": has_permission(user, "masterdata.edit"),
        "can_approve": has_permission(user, "masterdata.approve"),
        "can_read_audit": has_permission(user, "audit.view"),
        "is_proposer": pending is not None and pending.proposed_by_id == user.pk,
        "error": error, "failed_action": failed_action,
        "errors": field_errors(error) if error else {},
        "posted": posted or {},
    }
    status = error.http_status if error is not None else 200
    return render(request, "web/masterdata/detail.html", context, status=status)


@requires("masterdata.view")
def detail(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    found = kind_of(kind)
    return _render_detail(request, found, _item(found, item_id))


def _refused(request: HttpRequest, kind: Kind, item_id: int, error: DomainError, action: str,
             posted: dict[str, str] | None = None) -> HttpResponse:
    # A wrong signature password must count toward lockout even though this view handles the refusal.
    count_failed_signature(error)
    return _render_detail(request, kind, _item(kind, item_id), error=error, failed_action=action,
                          posted=posted)


@requires("masterdata.view")
@require_POST
def approve(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    found = kind_of(kind)
    try:
        item = services.approve_item(actor=request.user, kind=found, item_id=item_id,
                                     signature=signing.signature_request(request, APPROVE),
                                     username_required=signing.username_required(request))
    except DomainError as error:
        return _refused(request, found, item_id, error, "approve",
                        {"sig_comment": request.POST.get("sig_comment", "")})
    signing.mark_signed(request)
    messages.success(request, _("{code} is approved (version {version}).").format(code=item.code,
                                                                                 version=item.version))
    return redirect(_detail_url(found, item))


@requires("masterdata.view")
@require_POST
def void(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    found = kind_of(kind)
    reason = request.POST.get("reason", "")
    try:
        item = services.void_draft(actor=request.user, kind=found, item_id=item_id, reason=reason)
    except DomainError as error:
        return _refused(request, found, item_id, error, "void", {"reason": reason})
    messages.success(request, _("The draft {code} is voided.").format(code=item.code))
    return redirect(_detail_url(found, item))


def _change_of(kind: Kind, item_id: int, change_id: int) -> MasterDataChange:
    return get_object_or_404(MasterDataChange, pk=change_id, record_type=kind.record_type,
                             record_id=str(item_id))


@requires("masterdata.view")
@require_POST
def approve_change(request: HttpRequest, kind: str, item_id: int, change_id: int) -> HttpResponse:
    found = kind_of(kind)
    change = _change_of(found, item_id, change_id)
    try:
        item = services.approve_change(actor=request.user, change_id=change.pk,
                                       signature=signing.signature_request(request, APPROVE),
                                       username_required=signing.username_required(request))
    except DomainError as error:
        return _refused(request, found, item_id, error, "approve_change",
                        {"sig_comment": request.POST.get("sig_comment", "")})
    signing.mark_signed(request)
    messages.success(request, _("The change is approved: {code} is now at version {version}.").format(
        code=item.code, version=item.version))
    return redirect(_detail_url(found, item))


@requires("masterdata.view")
@require_POST
def reject_change(request: HttpRequest, kind: str, item_id: int, change_id: int) -> HttpResponse:
    found = kind_of(kind)
    change = _change_of(found, item_id, change_id)
    comment = request.POST.get("comment", "")
    try:
        services.reject_change(actor=request.user, change_id=change.pk, comment=comment)
    except DomainError as error:
        return _refused(request, found, item_id, error, "reject", {"comment": comment})
    messages.success(request, _("The change is rejected."))
    return redirect(reverse("web:masterdata_detail", args=[found.slug, item_id]))


@requires("masterdata.view")
@require_POST
def withdraw_change(request: HttpRequest, kind: str, item_id: int, change_id: int) -> HttpResponse:
    found = kind_of(kind)
    change = _change_of(found, item_id, change_id)
    comment = request.POST.get("comment", "")
    try:
        services.withdraw_change(actor=request.user, change_id=change.pk, comment=comment)
    except DomainError as error:
        return _refused(request, found, item_id, error, "withdraw", {"comment": comment})
    messages.success(request, _("The change is withdrawn."))
    return redirect(reverse("web:masterdata_detail", args=[found.slug, item_id]))


# --- forms: create, edit draft, propose change, propose retirement ---------------------------------

def _render_form(request: HttpRequest, kind: Kind, *, mode: str, values: dict[str, str],
                 item: MasterRecord | None = None, error: DomainError | None = None,
                 reason: str = "", change_control_ref: str = "") -> HttpResponse:
    errors = field_errors(error) if error else {}
    readonly = ("code",) if mode == "change" else ()
    context = {
        "kind": kind, "item": item, "mode": mode, "reason": reason, "change_control_ref": change_control_ref,
        "inputs": content_inputs(kind.model, values, errors, readonly=readonly) if mode != "retire" else [],
        "rows": _rows(kind.model, content_of(item)) if item is not None and mode == "retire" else [],
        "error": error, "errors": errors,
    }
    return render(request, "web/masterdata/form.html", context, status=error.http_status if error else 200)


@requires("masterdata.edit")
def create(request: HttpRequest, kind: str) -> HttpResponse:
    found = kind_of(kind)
    if request.method != "POST":
        return _render_form(request, found, mode="create", values=default_values(found.model))
    values = submitted_values(found.model, request.POST)
    try:
        item = services.create_item(actor=request.user, kind=found, data=values)
    except DomainError as error:
        return _render_form(request, found, mode="create", values=values, error=error)
    messages.success(request, _("{code} is saved as a draft; a second person must approve it.")
                     .format(code=item.code))
    return redirect(_detail_url(found, item))


@requires("masterdata.edit")
def edit(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    found = kind_of(kind)
    item = _item(found, item_id)
    if request.method != "POST":
        return _render_form(request, found, mode="edit", item=item, values=initial_values(item))
    values = submitted_values(found.model, request.POST)
    try:
        item = services.update_draft(actor=request.user, kind=found, item_id=item.pk, data=values)
    except DomainError as error:
        return _render_form(request, found, mode="edit", item=item, values=values, error=error)
    messages.success(request, _("The draft {code} is saved.").format(code=item.code))
    return redirect(_detail_url(found, item))


@requires("masterdata.edit")
def propose_change(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    found = kind_of(kind)
    item = _item(found, item_id)
    initial = initial_values(item)
    if request.method != "POST":
        return _render_form(request, found, mode="change", item=item, values=initial)
    values = submitted_values(found.model, request.POST)
    reason = request.POST.get("reason", "")
    reference = request.POST.get("change_control_ref", "")
    # Only the fields the person changed are proposed: an untouched 1.5 must not become a change
    # from the stored 1.500000000000 to the typed 1.5.
    changed = {name: value for name, value in values.items() if value.strip() != initial[name]}
    try:
        services.propose_change(actor=request.user, kind=found, item_id=item.pk, data=changed, reason=reason,
                                change_control_ref=reference)
    except DomainError as error:
        return _render_form(request, found, mode="change", item=item, values=values, error=error,
                            reason=reason, change_control_ref=reference)
    messages.success(request, _("The change to {code} is proposed; it applies when a second person approves "
                                "it.").format(code=item.code))
    return redirect(_detail_url(found, item))


@requires("masterdata.edit")
def propose_retirement(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    found = kind_of(kind)
    item = _item(found, item_id)
    if request.method != "POST":
        return _render_form(request, found, mode="retire", item=item, values={})
    reason = request.POST.get("reason", "")
    reference = request.POST.get("change_control_ref", "")
    try:
        services.propose_change(actor=request.user, kind=found, item_id=item.pk, data={}, reason=reason,
                                change_control_ref=reference, retire=True)
    except DomainError as error:
        return _render_form(request, found, mode="retire", item=item, values={}, error=error, reason=reason,
                            change_control_ref=reference)
    messages.success(request, _("The retirement of {code} is proposed; it applies when a second person "
                                "approves it.").format(code=item.code))
    return redirect(_detail_url(found, item))


urlpatterns = [
    path("masterdata/", index, name="masterdata_index"),
    path("masterdata/<slug:kind>/", item_list, name="masterdata_list"),
    path("masterdata/<slug:kind>/new/", create, name="masterdata_create"),
    path("masterdata/<slug:kind>/<int:item_id>/", detail, name="masterdata_detail"),
    path("masterdata/<slug:kind>/<int:item_id>/edit/", edit, name="masterdata_edit"),
    path("masterdata/<slug:kind>/<int:item_id>/approve/", approve, name="masterdata_approve"),
    path("masterdata/<slug:kind>/<int:item_id>/void/", void, name="masterdata_void"),
    path("masterdata/<slug:kind>/<int:item_id>/change/", propose_change, name="masterdata_propose_change"),
    path("masterdata/<slug:kind>/<int:item_id>/retire/", propose_retirement,
         name="masterdata_propose_retirement"),
    path("masterdata/<slug:kind>/<int:item_id>/changes/<int:change_id>/approve/", approve_change,
         name="masterdata_approve_change"),
    path("masterdata/<slug:kind>/<int:item_id>/changes/<int:change_id>/reject/", reject_change,
         name="masterdata_reject_change"),
    path("masterdata/<slug:kind>/<int:item_id>/changes/<int:change_id>/withdraw/", withdraw_change,
         name="masterdata_withdraw_change"),
]
