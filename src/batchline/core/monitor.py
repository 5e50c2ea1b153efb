"""The interface monitor's figures (read only): per destination what waits, what arrived, what is
dead-lettered, how old the oldest waiting message is, how long delivery takes, the last error, and
how many records are held back by a dead-lettered message; the deliveries themselves, filtered."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from batchline.core import clock
from batchline.core.models import Delivery, DeliveryStatus, Destination
from batchline.core.outbox import envelope

LATENCY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class DestinationFigures:
    destination: Destination
    pending: int
    failing: int  # of the pending: those whose last attempt failed (waiting for their retry)
    delivered: int
    dead: int
    oldest_pending_age: timedelta | None  # now − occurred_at of the oldest waiting event
    latency_p50: timedelta | None  # delivered_at − occurred_at, deliveries of the last 24 hours
    latency_p95: timedelta | None
    last_error: str
    last_error_at: datetime | None
    blocked_records: int  # records whose later messages wait behind a dead-lettered one


def percentile(sorted_values: list[timedelta], p: int) -> timedelta | None:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _blocked_records(destination: Destination) -> int:
    earlier_dead = Delivery.objects.filter(
        destination=OuterRef("destination"), record_type=OuterRef("record_type"), record_id=OuterRef("record_id"),
        event_id__lt=OuterRef("event_id"), status=DeliveryStatus.DEAD)
    held = (Delivery.objects.filter(destination=destination, status=DeliveryStatus.PENDING)
            .filter(Exists(earlier_dead)).values_list("record_type", "record_id").distinct())
    return len(set(held))


def figures_of(destination: Destination, now: datetime | None = None) -> DestinationFigures:
    now = now or clock.now()
    deliveries = Delivery.objects.filter(destination=destination)
    counts = {row["status"]: row["n"] for row in deliveries.order_by().values("status").annotate(n=Count("id"))}
    oldest = (deliveries.filter(status=DeliveryStatus.PENDING).order_by("event__occurred_at")
              .values_list("event__occurred_at", flat=True).first())
    latencies = sorted(
        delivered_at - occurred_at
        for delivered_at, occurred_at in deliveries.filter(
            status=DeliveryStatus.DELIVERED, delivered_at__gt=now - LATENCY_WINDOW, delivered_at__lte=now,
        ).values_list("delivered_at", "event__occurred_at")
        if delivered_at is not None
    )
    # A message delivered after a failure keeps its old error; the monitor shows the current trouble.
    failing = (deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.DEAD],
                                 last_attempt_at__isnull=False)
               .exclude(last_error="").order_by("-last_attempt_at", "-id").first())
    return DestinationFigures(
        destination=destination,
        pending=counts.get(DeliveryStatus.PENDING, 0),
        failing=deliveries.filter(status=DeliveryStatus.PENDING, attempts__gt=0).count(),
        delivered=counts.get(DeliveryStatus.DELIVERED, 0),
        dead=counts.get(DeliveryStatus.DEAD, 0),
        oldest_pending_age=now - oldest if oldest is not None else None,
        latency_p50=percentile(latencies, 50),
        latency_p95=percentile(latencies, 95),
        last_error=failing.last_error if failing else "",
        last_error_at=failing.last_attempt_at if failing else None,
        blocked_records=_blocked_records(destination),
    )


def monitor(now: datetime | None = None) -> list[DestinationFigures]:
    """The figures of every destination, active ones first, by code."""
    now = now or clock.now()
    return [figures_of(d, now) for d in Destination.objects.order_by("-active", "code")]


def deliveries(*, destination: str | None = None, status: str | None = None) -> QuerySet[Delivery]:
    """Deliveries, newest event first, optionally of one destination (code) and one status."""
    found = Delivery.objects.select_related("event", "destination").order_by("-event_id", "-id")
    if destination:
        found = found.filter(destination__code=destination)
    if status:
        found = found.filter(status=status)
    return found


def delivery_detail(delivery_id: int) -> tuple[Delivery, dict[str, Any]] | None:
    """One delivery with the message its destination receives (the envelope), or None."""
    delivery = Delivery.objects.select_related("event", "destination").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    return delivery, envelope(delivery.event)
