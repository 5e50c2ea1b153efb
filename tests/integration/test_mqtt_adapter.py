"""MQTT transport against the real broker (BATCHLINE_TEST_MQTT_URL). Each test uses its own topic
prefix (uuid) so tests sharing the broker never see each other's messages."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from batchline.core.models import Destination
from batchline.integration.adapters import DeliveryFailed
from batchline.integration.adapters.mqtt import MqttAdapter, topic_for
from integration.transport import Subscriber, closed_port, message

MQTT_URL = os.environ.get("BATCHLINE_TEST_MQTT_URL", "")
needs_broker = pytest.mark.skipif(not MQTT_URL, reason="BATCHLINE_TEST_MQTT_URL is not set (MQTT broker for tests)")


@pytest.fixture
def prefix() -> str:
    return f"bl-test/{uuid.uuid4().hex}"


@pytest.fixture
def subscriber(prefix: str) -> Iterator[Subscriber]:
    subscriber = Subscriber(MQTT_URL, prefix)
    yield subscriber
    subscriber.close()


@pytest.fixture
def adapter() -> Iterator[MqttAdapter]:
    adapter = MqttAdapter()
    yield adapter
    adapter.close()


def destination(prefix: str, url: str = MQTT_URL) -> Destination:
    return Destination(code="mqtt", name="MQTT", kind="mqtt", url=url, topic_prefix=prefix, timeout_seconds=5)


def test_topic_is_the_prefix_and_the_event_type_with_slashes() -> None:
    plant = Destination(kind="mqtt", topic_prefix="plant1/batchline/")
    assert topic_for(plant, "masterdata.material.approved") == "plant1/batchline/masterdata/material/approved"


@needs_broker
@pytest.mark.req("INT-01")
def test_subscriber_receives_the_envelope_on_the_event_topic(
        adapter: MqttAdapter, subscriber: Subscriber, prefix: str) -> None:
    env, body = message()
    adapter.deliver(destination(prefix), env, body)
    assert subscriber.take() == (f"{prefix}/masterdata/material/approved", body)


@needs_broker
@pytest.mark.req("INT-01")
def test_session_is_kept_between_deliveries(adapter: MqttAdapter, subscriber: Subscriber, prefix: str) -> None:
    messages = [message(str(n)) for n in range(3)]
    for env, body in messages:
        adapter.deliver(destination(prefix), env, body)
    assert [subscriber.take()[1] for _ in messages] == [body for _, body in messages]


@needs_broker
@pytest.mark.req("INT-02")
def test_broker_unreachable_is_retryable_and_same_adapter_delivers_when_it_is_back(
        adapter: MqttAdapter, subscriber: Subscriber, prefix: str) -> None:
    env, body = message()
    with pytest.raises(DeliveryFailed) as failure:
        adapter.deliver(destination(prefix, url=f"mqtt://127.0.0.1:{closed_port()}"), env, body)
    assert failure.value.retryable
    adapter.deliver(destination(prefix), env, body)
    assert subscriber.take()[1] == body


@pytest.mark.parametrize("url", ["http://127.0.0.1:1883", "mqtt://127.0.0.1:notaport"])
def test_url_that_is_not_mqtt_is_refused_without_retry(adapter: MqttAdapter, url: str) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        adapter.deliver(destination("p", url=url), *message())
    assert not failure.value.retryable
