"""emit(): write an integration event into the outbox, inside the caller's transaction."""

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
