"""Audit-trail endpoints: filter, export as CSV (AT-09), one record's history with its signatures
(AT-06, ES-03), and integrity verification (AT-08). Read-only."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from batchline.api.auth import caller
from batchline.api.schemas import (
    ERRORS,
    AuditEntryPage,
    AuditQuery,
    PageQuery,
    RecordHistoryOut,
    SignatureOut,
    VerifyOut,
)
from batchline.compliance import integrity
from batchline.compliance.models import AuditEntry, Signature
from batchline.compliance.selectors import (
    AuditFilter,
    audit_entries,
    export_csv,
    record_history,
    signatures_of,
)
from batchline.compliance.signatures import signature_applies
from batchline.core import clock
from batchline.core.errors import NotFound
from batchline.identity.authz import authorize

router = Router(tags=["audit trail"])


def signature_out(signature: Signature, applies: bool | None = None) -> dict[str, Any]:
    return SignatureOut(
        id=signature.pk, meaning=signature.meaning, meaning_en=signature.meaning_en,
        meaning_zh=signature.meaning_zh, signer_username=signature.signer_username,
        signer_name=signature.signer_name, signed_at=signature.signed_at,
        signed_at_site=clock.format_site(signature.signed_at), comment=signature.comment, applies=applies,
    ).model_dump()


def entry_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk, "occurred_at": entry.occurred_at,
        "occurred_at_site": clock.format_site(entry.occurred_at),
        "username": entry.actor_username, "user_name": entry.actor_name, "action": entry.action,
        "record_type": entry.record_type, "record_id": entry.record_id, "record_label": entry.record_label,
        "sequence": entry.sequence,
        "changes": [{"field": name, "old": old, "new": new} for name, old, new in entry.change_items],
        "reason": entry.reason, "signature": signature_out(entry.signature) if entry.signature else None,
        "correlation_id": entry.correlation_id, "entry_hash": entry.entry_hash,
    }


def _filter(query: AuditQuery) -> AuditFilter:
    return AuditFilter(username=query.username.strip(), record_type=query.record_type.strip(),
                       record_id=query.record_id.strip(), action=query.action.strip(),
                       text=query.text.strip(), since=query.since, until=query.until)


@router.get("/entries", response={200: AuditEntryPage, **ERRORS})
def list_entries(request: HttpRequest, query: Query[AuditQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    """Audit entries, newest first, filtered by user, record, action, label text and time."""
    authorize(caller(request), "audit.view")
    qs = audit_entries(_filter(query))
    start = (paging.page - 1) * paging.page_size
    rows = list(qs[start:start + paging.page_size])
    return {"items": [entry_out(e) for e in rows], "count": qs.count(), "page": paging.page,
            "page_size": paging.page_size}


@router.get("/entries.csv", response=ERRORS,
            openapi_extra={"responses": {200: {
                "description": "CSV, UTF-8 with BOM, one row per changed field",
                "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def export_entries(request: HttpRequest, query: Query[AuditQuery]) -> StreamingHttpResponse:
    """The filtered audit trail as CSV (streamed; permission audit.export)."""
    authorize(caller(request), "audit.export")
    rows = export_csv(audit_entries(_filter(query)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{clock.now():%Y%m%dT%H%M%SZ}.csv"'
    return response


def _record(record_type: str, record_id: str) -> models.Model | None:
    """The record itself, to tell whether its signatures still apply; None when it is not a model row."""
    try:
        model = apps.get_model(record_type)
        return model._default_manager.filter(pk=record_id).first()
    except (LookupError, ValueError, ValidationError):
        return None


@router.get("/records/{record_type}/{record_id}", response={200: RecordHistoryOut, **ERRORS})
def record_trail(request: HttpRequest, record_type: str, record_id: str) -> dict[str, Any]:
    """One record's full history, oldest first, and its signatures with whether each still applies."""
    authorize(caller(request), "audit.view")
    entries = list(record_history(record_type, record_id))
    if not entries:
        raise NotFound(field="record_id")
    record = _record(record_type, record_id)
    signatures = [
        signature_out(s, None if record is None else signature_applies(s, record, record_type=record_type))
        for s in signatures_of(record_type, record_id)
    ]
    return {"record_type": record_type, "record_id": record_id, "entries": [entry_out(e) for e in entries],
            "signatures": signatures}


@router.post("/verify", response={200: VerifyOut, **ERRORS})
def verify(request: HttpRequest) -> dict[str, Any]:
    """Verify every chain, head and seal of the audit trail (changes nothing; takes no idempotency key)."""
    authorize(caller(request), "audit.verify")
    report = integrity.verify()
    return {
        "ok": report.ok, "summary": report.summary(), "entries": report.entries, "records": report.records,
        "seals": report.seals,
        "findings": [{"kind": f.kind, "record_type": f.record_type, "record_id": f.record_id,
                      "entry_id": f.entry_id, "sequence": f.sequence, "detail": f.detail}
                     for f in report.findings],
    }
