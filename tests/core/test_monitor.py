"""The interface monitor's figures, computed from deliveries built directly (INT-06)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent, OutboxStatus
from batchline.core.monitor import deliveries, delivery_detail, figures_of, monitor, percentile

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def destination(code: str = "erp", active: bool = True) -> Destination:
    return Destination.objects.create(code=code, name=code, kind="webhook", url="https://erp.example/h",
                                      secret="x" * 16, event_types=["*"], active=active, created_at=NOW)


def delivery(to: Destination, *, status: str, occurred: timedelta, delivered: timedelta | None = None,
             record: str = "1", error: str = "", attempted: timedelta | None = None) -> Delivery:
    """A delivery of an event that occurred `occurred` before NOW (delivered `delivered` before NOW)."""
    event = OutboxEvent.objects.create(event_type="masterdata.material.approved", record_type="masterdata.material",
                                       record_id=record, payload={"code": record}, occurred_at=NOW - occurred,
                                       status=OutboxStatus.DISPATCHED)
    return Delivery.objects.create(
        event=event, destination=to, record_type=event.record_type, record_id=record, status=status,
        next_attempt_at=NOW, delivered_at=NOW - delivered if delivered is not None else None, last_error=error,
        last_attempt_at=NOW - attempted if attempted is not None else None)


def test_percentile_is_nearest_rank() -> None:
    values = [timedelta(seconds=s) for s in range(1, 21)]
    assert (percentile(values, 50), percentile(values, 95)) == (timedelta(seconds=10), timedelta(seconds=19))
    assert percentile([], 50) is None


@pytest.mark.req("INT-06")
@pytest.mark.django_db
def test_counts_per_status_and_oldest_pending_age() -> None:
    erp, other = destination("erp"), destination("other")
    delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(minutes=5))
    failing = delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(minutes=90), record="2")
    Delivery.objects.filter(pk=failing.pk).update(attempts=3)
    delivery(erp, status=DeliveryStatus.DELIVERED, occurred=timedelta(hours=1), delivered=timedelta(minutes=59))
    delivery(erp, status=DeliveryStatus.DEAD, occurred=timedelta(hours=3), record="3")
    delivery(other, status=DeliveryStatus.PENDING, occurred=timedelta(hours=10))
    figures = figures_of(erp, NOW)
    assert (figures.pending, figures.failing, figures.delivered, figures.dead) == (2, 1, 1, 1)
    assert figures.oldest_pending_age == timedelta(minutes=90)


@pytest.mark.req("INT-06")
@pytest.mark.django_db
def test_latency_percentiles_cover_the_deliveries_of_the_last_24_hours() -> None:
    erp = destination()
    for seconds in range(1, 21):  # latencies 1 … 20 s
        delivery(erp, status=DeliveryStatus.DELIVERED, occurred=timedelta(hours=1, seconds=seconds) + timedelta(
            seconds=seconds), delivered=timedelta(hours=1, seconds=seconds), record=str(seconds))
    # Older than 24 hours: left out, however slow.
    delivery(erp, status=DeliveryStatus.DELIVERED, occurred=timedelta(hours=30), delivered=timedelta(hours=25))
    figures = figures_of(erp, NOW)
    assert (figures.latency_p50, figures.latency_p95) == (timedelta(seconds=10), timedelta(seconds=19))


@pytest.mark.req("INT-06")
@pytest.mark.django_db
def test_an_idle_destination_has_no_age_and_no_latency() -> None:
    figures = figures_of(destination(), NOW)
    assert (figures.pending, figures.oldest_pending_age, figures.latency_p50, figures.last_error) == (0, None, None, "")


@pytest.mark.req("INT-06")
@pytest.mark.django_db
def test_last_error_is_the_latest_failure_of_a_waiting_or_dead_message() -> None:
    erp = destination()
    delivery(erp, status=DeliveryStatus.DEAD, occurred=timedelta(hours=2), error="HTTP 400", record="1",
             attempted=timedelta(hours=1))
    delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(hours=2), error="timed out", record="2",
             attempted=timedelta(minutes=3))
    # Delivered after an earlier failure: no longer trouble.
    delivery(erp, status=DeliveryStatus.DELIVERED, occurred=timedelta(hours=2), delivered=timedelta(minutes=1),
             error="HTTP 503", record="3", attempted=timedelta(minutes=1))
    figures = figures_of(erp, NOW)
    assert (figures.last_error, figures.last_error_at) == ("timed out", NOW - timedelta(minutes=3))


@pytest.mark.req("INT-06")
@pytest.mark.django_db
def test_blocked_records_are_those_waiting_behind_a_dead_lettered_message() -> None:
    erp = destination()
    delivery(erp, status=DeliveryStatus.DEAD, occurred=timedelta(hours=2), record="A")
    delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(hours=1), record="A")
    delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(minutes=30), record="A")
    delivery(erp, status=DeliveryStatus.DEAD, occurred=timedelta(hours=2), record="B")  # nothing waits behind it
    delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(hours=1), record="C")  # not behind a dead one
    assert figures_of(erp, NOW).blocked_records == 1


@pytest.mark.django_db
def test_monitor_lists_active_destinations_first() -> None:
    destination("a-off", active=False)
    destination("b-on")
    assert [f.destination.code for f in monitor(NOW)] == ["b-on", "a-off"]


@pytest.mark.req("INT-06")
@pytest.mark.django_db
def test_deliveries_filter_by_destination_and_status() -> None:
    erp, other = destination("erp"), destination("other")
    dead = delivery(erp, status=DeliveryStatus.DEAD, occurred=timedelta(hours=1))
    delivery(erp, status=DeliveryStatus.PENDING, occurred=timedelta(hours=1), record="2")
    delivery(other, status=DeliveryStatus.DEAD, occurred=timedelta(hours=1), record="3")
    assert list(deliveries(destination="erp", status="dead")) == [dead]
    assert deliveries().count() == 3


@pytest.mark.django_db
def test_delivery_detail_shows_the_envelope_the_destination_receives() -> None:
    sent: Any = delivery(destination(), status=DeliveryStatus.DEAD, occurred=timedelta(hours=1), record="M-1")
    found = delivery_detail(sent.pk)
    assert found is not None
    assert found[1]["message_id"] == str(sent.event.message_id) and found[1]["payload"] == {"code": "M-1"}
    assert delivery_detail(sent.pk + 1000) is None
