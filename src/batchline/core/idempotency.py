"""Inbound idempotency: the same (source, key) returns the first response and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.errors import Conflict
from batchline.core.models import InboundMessage


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This idempotency key was already used for a different request.")


def run_once(*, source: str, key: str, endpoint: str, request_hash: str,
             action: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run `action` once per (source, key); a replay returns the stored (status, body).

    The action and the stored response commit together. A refused request (DomainError) stores
    nothing, so the sender can correct it and send again with the same key.
    """
    existing = InboundMessage.objects.filter(source=source, idempotency_key=key).first()
    if existing is not None:
        return _replay(existing, endpoint, request_hash)
    try:
        with transaction.atomic():
            status, body = action()
            InboundMessage.objects.create(
                source=source, idempotency_key=key, endpoint=endpoint, request_hash=request_hash,
                response_status=status, response_body=body, received_at=clock.now(),
            )
            return status, body
    except IntegrityError:
        # A concurrent twin committed first: answer with its result.
        existing = InboundMessage.objects.filter(source=source, idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, endpoint, request_hash)


def _replay(existing: InboundMessage, endpoint: str, request_hash: str) -> tuple[int, Any]:
    if existing.endpoint != endpoint or existing.request_hash != request_hash:
        raise IdempotencyKeyReused(field="Idempotency-Key")
    return existing.response_status, existing.response_body
