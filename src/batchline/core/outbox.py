"""The transactional outbox: emit() writes an event inside the caller's transaction; envelope() is
the message every destination receives (INTERFACES.md conventions); fan_out(), claim_due(),
record_delivered(), record_failure() and replay() carry an event to acknowledged delivery."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.context import correlation_id
from batchline.core.errors import Conflict, NotFound, ReasonRequired, ensure
from batchline.core.events import audited_change
from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent, OutboxStatus


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


# --- Delivery: from a written event to an acknowledged message -------------------------------------
#
# The relay (batchline.integration.relay) drives these services; each is one transaction.
#
# Locking: on PostgreSQL the relay claims a small batch of deliveries in one transaction that locks
# the rows with FOR UPDATE SKIP LOCKED, calls the transport for each, records the outcomes and
# commits. The row locks span the network calls, so two relays (threads or hosts) can never deliver
# the same row at the same time: the second skips the locked rows and takes others. A crash after the
# receiver acknowledged but before the commit sends the message again later: at-least-once,
# recognisable by message_id.
# SQLite has no row locks: there the relay must run once (the embedded demo runs exactly one).
#
# Per-record ordering: a delivery waits while the same destination has an EARLIER undelivered
# delivery (pending or dead) of the same record, or while an earlier event of the record is not yet
# fanned out. A dead-lettered delivery therefore blocks the later messages of its record to that
# destination until it is replayed: a receiver never applies "approved" before "created".

DELIVERY_RECORD_TYPE = "core.delivery"
LAST_ERROR_LENGTH = 2000  # characters of the transport's error kept on the delivery


def _lockable(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Row locks where the database has them (PostgreSQL); SQLite serialises writers instead."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def subscribes(patterns: list[str], event_type: str) -> bool:
    """A destination takes an event type named exactly, by a "prefix.*" pattern, or by "*"."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def fan_out(limit: int = 100) -> int:
    """One Delivery for every active destination that subscribes to each pending event, in event
    order; the events become dispatched (also those nobody subscribes to). Returns the number of
    events dispatched."""
    with transaction.atomic():
        # Only what a delivery row copies: the payloads stay in the database until a relay sends them.
        events = list(_lockable(OutboxEvent.objects.filter(status=OutboxStatus.PENDING).order_by("id")
                                .only("id", "event_type", "record_type", "record_id"))[:limit])
        if not events:
            return 0
        destinations = list(Destination.objects.filter(active=True))
        now = clock.now()
        Delivery.objects.bulk_create([
            Delivery(event=event, destination=destination, record_type=event.record_type,
                     record_id=event.record_id, next_attempt_at=now)
            for event in events for destination in destinations
            if subscribes(destination.event_types, event.event_type)
        ])
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(status=OutboxStatus.DISPATCHED,
                                                                           dispatched_at=now)
        return len(events)


# A window is as large as the claim: every row read is locked (SKIP LOCKED), and a larger window would
# lock deliverable rows that this relay then leaves, so that another relay skips them for nothing.
# The only rows locked and left are held-back ones, which no relay may deliver yet anyway.
CLAIM_WINDOW = 1  # candidates read per window, as a multiple of the claim size
CLAIM_WINDOWS = 100  # windows one claim reads at most before it returns what it has


def claim_due(limit: int, now: datetime, *, skip_destinations: Collection[int] = ()) -> list[Delivery]:
    """Pending deliveries due by `now` to active destinations (except `skip_destinations`), oldest
    event first, that no earlier undelivered message of the same record holds back; locked (SKIP
    LOCKED) until the caller's transaction ends. Must run inside that transaction: the lock is what
    keeps relays apart.

    The due rows are read in event order a window at a time (the partial index on pending rows),
    and only those are checked against the ordering rule, so a claim costs the same whether ten or
    a hundred thousand messages wait. Rows held back by an earlier one are skipped; when a whole
    window is held back (a dead-lettered message blocking a busy record) the next window is read."""
    if not connection.in_atomic_block:
        raise RuntimeError("claim_due() must run inside the delivering transaction")
    due = (Delivery.objects
           .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, destination__active=True)
           .exclude(destination_id__in=list(skip_destinations))
           .select_related("event", "destination")
           .order_by("event_id", "id"))
    if connection.features.has_select_for_update_skip_locked:
        # of=("self",): lock the delivery row only, not the destination or event rows joined in
        due = due.select_for_update(skip_locked=True, of=("self",))
    claimed: list[Delivery] = []
    window = limit * CLAIM_WINDOW
    after: tuple[int, int] | None = None
    for _window in range(CLAIM_WINDOWS):
        page = due if after is None else due.filter(Q(event_id__gt=after[0]) | Q(event_id=after[0], id__gt=after[1]))
        candidates = list(page[:window])
        if not candidates:
            break
        held = _held_back({c.pk for c in candidates})
        claimed += [c for c in candidates if c.pk not in held][:limit - len(claimed)]
        if len(claimed) >= limit or len(candidates) < window:
            break
        after = (candidates[-1].event_id, candidates[-1].pk)
    return claimed


