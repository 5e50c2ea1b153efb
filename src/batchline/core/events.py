"""In-process domain events: how a lower context makes a higher one act without importing it.

Handlers run synchronously inside the publisher's transaction, so what they write commits or
rolls back with the business change. An event type declared `required` refuses to be published
when nobody handles it: the audit trail hangs on such events and can never be switched off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["DomainEvent"], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)
_required: set[str] = set()


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict[str, Any] = field(default_factory=dict)


def declare_required(name: str) -> None:
    _required.add(name)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if handler not in _handlers[name]:
            _handlers[name].append(handler)
        return handler

    return register


def publish(event: DomainEvent) -> None:
    handlers = list(_handlers.get(event.name, ()))
    if not handlers and event.name in _required:
        raise RuntimeError(f"no handler for required domain event {event.name!r}")
    for handler in handlers:
        handler(event)


AUDITED_CHANGE = "core.audited_change"


def audited_change(*, actor: Any, record_type: str, record_id: object, label: str, action: str,
                   changes: dict[str, list[Any]], reason: str = "") -> None:
    """How core's own services (destinations, deliveries, parked messages) get their audit entry:
    compliance, a layer above, subscribes and writes it in the same transaction. Required: with no
    subscriber the change is refused, so it can never go unaudited."""
    publish(DomainEvent(AUDITED_CHANGE, {
        "actor": actor, "record_type": record_type, "record_id": str(record_id), "label": label,
        "action": action, "changes": changes, "reason": reason,
    }))
