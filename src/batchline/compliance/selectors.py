"""Reads of the audit trail: filtering for the screen, the API and the CSV export (AT-09)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from batchline.compliance.models import AuditEntry, Signature
from batchline.core.clock import format_site


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    record_type: str = ""
    record_id: str = ""
    action: str = ""
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_entries(flt: AuditFilter) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related("signature").order_by("-occurred_at", "-id")
    if flt.username:
        qs = qs.filter(actor_username=flt.username)
    if flt.record_type:
        qs = qs.filter(record_type=flt.record_type)
    if flt.record_id:
        qs = qs.filter(record_id=flt.record_id)
    if flt.action:
        qs = qs.filter(action=flt.action)
    if flt.text:
        qs = qs.filter(record_label__icontains=flt.text)
    if flt.since:
        qs = qs.filter(occurred_at__gte=flt.since)
    if flt.until:
        qs = qs.filter(occurred_at__lt=flt.until)
    return qs


def record_history(record_type: str, record_id: str) -> QuerySet[AuditEntry]:
    """Every entry of one record, oldest first: its full version history (AT-06)."""
    return (AuditEntry.objects.select_related("signature")
            .filter(record_type=record_type, record_id=str(record_id)).order_by("sequence"))


def signatures_of(record_type: str, record_id: object) -> QuerySet[Signature]:
    return Signature.objects.filter(record_type=record_type, record_id=str(record_id)).order_by("signed_at", "id")


def distinct_values(field: str) -> list[str]:
    return list(AuditEntry.objects.order_by(field).values_list(field, flat=True).distinct())


CSV_HEADER = ["entry_id", "occurred_at_utc", "occurred_at_site", "user", "user_name", "action", "record_type",
              "record_id", "record", "field", "old_value", "new_value", "reason", "signature_meaning",
              "signed_by", "correlation_id", "entry_hash"]


def export_csv(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """CSV rows, one per changed field (one per entry when nothing changed), UTF-8 with BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    yield _drain(buffer)
    for entry in entries.iterator(chunk_size=2000):
        items = entry.change_items or [("", None, None)]
        for field_name, old, new in items:
            writer.writerow([
                entry.pk, entry.occurred_at.isoformat(), format_site(entry.occurred_at), entry.actor_username,
                entry.actor_name, entry.action, entry.record_type, entry.record_id, entry.record_label,
                field_name, _cell(old), _cell(new), entry.reason,
                entry.signature.meaning_en if entry.signature else "",
                entry.signature.signer_name if entry.signature else "", entry.correlation_id, entry.entry_hash,
            ])
        yield _drain(buffer)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
