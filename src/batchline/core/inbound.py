"""Inbound messages from other systems (INTERFACES.md): idempotent processing, parking, re-processing.

Each message type has one handler, registered by the layer that owns it (core never imports the layers
above it). process() runs the handler once per (source system, message id) through
core.idempotency.run_once: a replay returns the first result and changes nothing.

A refusal a data steward can fix in master data (an unmapped code, an unknown unit) parks the message
(MD-03): the handler's transaction has rolled back, and the ParkedMessage is written in its own
transaction, audited. After the steward fixes the code map, reprocess() runs the stored payload through
the same handler again; discard() closes it with a reason. Other refusals are not parked: the sender
must correct them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.canonical import canonical_json, sha256_hex
from batchline.core.errors import Conflict, DomainError, InvalidInput, NotFound, ReasonRequired, ensure
from batchline.core.events import audited_change
from batchline.core.idempotency import run_once
from batchline.core.models import ParkedMessage, ParkedStatus

# handler(actor, source_system, payload) → (HTTP status, JSON-ready body); raises DomainError to refuse.
Handler = Callable[[Any, str, dict[str, Any]], tuple[int, Any]]

PARKABLE = {"unmapped_code", "unknown_unit"}
RECORD_TYPE = "core.parkedmessage"

_handlers: dict[str, Handler] = {}


class UnknownMessageType(InvalidInput):
    code = "unknown_message_type"
    default_message = _("Unknown message type '{message_type}'.")


class MessageParked(InvalidInput):
    """The refusal, as the sender sees it, plus the id of the parked message."""

    def __init__(self, cause: DomainError, parked_id: int) -> None:
        super().__init__(cause.message, field=cause.field, code=cause.code, **cause.params)
        self.http_status = cause.http_status
        self.parked_id = parked_id

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "parked_id": self.parked_id}


class NotParked(Conflict):
    code = "not_parked"
    default_message = _("This message is {status}; only a parked message can be re-processed or discarded.")


def register(message_type: str, handler: Handler) -> None:
    _handlers[message_type] = handler


def registered() -> list[str]:
    return sorted(_handlers)


def _handler(message_type: str) -> Handler:
    handler = _handlers.get(message_type)
    ensure(handler is not None, UnknownMessageType(message_type=message_type))
    assert handler is not None
    return handler


def request_hash(message_type: str, payload: dict[str, Any]) -> str:
    return sha256_hex(f"{message_type}\n{canonical_json(payload)}")


def _run(message_type: str, source_system: str, message_id: str, payload: dict[str, Any],
         actor: Any) -> tuple[int, Any]:
    handler = _handler(message_type)

    def action() -> tuple[int, Any]:
        try:
            return handler(actor, source_system, payload)
        except DomainError as exc:
            # Fields are named as the sender sent them: inside the envelope's payload.
            if exc.field and not exc.field.startswith("payload"):
                exc.field = f"payload.{exc.field}"
            raise

    return run_once(source=source_system, key=message_id, endpoint=f"inbound {message_type}",
                    request_hash=request_hash(message_type, payload), action=action)


def process(*, message_type: str, source_system: str, message_id: str, payload: dict[str, Any],
            actor: Any) -> tuple[int, Any]:
    """Run the message once; a parkable refusal raises MessageParked (with the parked id)."""
    source_system = source_system.strip().upper()
    try:
        return _run(message_type, source_system, message_id, payload, actor)
    except DomainError as exc:
        if exc.code not in PARKABLE:
            raise
        parked = _park(actor, message_type, source_system, message_id, payload, exc)
        raise MessageParked(exc, parked.pk) from exc


def _park(actor: Any, message_type: str, source_system: str, message_id: str, payload: dict[str, Any],
          exc: DomainError) -> ParkedMessage:
    with transaction.atomic():
        # The sender may send the same refused message again: one parked row per message, newest error.
        parked = (ParkedMessage.objects.select_for_update()
                  .filter(source_system=source_system, message_id=message_id, status=ParkedStatus.PARKED).first())
        error = {"error_code": exc.code, "error_field": exc.field or "", "error_message": exc.render()}
        if parked is None:
            parked = ParkedMessage.objects.create(source_system=source_system, message_type=message_type,
                                                  message_id=message_id, payload=payload, received_at=clock.now(),
                                                  **error)
            _audit(actor, parked, "park", {k: [None, v] for k, v in error.items()})
            return parked
        changes = {k: [getattr(parked, k), v] for k, v in error.items() if getattr(parked, k) != v}
        for name, value in error.items():
            setattr(parked, name, value)
        parked.payload = payload
        parked.save()
        _audit(actor, parked, "park", changes)
        return parked


def _audit(actor: Any, parked: ParkedMessage, action: str, changes: dict[str, list[Any]], reason: str = "") -> None:
    audited_change(actor=actor, record_type=RECORD_TYPE, record_id=parked.pk, label=str(parked), action=action,
                   changes=changes, reason=reason)


def _parked(parked_id: int) -> ParkedMessage:
    parked = ParkedMessage.objects.filter(pk=parked_id).first()
    ensure(parked is not None, NotFound(field="parked_id"))
    assert parked is not None
    ensure(parked.status == ParkedStatus.PARKED, NotParked(status=parked.status))
    return parked


def reprocess(*, actor: Any, parked_id: int) -> tuple[ParkedMessage, tuple[int, Any] | None]:
    """Run the parked payload through its handler again, as the steward (the caller checks
    integration.reprocess). Success → reprocessed, with the handler's result; a refusal → still
    parked with the new error, and the result is None."""
    parked = _parked(parked_id)
    try:
        result = _run(parked.message_type, parked.source_system, parked.message_id, parked.payload, actor)
    except DomainError as exc:
        with transaction.atomic():
            error = {"error_code": exc.code, "error_field": exc.field or "", "error_message": exc.render()}
            changes = {k: [getattr(parked, k), v] for k, v in error.items() if getattr(parked, k) != v}
            for name, value in error.items():
                setattr(parked, name, value)
            parked.save()
            _audit(actor, parked, "reprocess_failed", changes)
        return parked, None
    with transaction.atomic():
        _resolve(actor, parked, ParkedStatus.REPROCESSED, "reprocess", "")
    return parked, result


def discard(*, actor: Any, parked_id: int, reason: str) -> ParkedMessage:
    """Close a parked message without processing it (the caller checks integration.reprocess)."""
    reason = (reason or "").strip()
    ensure(reason, ReasonRequired(field="reason"))
    with transaction.atomic():
        parked = _parked(parked_id)
        _resolve(actor, parked, ParkedStatus.DISCARDED, "discard", reason)
    return parked


def _resolve(actor: Any, parked: ParkedMessage, status: str, action: str, reason: str) -> None:
    before = parked.status
    parked.status = status
    parked.resolved_at = clock.now()
    parked.resolved_by = actor if getattr(actor, "pk", None) else None
    parked.resolution = reason
    parked.save()
    _audit(actor, parked, action, {"status": [before, status]}, reason)
