"""The room simulator: realistic readings within limits, excursions beyond the action limit when asked,
published to the broker in the payload ingestion takes (EQ-06)."""

from __future__ import annotations

import json
import queue
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from batchline.environment.ingestion import decode, ingest_batch
from batchline.environment.limits import Limits, default_limits
from batchline.environment.models import Alarm, Reading
from batchline.environment.mqtt_ingest import broker_address
from batchline.environment.simulator import (
    SensorModel,
    SimulatedRoom,
    SimulatedSensor,
    run_room_simulator,
    simulated_rooms,
)
from environment.conftest import MQTT_URL, ROOMS, Plant, needs_broker

pytestmark = pytest.mark.req("EQ-06")
PARAMETERS = ["temperature", "humidity", "dp", "particles_0_5", "particles_5_0"]


def _model(parameter: str, grade: str = "B", seed: int = 1) -> SensorModel:
    return SensorModel(SimulatedSensor(f"X-{parameter}", parameter), grade, random.Random(seed))


@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
@pytest.mark.parametrize("parameter", PARAMETERS)
def test_without_excursions_the_values_stay_within_the_alert_limits(parameter: str, grade: str) -> None:
    model = _model(parameter, grade)
    limits = default_limits(grade, parameter)
    levels = {limits.level(model.next_value()) for _ in range(2000)}
    assert levels == {"ok"}


@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
@pytest.mark.parametrize("parameter", PARAMETERS)
def test_an_excursion_goes_beyond_the_action_limit_and_then_returns(parameter: str, grade: str) -> None:
    model = _model(parameter, grade)
    limits = default_limits(grade, parameter)
    model.start_excursion(3)
    during = [limits.level(model.next_value()) for _ in range(3)]
    after = [limits.level(model.next_value()) for _ in range(20)]
    assert during == ["action"] * 3
    assert after[-1] == "ok"


def test_a_room_with_its_own_limits_is_simulated_within_them_and_its_excursions_leave_them() -> None:
    cold_room = Limits(alert_low=Decimal("3"), alert_high=Decimal("7"), action_low=Decimal("2"),
                       action_high=Decimal("8"))
    model = SensorModel(SimulatedSensor("TT-W102", "temperature", cold_room), "CNC", random.Random(5))
    assert {cold_room.level(model.next_value()) for _ in range(2000)} == {"ok"}
    model.start_excursion(2)
    assert [cold_room.level(model.next_value()) for _ in range(2)] == ["action", "action"]
    assert cold_room.level(model.next_value()) == "ok"


def test_the_typical_values_are_plant_like() -> None:
    model = _model("temperature", seed=3)
    values = [model.next_value() for _ in range(1000)]
    assert Decimal("20") <= min(values) and max(values) <= Decimal("22")
    assert {v.as_tuple().exponent for v in values} == {-1}  # one decimal place
    humidity = _model("humidity", seed=3)
    assert all(Decimal("45") <= humidity.next_value() <= Decimal("55") for _ in range(1000))
    dp = _model("dp", seed=3)
    assert all(Decimal("10") <= dp.next_value() <= Decimal("15") for _ in range(1000))


def test_a_payload_is_the_documented_json_with_a_decimal_number_and_increasing_time() -> None:
    model = _model("humidity")
    now = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
    first, second = json.loads(model.payload(now)), json.loads(model.payload(now), parse_float=Decimal)
    assert set(first) == {"sensor", "parameter", "value", "unit", "ts", "quality", "seq"}
    assert (first["unit"], first["quality"], first["seq"], second["seq"]) == ("%RH", "good", 1, 2)
    assert isinstance(second["value"], Decimal)
    assert first["ts"] == "2026-11-22T06:30:00.000Z" and second["ts"] == "2026-11-22T06:30:00.001Z"


def test_the_same_seed_gives_the_same_readings() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    runs = [[_model("dp", seed=11).payload(now + timedelta(seconds=n)) for n in range(20)] for _ in range(2)]
    assert runs[0] == runs[1]


def test_the_simulated_rooms_are_the_registered_active_sensors(plant: Plant) -> None:
    rooms = {room.code: room for room in simulated_rooms()}
    assert set(rooms) == {"RB1", "RD1"} and rooms["RB1"].grade == "B"
    assert {s.device_id for s in rooms["RD1"].sensors} == set(ROOMS[("RD1", "D")].values())


class Subscriber:
    def __init__(self, prefix: str) -> None:
        host, port, _, _ = broker_address(MQTT_URL)
        self.received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bl-test-simsub-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda client, userdata, msg: self.received.put((msg.topic, msg.payload))
        self.client.on_subscribe = lambda *args: ready.set()
        self.client.on_connect = lambda client, *args: client.subscribe(f"{prefix}/#", qos=1)
        self.client.connect(host, port)
        self.client.loop_start()
        assert ready.wait(10), "the test subscriber could not subscribe"

    def take(self, count: int) -> list[tuple[str, bytes]]:
        return [self.received.get(timeout=20) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@needs_broker
@pytest.mark.req("EQ-06", "AC-06")
def test_the_simulator_publishes_readings_ingestion_stores_with_excursions(plant: Plant, prefix: str) -> None:
    rooms = [SimulatedRoom(code, grade, tuple(SimulatedSensor(device, parameter)
                                              for parameter, device in devices.items()))
             for (code, grade), devices in ROOMS.items()]
    subscriber = Subscriber(prefix)
    stop = threading.Event()
    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.update(stats=run_room_simulator(
        broker_url=MQTT_URL, rooms=rooms, interval_seconds=0.02, excursion_probability=0.5, stop=stop, seed=5,
        topic_prefix=prefix)))
    thread.start()
    try:
        messages = subscriber.take(80)
    finally:
        stop.set()
        thread.join(timeout=20)
        subscriber.close()
    assert {topic.split("/")[-2] for topic, _ in messages} == {"RB1", "RD1"}
    result = ingest_batch([decode(topic, payload) for topic, payload in messages])
    assert (result.rejected, result.stored) == (0, 80)
    assert Reading.objects.filter(quality="good").count() >= 70
    assert Alarm.objects.filter(level="action").exists()
    assert outcome["stats"].published >= 80 and outcome["stats"].excursions >= 1
