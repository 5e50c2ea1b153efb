"""The transactional outbox: emit() writes an event inside the caller's transaction; envelope() is
the message every destination receives (INTERFACES.md conventions)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from batchline.core import clock
from batchline.core.context import correlation_id
from batchline.core.models import OutboxEvent


def emit(event_type: str, *, record_type: str, record_id: object, payload: dict[str, Any],
         schema_version: str = "1") -> OutboxEvent:
    # An event written outside a transaction could be delivered for a change that then rolls back.
    if not connection.in_atomic_block:
        raise RuntimeError("emit() must run inside the business transaction")
    return OutboxEvent.objects.create(
        event_type=event_type,
        schema_version=schema_version,
        record_type=record_type,
        record_id=str(record_id),
        payload=payload,
        occurred_at=clock.now(),
        correlation_id=correlation_id(),
    )


SOURCE_SYSTEM = "batchline"


def envelope(event: OutboxEvent) -> dict[str, Any]:
    """The message as it goes out: the same body to every destination, whatever the transport.
    `message_id` lets receivers drop the duplicates that at-least-once delivery allows."""
    return {
        "message_id": str(event.message_id),
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "source_system": SOURCE_SYSTEM,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "correlation_id": event.correlation_id,
        "payload": event.payload,
    }