def _held_back(ids: set[int]) -> set[int]:
    """Those of the deliveries `ids` that must wait: the same destination has an earlier undelivered
    (pending or dead) delivery of the same record, or an earlier event of the record is not yet
    fanned out."""
    earlier_delivery = Delivery.objects.filter(
        destination=OuterRef("destination"), record_type=OuterRef("record_type"), record_id=OuterRef("record_id"),
        event_id__lt=OuterRef("event_id"), status__in=[DeliveryStatus.PENDING, DeliveryStatus.DEAD])
    earlier_event = OutboxEvent.objects.filter(
        record_type=OuterRef("record_type"), record_id=OuterRef("record_id"), id__lt=OuterRef("event_id"),
        status=OutboxStatus.PENDING)
    return set(Delivery.objects.filter(pk__in=ids).filter(Exists(earlier_delivery) | Exists(earlier_event))
               .values_list("pk", flat=True))


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter after `attempts` failed attempts: base·2^(attempts−1), capped,
    then drawn between half and all of it so that many failed messages do not retry in lockstep."""
    base = float(getattr(settings, "BATCHLINE_RELAY_BACKOFF_BASE_SECONDS", 2))
    cap = float(getattr(settings, "BATCHLINE_RELAY_BACKOFF_CAP_SECONDS", 600))
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return random.uniform(delay / 2, delay)  # noqa: S311  # spreading retries, not security


def record_delivered(deliveries: list[Delivery], now: datetime | None = None) -> None:
    """The destination acknowledged these messages (one statement for a relay's whole batch)."""
    if not deliveries:
        return
    now = now or clock.now()
    with transaction.atomic():
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            status=DeliveryStatus.DELIVERED, attempts=F("attempts") + 1, last_attempt_at=now, delivered_at=now)
    for delivery in deliveries:
        delivery.status, delivery.last_attempt_at, delivery.delivered_at = DeliveryStatus.DELIVERED, now, now
        delivery.attempts += 1


def record_failure(delivery: Delivery, error: str, retryable: bool, now: datetime | None = None) -> None:
    """The attempt failed: retry after the backoff, or dead-letter when retrying cannot help or the
    destination's max_attempts is reached. The error is kept for the interface monitor."""
    now = now or clock.now()
    with transaction.atomic():
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_error = error[:LAST_ERROR_LENGTH]
        if not retryable or delivery.attempts >= delivery.destination.max_attempts:
            delivery.status = DeliveryStatus.DEAD
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
        delivery.save(update_fields=["attempts", "last_attempt_at", "last_error", "status", "next_attempt_at"])


def replay(*, actor: Any, delivery_id: int, reason: str) -> Delivery:
    """A dead-lettered delivery goes back to pending with its attempts reset (audited, with the reason).
    The caller checks identity.authz.authorize(actor, "integration.replay") first."""
    ensure(bool(reason and reason.strip()), ReasonRequired(field="reason"))
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        ensure(delivery is not None, NotFound(field="delivery_id"))
        assert delivery is not None
        ensure(delivery.status == DeliveryStatus.DEAD,
               Conflict(_("Only a dead-lettered delivery can be replayed; this one is {status}."),
                        status=delivery.status))
        changes: dict[str, list[Any]] = {"status": [delivery.status, DeliveryStatus.PENDING.value],
                                         "attempts": [delivery.attempts, 0]}
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = clock.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        audited_change(actor=actor, record_type=DELIVERY_RECORD_TYPE, record_id=delivery.pk, label=str(delivery),
                       action="replay", changes=changes, reason=reason.strip())
        return delivery


def delivery_counts() -> dict[str, int]:
    """Deliveries waiting and dead-lettered, over all destinations (the worker's health answer)."""
    return {
        "pending": Delivery.objects.filter(status=DeliveryStatus.PENDING).count(),
        "dead": Delivery.objects.filter(status=DeliveryStatus.DEAD).count(),
    }
