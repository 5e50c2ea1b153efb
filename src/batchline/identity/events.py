"""Identity's domain events. compliance subscribes and writes the audit entry in the same transaction."""

from __future__ import annotations

from typing import Any

from batchline.core.events import DomainEvent, publish

ACCESS_CHANGED = "identity.access_changed"


def access_changed(*, actor: Any, user: Any, action: str, changes: dict[str, list[Any]],
                   reason: str = "", record_type: str = "identity.user", record_id: Any = None,
                   label: str = "") -> None:
    """Every change to an account, its roles, password state or tokens goes through here (AC-04)."""
    publish(DomainEvent(ACCESS_CHANGED, {
        "actor": actor,
        "record_type": record_type,
        "record_id": str(record_id if record_id is not None else user.pk),
        "label": label or user.username,
        "action": action,
        "changes": changes,
        "reason": reason,
    }))
