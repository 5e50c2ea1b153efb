"""Domain events from lower contexts that compliance turns into audit entries."""

from __future__ import annotations

from batchline.compliance.audit import record_change
from batchline.core.events import DomainEvent, subscribe
from batchline.identity.events import ACCESS_CHANGED


@subscribe(ACCESS_CHANGED)
def audit_access_change(event: DomainEvent) -> None:
    p = event.payload
    record_change(
        p["actor"], action=p["action"], changes=p["changes"], reason=p["reason"],
        record_type=p["record_type"], record_id=p["record_id"], label=p["label"],
    )
