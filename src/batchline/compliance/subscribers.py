"""Domain events from lower contexts that compliance turns into audit entries."""

from __future__ import annotations

from batchline.compliance.audit import record_change
from batchline.core.events import AUDITED_CHANGE, DomainEvent, subscribe
from batchline.identity.events import ACCESS_CHANGED


@subscribe(AUDITED_CHANGE)
@subscribe(ACCESS_CHANGED)
def audit_lower_layer_change(event: DomainEvent) -> None:
    """identity's access changes and core's audited changes carry the same payload."""
    p = event.payload
    record_change(
        p["actor"], action=p["action"], changes=p["changes"], reason=p["reason"],
        record_type=p["record_type"], record_id=p["record_id"], label=p["label"],
    )
