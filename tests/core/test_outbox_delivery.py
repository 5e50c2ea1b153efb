"""Outbox delivery services: fan-out by subscription, backoff and dead-lettering, replay, per-record
ordering (INT-01, INT-02). The relay loop and the worker are tested in tests/integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from batchline.compliance.models import AuditEntry
from batchline.core import clock, outbox
from batchline.core.errors import Conflict, ReasonRequired
from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent, OutboxStatus

pytestmark = pytest.mark.django_db


def destination(code: str, patterns: list[str], **fields: Any) -> Destination:
    values: dict[str, Any] = {"name": code, "kind": "webhook", "url": f"http://127.0.0.1:9/{code}",
                              "event_types": patterns, "created_at": clock.now(), **fields}
    return Destination.objects.create(code=code, **values)


def event(event_type: str = "masterdata.material.approved", record_id: object = 1) -> OutboxEvent:
    with transaction.atomic():
        return outbox.emit(event_type, record_type="masterdata.material", record_id=record_id, payload={"n": 1})


def claim(now: Any = None) -> list[Delivery]:
    with transaction.atomic():
        return outbox.claim_due(100, now or clock.now())


def destinations_of(e: OutboxEvent) -> set[str]:
    return {d.destination.code for d in Delivery.objects.filter(event=e).select_related("destination")}


@pytest.mark.req("INT-01")
def test_fan_out_creates_one_delivery_per_subscribing_destination() -> None:
    destination("exact", ["masterdata.material.approved"])
    destination("prefix", ["masterdata.*"])
    destination("all", ["*"])
    destination("other", ["inventory.*", "masterdata.material.retired"])
    approved = event()
    assert outbox.fan_out() == 1
    assert destinations_of(approved) == {"exact", "prefix", "all"}


@pytest.mark.req("INT-01")
def test_prefix_pattern_matches_only_at_a_dot_boundary() -> None:
    destination("prefix", ["master.*"])
    e = event("masterdata.material.approved")
    outbox.fan_out()
    assert destinations_of(e) == set()


@pytest.mark.req("INT-01")
def test_inactive_destination_gets_no_delivery() -> None:
    destination("off", ["*"], active=False)
    e = event()
    outbox.fan_out()
    assert destinations_of(e) == set()


@pytest.mark.req("INT-01")
def test_event_nobody_subscribes_to_is_dispatched_without_deliveries() -> None:
    e = event()
    outbox.fan_out()
    e.refresh_from_db()
    assert (e.status, e.dispatched_at is not None, Delivery.objects.count()) == (OutboxStatus.DISPATCHED, True, 0)


@pytest.mark.req("INT-01")
def test_fan_out_takes_pending_events_in_id_order_up_to_the_limit() -> None:
    first, second, third = event(record_id=1), event(record_id=2), event(record_id=3)
    assert outbox.fan_out(limit=2) == 2
    statuses = dict(OutboxEvent.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in (first, second, third)] == ["dispatched", "dispatched", "pending"]


@pytest.mark.req("INT-01")
def test_failures_back_off_growing_then_dead_letter_at_max_attempts() -> None:
    destination("flaky", ["*"], max_attempts=4)
    event()
    outbox.fan_out()
    delays = []
    for _attempt in range(3):
        now = clock.now()
        delivery = claim(now + timedelta(days=1))[0]
        outbox.record_failure(delivery, "HTTP 503 from receiver", True, now=now)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        delays.append((delivery.next_attempt_at - now).total_seconds())
    assert delays == sorted(delays) and delays[0] < delays[-1]
    delivery = claim(clock.now() + timedelta(days=1))[0]
    outbox.record_failure(delivery, "HTTP 503 from receiver", True)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("dead", 4, "HTTP 503 from receiver")


def test_backoff_stays_between_half_and_all_of_the_capped_exponential(settings: Any) -> None:
    settings.BATCHLINE_RELAY_BACKOFF_BASE_SECONDS = 2
    settings.BATCHLINE_RELAY_BACKOFF_CAP_SECONDS = 600
    assert 1 <= outbox.backoff_seconds(1) <= 2
    assert 8 <= outbox.backoff_seconds(4) <= 16
    assert 300 <= outbox.backoff_seconds(30) <= 600


@pytest.mark.req("INT-01")
def test_non_retryable_failure_dead_letters_at_once() -> None:
    destination("strict", ["*"], max_attempts=10)
    event()
    outbox.fan_out()
    delivery = claim()[0]
    outbox.record_failure(delivery, "HTTP 400: unknown field", False)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("dead", 1)


def test_long_error_is_truncated() -> None:
    destination("wordy", ["*"])
    event()
    outbox.fan_out()
    delivery = claim()[0]
    outbox.record_failure(delivery, "x" * 10_000, True)
    delivery.refresh_from_db()
    assert len(delivery.last_error) == outbox.LAST_ERROR_LENGTH


@pytest.mark.req("INT-01")
def test_delivered_records_attempts_and_delivery_time() -> None:
    destination("ok", ["*"])
    e = event()
    outbox.fan_out()
    delivery = claim()[0]
    outbox.record_delivered([delivery])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert delivery.delivered_at is not None and delivery.delivered_at >= e.occurred_at  # latency ≥ 0


def test_delivery_not_yet_due_is_not_claimed() -> None:
    destination("later", ["*"])
    event()
    outbox.fan_out()
    delivery = claim()[0]
    outbox.record_failure(delivery, "timeout", True)
    assert claim() == []


def dead_delivery() -> Delivery:
    destination("dead", ["*"])
    event()
    outbox.fan_out()
    delivery = claim()[0]
    outbox.record_failure(delivery, "HTTP 404", False)
    return delivery


@pytest.mark.req("INT-01")
def test_replay_puts_a_dead_delivery_back_to_pending_with_attempts_reset(admin_user: Any) -> None:
    delivery = dead_delivery()
    outbox.replay(actor=admin_user, delivery_id=delivery.pk, reason="receiver fixed the URL")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert [d.pk for d in claim()] == [delivery.pk]


@pytest.mark.req("INT-01")
def test_replay_is_audited_with_its_reason(admin_user: Any) -> None:
    delivery = dead_delivery()
    outbox.replay(actor=admin_user, delivery_id=delivery.pk, reason="receiver fixed the URL")
    entry = AuditEntry.objects.get(record_type="core.delivery", record_id=str(delivery.pk))
    assert (entry.action, entry.reason, entry.actor_id) == ("replay", "receiver fixed the URL", admin_user.pk)


@pytest.mark.req("INT-01")
def test_replay_without_reason_is_refused_and_changes_nothing(admin_user: Any) -> None:
    delivery = dead_delivery()
    with pytest.raises(ReasonRequired):
        outbox.replay(actor=admin_user, delivery_id=delivery.pk, reason="  ")
    delivery.refresh_from_db()
    assert delivery.status == "dead"
    assert not AuditEntry.objects.filter(record_type="core.delivery").exists()


@pytest.mark.req("INT-01")
def test_replay_of_a_delivery_that_is_not_dead_is_refused(admin_user: Any) -> None:
    destination("live", ["*"])
    event()
    outbox.fan_out()
    delivery = Delivery.objects.get()
    with pytest.raises(Conflict):
        outbox.replay(actor=admin_user, delivery_id=delivery.pk, reason="just because")


@pytest.mark.req("INT-01")
def test_later_event_of_a_record_waits_while_an_earlier_one_is_failing() -> None:
    destination("ordered", ["*"])
    event(record_id=7)
    event(record_id=7)
    other = event(record_id=8)
    outbox.fan_out()
    first = claim()[0]
    outbox.record_failure(first, "HTTP 503", True)
    assert [d.event_id for d in claim(clock.now() + timedelta(seconds=0.5))] == [other.pk]


@pytest.mark.req("INT-01")
def test_later_event_of_a_record_goes_once_the_earlier_one_is_delivered() -> None:
    destination("ordered", ["*"])
    first_event, second_event = event(record_id=7), event(record_id=7)
    outbox.fan_out()
    assert [d.event_id for d in claim()] == [first_event.pk]
    outbox.record_delivered([claim()[0]])
    assert [d.event_id for d in claim()] == [second_event.pk]


@pytest.mark.req("INT-01")
def test_dead_earlier_delivery_blocks_the_record_until_replayed(admin_user: Any) -> None:
    destination("ordered", ["*"])
    event(record_id=7)
    second_event = event(record_id=7)
    outbox.fan_out()
    first = claim()[0]
    outbox.record_failure(first, "HTTP 400", False)
    assert claim() == []
    outbox.replay(actor=admin_user, delivery_id=first.pk, reason="fixed")
    outbox.record_delivered([claim()[0]])
    assert [d.event_id for d in claim()] == [second_event.pk]


@pytest.mark.req("INT-01")
def test_a_record_blocked_by_a_dead_letter_for_many_windows_does_not_stall_the_others() -> None:
    destination("ordered", ["*"])
    for _n in range(30):
        event(record_id=7)
    others = [event(record_id=8), event(record_id=9)]
    outbox.fan_out()
    with transaction.atomic():
        first = outbox.claim_due(1, clock.now())[0]
    outbox.record_failure(first, "HTTP 400", False)  # dead: the other 29 of record 7 are held back
    with transaction.atomic():
        claimed = outbox.claim_due(2, clock.now())  # windows of 8: four are all held back
    assert [d.event_id for d in claimed] == [e.pk for e in others]


@pytest.mark.req("INT-01")
def test_later_event_waits_while_an_earlier_event_of_the_record_is_not_fanned_out() -> None:
    destination("ordered", ["*"])
    event(record_id=7)
    event(record_id=7)
    # the second event fanned out alone (as a second relay could) must still wait for the first
    second = OutboxEvent.objects.order_by("id").last()
    assert second is not None
    OutboxEvent.objects.filter(pk=second.pk).update(status=OutboxStatus.DISPATCHED)
    Delivery.objects.create(event=second, destination=Destination.objects.get(), record_type=second.record_type,
                            record_id=second.record_id, next_attempt_at=clock.now())
    assert claim() == []


def test_deliveries_to_a_deactivated_destination_wait() -> None:
    target = destination("paused", ["*"])
    event()
    outbox.fan_out()
    Destination.objects.filter(pk=target.pk).update(active=False)
    assert claim() == []


@pytest.mark.req("INT-02")
def test_events_of_a_rolled_back_transaction_are_never_fanned_out() -> None:
    destination("all", ["*"])

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        outbox.emit("masterdata.material.approved", record_type="masterdata.material", record_id=1, payload={})
        raise Rollback
    assert outbox.fan_out() == 0
    assert not Delivery.objects.exists()
