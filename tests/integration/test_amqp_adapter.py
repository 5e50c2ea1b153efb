"""AMQP transport against the real RabbitMQ (BATCHLINE_TEST_AMQP_URL). Every test declares its own
exchange and queue (uuid names) and deletes them afterwards: the broker is shared."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pika
import pytest

from batchline.core.models import Destination
from batchline.integration.adapters import DeliveryFailed
from batchline.integration.adapters.amqp import AmqpAdapter
from integration.transport import EVENT_TYPE, Consumer, Proxy, closed_port, message

AMQP_URL = os.environ.get("BATCHLINE_TEST_AMQP_URL", "")
pytestmark = pytest.mark.skipif(not AMQP_URL, reason="BATCHLINE_TEST_AMQP_URL is not set (RabbitMQ for tests)")



@pytest.fixture
def exchange() -> str:
    return f"bl-test-{uuid.uuid4().hex}"


@pytest.fixture
def consumer(exchange: str) -> Iterator[Consumer]:
    consumer = Consumer(AMQP_URL, exchange)
    yield consumer
    consumer.close()


@pytest.fixture
def adapter() -> Iterator[AmqpAdapter]:
    adapter = AmqpAdapter()
    yield adapter
    adapter.close()


def destination(exchange: str, url: str = AMQP_URL) -> Destination:
    return Destination(code="rabbit", name="RabbitMQ", kind="amqp", url=url, exchange=exchange, timeout_seconds=5)


def via_port(port: int) -> str:
    """The test broker's URL with its address replaced by 127.0.0.1:<port>."""
    parameters = pika.URLParameters(AMQP_URL)
    credentials = parameters.credentials
    return f"amqp://{credentials.username}:{credentials.password}@127.0.0.1:{port}/%2F"  # type: ignore[attr-defined]


@pytest.mark.req("INT-01")
def test_consumer_receives_each_message_with_its_message_id(
        adapter: AmqpAdapter, consumer: Consumer, exchange: str) -> None:
    messages = [message(str(n)) for n in range(3)]
    for env, body in messages:
        adapter.deliver(destination(exchange), env, body)
    received = consumer.take(3)
    assert [(p.message_id, b) for p, b in received] == [(env["message_id"], body) for env, body in messages]


@pytest.mark.req("INT-01")
def test_messages_are_persistent_json_typed_by_event(adapter: AmqpAdapter, consumer: Consumer, exchange: str) -> None:
    env, body = message()
    adapter.deliver(destination(exchange), env, body)
    [(properties, _)] = consumer.take(1)
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert properties.type == EVENT_TYPE
    assert properties.timestamp == int(datetime(2026, 11, 22, 3, 0, tzinfo=UTC).timestamp())


@pytest.mark.req("INT-01")
def test_message_no_queue_takes_is_retryable(adapter: AmqpAdapter, exchange: str) -> None:
    unbound = Consumer(AMQP_URL, exchange, bind=False)
    try:
        with pytest.raises(DeliveryFailed) as failure:
            adapter.deliver(destination(exchange), *message())
        assert failure.value.retryable
        assert "no queue is bound" in str(failure.value)
    finally:
        unbound.close()


@pytest.mark.req("INT-02")
def test_broker_unreachable_is_retryable_and_same_adapter_delivers_when_it_is_back(
        adapter: AmqpAdapter, consumer: Consumer, exchange: str) -> None:
    env, body = message()
    with pytest.raises(DeliveryFailed) as failure:
        adapter.deliver(destination(exchange, url=via_port(closed_port())), env, body)
    assert failure.value.retryable
    adapter.deliver(destination(exchange), env, body)
    [(properties, received)] = consumer.take(1)
    assert (properties.message_id, received) == (env["message_id"], body)


@pytest.mark.req("INT-02")
def test_dropped_connection_fails_retryably_and_the_adapter_reconnects(
        adapter: AmqpAdapter, consumer: Consumer, exchange: str) -> None:
    parameters = pika.URLParameters(AMQP_URL)
    proxy = Proxy((parameters.host, parameters.port))
    proxy.open()
    through_proxy = destination(exchange, url=via_port(proxy.port))
    first, second, third = message("1"), message("2"), message("3")
    try:
        adapter.deliver(through_proxy, *first)
        proxy.cut()
        with pytest.raises(DeliveryFailed) as failure:
            adapter.deliver(through_proxy, *second)
        assert failure.value.retryable
        proxy.open()
        adapter.deliver(through_proxy, *second)  # what the relay does: retry the failed message
        adapter.deliver(through_proxy, *third)
    finally:
        adapter.close()
        proxy.cut()
    received = {p.message_id for p, _ in consumer.take(3)}
    assert received == {first[0]["message_id"], second[0]["message_id"], third[0]["message_id"]}


def test_destination_without_exchange_is_refused_without_retry(adapter: AmqpAdapter) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        adapter.deliver(destination(""), *message())
    assert not failure.value.retryable


@pytest.mark.parametrize("url", ["http://127.0.0.1:5672/", "amqp://127.0.0.1:notaport/"])
def test_url_that_is_not_amqp_is_refused_without_retry(adapter: AmqpAdapter, exchange: str, url: str) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        adapter.deliver(destination(exchange, url=url), *message())
    assert not failure.value.retryable
