"""Audit-trail screens (AT-06, AT-08, AT-09): the filtered trail, its CSV export, one record's history
with its signatures, and the integrity check. Reading the trail writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from batchline.compliance import integrity
from batchline.compliance.models import AuditEntry
from batchline.compliance.selectors import (
    AuditFilter,
    audit_entries,
    distinct_values,
    export_csv,
    record_history,
    signatures_of,
)
from batchline.compliance.signatures import signature_applies
from batchline.core import clock
from batchline.identity.authz import has_permission
from batchline.masterdata.registry import KINDS
from batchline.web.views._guards import requires

PAGE_SIZE = 50

# Readable names of the actions services record; an action not listed is shown by its code.
ACTION_LABELS = {
    "create": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "approve": gettext_lazy("Approved"),
    "void": gettext_lazy("Voided"),
    "propose": gettext_lazy("Change proposed"),
    "change": gettext_lazy("Change applied"),
    "retire": gettext_lazy("Retired"),
    "reject": gettext_lazy("Rejected"),
    "withdraw": gettext_lazy("Withdrawn"),
    "sign": gettext_lazy("Signed"),
    "login": gettext_lazy("Signed in"),
    "sign_in": gettext_lazy("Signed in"),
    "logout": gettext_lazy("Signed out"),
    "lock": gettext_lazy("Locked"),
    "unlock": gettext_lazy("Unlocked"),
    "deactivate": gettext_lazy("Deactivated"),
    "reactivate": gettext_lazy("Reactivated"),
    "change_password": gettext_lazy("Own password changed"),
    "reset_password": gettext_lazy("Password reset"),
    "change_roles": gettext_lazy("Roles changed"),
    "set_language": gettext_lazy("Language chosen"),
    "create_token": gettext_lazy("API token created"),
    "revoke_token": gettext_lazy("API token revoked"),
    "apply": gettext_lazy("Import applied"),
    "apply_failed": gettext_lazy("Import failed"),
}

RECORD_TYPE_LABELS: dict[str, Any] = {
    **{kind.record_type: kind.label for kind in KINDS.values()},
    "masterdata.masterdatachange": gettext_lazy("Master-data change"),
    "masterdata.numberrule": gettext_lazy("Number rule"),
    "masterdata.codemap": gettext_lazy("Code map"),
    "identity.user": gettext_lazy("User account"),
    "identity.apitoken": gettext_lazy("API token"),
    "masterdata.importbatch": gettext_lazy("Master-data import"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def record_type_label(record_type: str) -> str:
    label = RECORD_TYPE_LABELS.get(record_type)
    return str(label) if label is not None else record_type


def readable(value: Any, model_field: Any = None) -> str:
    """An old or new value from the trail as text: empty as —, yes/no, a choice by its label, lists and
    objects as compact JSON. (The CSV export keeps the stored values.)"""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    choices = getattr(model_field, "choices", None)
    if choices and isinstance(value, str):
        labels = {str(code): str(label) for code, label in choices}
        return labels.get(value, value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _record_link(record_type: str, record_id: str) -> str:
    """The screen of the record itself, where there is one."""
    kind = next((k for k in KINDS.values() if k.record_type == record_type), None)
    try:
        if kind is not None:
            return reverse("web:masterdata_detail", args=[kind.slug, record_id])
        if record_type == "masterdata.masterdatachange":
            from batchline.masterdata.models import MasterDataChange

            change = MasterDataChange.objects.filter(pk=record_id).first()
            owner = next((k for k in KINDS.values() if change and k.record_type == change.record_type), None)
            if change is not None and owner is not None:
                return reverse("web:masterdata_detail", args=[owner.slug, change.record_id])
    except (NoReverseMatch, ValueError):
        return ""
    return ""


def _model_of(record_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(record_type)
    except (LookupError, ValueError):
        return None


def _field_of(record_type: str, name: str) -> Any:
    """The model field a change is about. A master-data change request lists the item's fields, so
    those are looked up on the master-data models too."""
    models_to_try = [_model_of(record_type)]
    if record_type == "masterdata.masterdatachange":
        models_to_try += [kind.model for kind in KINDS.values()]
    for model in models_to_try:
        if model is None:
            continue
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def _changes(entry: AuditEntry) -> list[dict[str, str]]:
    shown = []
    for name, old, new in entry.change_items:
        model_field = _field_of(entry.record_type, name)
        label = capfirst(getattr(model_field, "verbose_name", "")) or name
        before, after = readable(old, model_field), readable(new, model_field)
        if before == after == "—":
            continue  # an empty field of a new record says nothing
        shown.append({"field": str(label), "code": name, "old": before, "new": after})
    return shown


def _shown(entry: AuditEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "action": action_label(entry.action),
        "record_type": record_type_label(entry.record_type),
        "changes": _changes(entry),
    }


# --- the trail ------------------------------------------------------------------------------------

def _site_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.site_zone())


def _parse_filter(request: HttpRequest) -> tuple[AuditFilter, dict[str, str], dict[str, str]]:
    """The filter from the query string. Dates are days of the site's time zone: "from 1 March" means
    from 00:00 site time on 1 March, "to 3 March" includes all of 3 March."""
    raw = {name: request.GET.get(name, "").strip()
           for name in ("user", "record_type", "record_id", "action", "text", "since", "until")}
    errors: dict[str, str] = {}
    bounds: dict[str, datetime | None] = {"since": None, "until": None}
    for name in ("since", "until"):
        if raw[name]:
            try:
                day = date.fromisoformat(raw[name])
            except ValueError:
                errors[name] = _("'{value}' is not a date (YYYY-MM-DD).").format(value=raw[name])
                continue
            start = _site_day_start(day if name == "since" else day + timedelta(days=1))
            bounds[name] = start.astimezone(UTC)
    flt = AuditFilter(username=raw["user"], record_type=raw["record_type"], record_id=raw["record_id"],
                      action=raw["action"], text=raw["text"], since=bounds["since"], until=bounds["until"])
    return flt, raw, errors


@requires("audit.view")
def trail(request: HttpRequest) -> HttpResponse:
    flt, raw, errors = _parse_filter(request)
    entries = audit_entries(flt) if not errors else AuditEntry.objects.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/audit/trail.html", {
        "page": page, "entries": [_shown(e) for e in page.object_list], "query": query.urlencode(),
        "filters": raw, "errors": errors,
        "users": distinct_values("actor_username"),
        "record_types": [(t, record_type_label(t)) for t in distinct_values("record_type")],
        "actions": [(a, action_label(a)) for a in distinct_values("action")],
        "can_export": has_permission(request.user, "audit.export"),
        "can_verify": has_permission(request.user, "audit.verify"),
        "site_time_zone": str(clock.site_zone()),
    }, status=422 if errors else 200)


# The guard's type speaks of HttpResponse; a streaming response is served the same way.
@requires("audit.export")  # type: ignore[arg-type]
def export(request: HttpRequest) -> HttpResponseBase:
    flt, _raw, errors = _parse_filter(request)
    if errors:
        return trail(request)
    stamp = clock.now().strftime("%Y%m%d-%H%M%SZ")
    response = StreamingHttpResponse(export_csv(audit_entries(flt)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batchline-audit-trail-{stamp}.csv"'
    return response


# --- one record -----------------------------------------------------------------------------------

def _record_of(record_type: str, record_id: str) -> models.Model | None:
    """The record a signature was given on, to tell whether it still applies; None if not loadable."""
    model = _model_of(record_type)
    if model is None:
        return None
    try:
        return model._default_manager.filter(pk=record_id).first()
    except (ValueError, TypeError):
        return None


@requires("audit.view")
def record(request: HttpRequest, record_type: str, record_id: str) -> HttpResponse:
    history = list(record_history(record_type, record_id))
    target = _record_of(record_type, record_id)
    signatures = [(s, target is not None and signature_applies(s, target, record_type=record_type))
                  for s in signatures_of(record_type, record_id)]
    label = history[-1].record_label if history else record_id
    return render(request, "web/audit/record.html", {
        "record_type": record_type, "record_type_label": record_type_label(record_type),
        "record_id": record_id, "label": label, "entries": [_shown(e) for e in history],
        "signatures": signatures,
        "record_link": _record_link(record_type, record_id),
        "can_export": has_permission(request.user, "audit.export"),
    })


# --- integrity --------------------------------------------------------------------------------------

FINDING_LABELS = {
    "modified": gettext_lazy("modified"),
    "inserted": gettext_lazy("inserted"),
    "deleted": gettext_lazy("deleted"),
    "truncated": gettext_lazy("truncated"),
    "broken_link": gettext_lazy("broken link"),
    "seal": gettext_lazy("seal"),
}


@requires("audit.verify")
def verify(request: HttpRequest) -> HttpResponse:
    report = integrity.verify() if request.method == "POST" else None
    findings = [(f, FINDING_LABELS.get(f.kind, f.kind)) for f in report.findings] if report else []
    return render(request, "web/audit/integrity.html",
                  {"report": report, "findings": findings, "checked_at": clock.now()})


urlpatterns = [
    path("audit/", trail, name="audit_trail"),
    path("audit/export.csv", export, name="audit_export"),
    path("audit/record/<str:record_type>/<str:record_id>/", record, name="audit_record"),
    path("audit/integrity/", verify, name="audit_integrity"),
]
