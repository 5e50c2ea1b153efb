"""The MQTT ingestion process against the real broker (BATCHLINE_TEST_MQTT_URL): readings published on
<prefix>/<room>/<sensor> are stored; a message redelivered by the broker, or published twice, raises
one alarm and one excursion event only (EQ-06); unknown sensors are refused (AC-06)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import paho.mqtt.client as paho
import pytest
from django.core.management import call_command
from paho.mqtt.enums import CallbackAPIVersion

from batchline.core.models import OutboxEvent
from batchline.environment.ingestion import IngestResult
from batchline.environment.models import Alarm, Excursion, Reading, RejectedReading
from batchline.environment.mqtt_ingest import MqttIngest, broker_address, topic_filter
from environment.conftest import MQTT_URL, Plant, needs_broker

DEADLINE = 20.0


class Publisher:
    """A gateway's side: publishes JSON readings with QoS 1 and waits for the broker's PUBACK."""

    def __init__(self) -> None:
        host, port, _, _ = broker_address(MQTT_URL)
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bl-test-gw-{uuid.uuid4().hex[:8]}")
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, topic: str, payload: dict[str, Any] | bytes) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, body, qos=1).wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    publisher = Publisher()
    yield publisher
    publisher.close()


def _ingest(prefix: str, client_id: str | None = None) -> MqttIngest:
    # A short session expiry: a test's persistent session does not outlive it on the shared broker.
    return MqttIngest(MQTT_URL, prefix, client_id=client_id or f"bl-test-ing-{uuid.uuid4().hex[:8]}",
                      session_expiry=30, max_wait=0.05)


def _until(condition: Callable[[], bool], step: Callable[[], object]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        step()


def _payload(plant: Plant, device: str, value: str) -> dict[str, Any]:
    sensor = plant.sensors[device]
    return {"sensor": device, "parameter": sensor.parameter, "value": value, "unit": sensor.unit,
            "ts": plant.ts().isoformat().replace("+00:00", "Z"), "quality": "good", "seq": 1}


def test_the_topic_filter_is_one_level_for_the_room_and_one_for_the_sensor() -> None:
    assert topic_filter("plant1/env/") == "plant1/env/+/+"
    assert topic_filter("plant1/env", "ingest") == "$share/ingest/plant1/env/+/+"


@pytest.mark.parametrize("url", ["http://127.0.0.1:1883", "mqtt://127.0.0.1:notaport", "mqtt:///nohost"])
def test_a_broker_url_that_is_not_mqtt_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        broker_address(url)


@needs_broker
@pytest.mark.req("EQ-06")
def test_readings_published_per_room_and_sensor_are_stored(plant: Plant, prefix: str, publisher: Publisher) -> None:
    ingest = _ingest(prefix)
    ingest.start()
    try:
        for device, value in (("TT-RB1", "21.2"), ("HT-RB1", "48.5"), ("PC05-RD1", "120000")):
            publisher.send(f"{prefix}/{plant.sensors[device].room.code}/{device}", _payload(plant, device, value))
        _until(lambda: ingest.stats.stored == 3, lambda: ingest.process(0.5))
    finally:
        ingest.close()
    assert set(Reading.objects.values_list("sensor__device_id", "channel")) == {
        ("TT-RB1", "mqtt"), ("HT-RB1", "mqtt"), ("PC05-RD1", "mqtt")}


@needs_broker
@pytest.mark.req("EQ-06", "AC-06")
def test_an_unregistered_sensor_on_the_broker_is_refused_and_recorded(plant: Plant, prefix: str,
                                                                      publisher: Publisher) -> None:
    ingest = _ingest(prefix)
    ingest.start()
    try:
        publisher.send(f"{prefix}/RB1/TT-ROGUE", {"sensor": "TT-ROGUE", "value": "40", "unit": "°C",
                                                  "ts": "2026-01-05T08:00:00Z", "quality": "good"})
        _until(lambda: ingest.stats.rejected == 1, lambda: ingest.process(0.5))
    finally:
        ingest.close()
    assert not Reading.objects.exists() and not Alarm.objects.exists()
    assert RejectedReading.objects.get().topic == f"{prefix}/RB1/TT-ROGUE"


class CrashesBeforeAcknowledging(MqttIngest):
    """Stores its batch, then dies before the PUBACK: the broker still holds the message."""

    def acknowledge(self, batch: list[Any]) -> None:
        pass


@needs_broker
@pytest.mark.req("EQ-06")
def test_an_action_level_reading_redelivered_by_the_broker_raises_one_alarm_and_one_excursion(
        plant: Plant, prefix: str, publisher: Publisher) -> None:
    client_id = f"bl-test-ing-{uuid.uuid4().hex[:8]}"
    payload = _payload(plant, "PC05-RB1", "400000")  # grade B: action above 352,000 /m³
    topic = f"{prefix}/RB1/PC05-RB1"

    first = CrashesBeforeAcknowledging(MQTT_URL, prefix, client_id=client_id, session_expiry=30, max_wait=0.05)
    first.start()
    try:
        publisher.send(topic, payload)
        _until(lambda: first.stats.stored == 1, lambda: first.process(0.5))
    finally:
        first.close()  # gone without a PUBACK

    second = _ingest(prefix, client_id)  # the process comes back with the same persistent session
    second.start()
    try:
        _until(lambda: second.stats.duplicates == 1, lambda: second.process(0.5))  # the broker's redelivery
        publisher.send(topic, payload)  # and the gateway sends it again for good measure
        _until(lambda: second.stats.duplicates == 2, lambda: second.process(0.5))
    finally:
        second.close()
    assert Reading.objects.count() == 1
    assert Alarm.objects.count() == 1 and Alarm.objects.get().level == "action"
    assert Excursion.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="environment.excursion").count() == 1
    assert OutboxEvent.objects.filter(event_type="environment.alarm.raised").count() == 1


class FailsOnce(MqttIngest):
    """The database is away for the first transaction."""

    failed = False

    def store(self, batch: list[Any]) -> IngestResult | None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("database unavailable")
        return super().store(batch)


@needs_broker
def test_a_batch_whose_transaction_failed_is_stored_by_the_next_attempt(plant: Plant, prefix: str,
                                                                        publisher: Publisher) -> None:
    ingest = FailsOnce(MQTT_URL, prefix, client_id=f"bl-test-ing-{uuid.uuid4().hex[:8]}", session_expiry=30,
                       max_wait=0.05)
    ingest.start()
    try:
        publisher.send(f"{prefix}/RB1/TT-RB1", _payload(plant, "TT-RB1", "21.0"))
        with pytest.raises(RuntimeError):
            _until(lambda: False, lambda: ingest.process(0.5))
        assert ingest.process(0.1) == 1
    finally:
        ingest.close()
    assert Reading.objects.count() == 1 and ingest.stats.failures == 1


@needs_broker
@pytest.mark.req("EQ-06")
def test_the_ingest_command_runs_until_stopped(committed_plant: Plant, prefix: str, publisher: Publisher) -> None:
    client_id = f"bl-test-ing-{uuid.uuid4().hex[:8]}"
    session = _ingest(prefix, client_id)
    session.start()  # the persistent session exists: the broker keeps what is published meanwhile
    session.close()
    publisher.send(f"{prefix}/RB1/TT-RB1", _payload(committed_plant, "TT-RB1", "21.5"))
    stop = threading.Event()
    out = StringIO()
    thread = threading.Thread(target=call_command, args=("environment_ingest",), kwargs={
        "url": MQTT_URL, "prefix": prefix, "client_id": client_id, "session_expiry": 30, "stop_event": stop,
        "stdout": out})
    thread.start()
    try:
        deadline = time.monotonic() + DEADLINE
        while not Reading.objects.exists():
            assert time.monotonic() < deadline, "the command stored nothing"
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=DEADLINE)
    assert not thread.is_alive()
    assert "1 stored" in out.getvalue()


def test_the_process_waits_for_an_unreachable_broker_and_stops_when_asked() -> None:
    from integration.transport import closed_port

    ingest = MqttIngest(f"mqtt://127.0.0.1:{closed_port()}", "bl-test-env/none", client_id="bl-test-unreachable")
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,))
    thread.start()
    assert not ingest.subscribed.wait(0.5)
    stop.set()
    thread.join(timeout=DEADLINE)
    assert not thread.is_alive() and ingest.stats.batches == 0
