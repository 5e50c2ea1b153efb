"""A broker that is down for a while (INT-01, INT-02): the plant keeps working, the relay keeps
every message and, when the broker is back, delivers each one. The outage is a TCP proxy in front of
the real RabbitMQ / Mosquitto that the test cuts and restores: the shared brokers keep running for
the other tests. The relay runs with the real adapters, as `batchline worker` does."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pika
import pytest

from batchline.core import clock
from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent
from batchline.integration.relay import Relay
from integration.transport import Consumer, Proxy, Subscriber

AMQP_URL = os.environ.get("BATCHLINE_TEST_AMQP_URL", "")
MQTT_URL = os.environ.get("BATCHLINE_TEST_MQTT_URL", "")
BATCH_BEFORE, BATCH_DURING = 3, 12
MAX_CYCLES = 20  # relay cycles a test allows for the backlog to drain (each delivers up to 200)


def material(approved: Callable[..., Any], n: int) -> Any:
    """Plant work: a material created and approved, with its outbox event."""
    return approved("material", code=f"OUT-{n:03d}", name_zh=f"物料{n}", name_en=f"Material {n}",
                    material_type="raw", base_unit="kg")


def make_due_now() -> None:
    """Skip the backoff wait (tests/core checks the backoff itself)."""
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=clock.now() - timedelta(seconds=1))


def drain(relay: Relay) -> None:
    for _cycle in range(MAX_CYCLES):
        make_due_now()
        relay.run_once()
        if not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists():
            return
    raise AssertionError("the backlog did not drain")


def event_ids() -> set[str]:
    """Every event written (the fixture's unit approval and the materials): all masterdata.*."""
    return {str(m) for m in OutboxEvent.objects.values_list("message_id", flat=True)}


def outage(approved: Callable[..., Any], kg: Any, proxy: Proxy, relay: Relay) -> None:
    """Deliver some messages, cut the network, keep working, fail to deliver, then restore and drain."""
    for n in range(BATCH_BEFORE):
        material(approved, n)
    drain(relay)
    proxy.cut()
    for n in range(BATCH_BEFORE, BATCH_BEFORE + BATCH_DURING):
        material(approved, n)  # the plant goes on while the broker is unreachable
    for _cycle in range(3):
        make_due_now()
        relay.run_once()
    waiting = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    assert waiting.count() >= BATCH_DURING and waiting.filter(attempts__gt=0).exists()
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
    assert waiting.exclude(last_error="").exists()
    proxy.open()
    drain(relay)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


@pytest.mark.req("INT-01", "INT-02")
@pytest.mark.skipif(not AMQP_URL, reason="BATCHLINE_TEST_AMQP_URL is not set (RabbitMQ for tests)")
@pytest.mark.django_db
def test_rabbitmq_unreachable_then_back_delivers_every_message_by_its_id(approved: Callable[..., Any],
                                                                           kg: Any) -> None:
    parameters = pika.URLParameters(AMQP_URL)
    proxy = Proxy((parameters.host, parameters.port))
    proxy.open()
    exchange = f"bl-test-{uuid.uuid4().hex}"
    consumer = Consumer(AMQP_URL, exchange)
    credentials = parameters.credentials
    Destination.objects.create(
        code="rabbit", name="RabbitMQ", kind="amqp", event_types=["masterdata.*"], exchange=exchange,
        url=f"amqp://{credentials.username}:{credentials.password}@127.0.0.1:{proxy.port}/%2F",  # type: ignore[attr-defined]
        timeout_seconds=2, created_at=clock.now())
    relay = Relay()
    try:
        outage(approved, kg, proxy, relay)
        expected = event_ids()
        received: list[str] = []
        while not expected <= set(received) and len(received) < 2 * len(expected):
            taken = consumer.take(1)
            if not taken:
                break
            received.append(taken[0][0].message_id)
    finally:
        relay.close()
        proxy.cut()
        consumer.close()
    # at least once: every message arrived; a duplicate (a confirm lost in the cut) carries a known id
    assert set(received) == expected
    assert OutboxEvent.objects.filter(event_type="masterdata.material.approved").count() == BATCH_BEFORE + BATCH_DURING


@pytest.mark.req("INT-01", "INT-02")
@pytest.mark.skipif(not MQTT_URL, reason="BATCHLINE_TEST_MQTT_URL is not set (MQTT broker for tests)")
@pytest.mark.django_db
def test_mqtt_connection_cut_mid_session_then_back_delivers_every_message_by_its_id(
        approved: Callable[..., Any], kg: Any) -> None:
    address = urlsplit(MQTT_URL)
    proxy = Proxy((address.hostname or "127.0.0.1", address.port or 1883))
    proxy.open()
    prefix = f"bl-test/{uuid.uuid4().hex}"
    subscriber = Subscriber(MQTT_URL, prefix)
    Destination.objects.create(code="mqtt", name="MQTT", kind="mqtt", event_types=["masterdata.*"],
                               url=f"mqtt://127.0.0.1:{proxy.port}", topic_prefix=prefix, timeout_seconds=2,
                               created_at=clock.now())
    relay = Relay()
    try:
        outage(approved, kg, proxy, relay)
        expected = event_ids()
        received: list[str] = []
        while not expected <= set(received):
            _topic, body = subscriber.take()
            received.append(json.loads(body)["message_id"])
    finally:
        relay.close()
        proxy.cut()
        subscriber.close()
    assert OutboxEvent.objects.filter(event_type="masterdata.material.approved").count() == BATCH_BEFORE + BATCH_DURING
