"""What the transport tests share: an outgoing message as the relay builds it, and a closed port."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime
from typing import Any

from batchline.core.canonical import canonical_json
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope

EVENT_TYPE = "masterdata.material.approved"


def message(record_id: str = "42") -> tuple[dict[str, Any], bytes]:
    """(envelope, body) of one event, exactly as the relay hands them to an adapter."""
    event = OutboxEvent(message_id=uuid.uuid4(), event_type=EVENT_TYPE, record_type="material", record_id=record_id,
                        payload={"code": f"API-{record_id}", "name": "对乙酰氨基酚"},
                        occurred_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC), correlation_id="c-1")
    env = envelope(event)
    return env, canonical_json(env).encode()


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
