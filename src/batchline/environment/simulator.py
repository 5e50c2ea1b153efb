"""A room-sensor simulator for the demo and the tests: realistic readings, now and then an excursion.

run_room_simulator() publishes, every `interval_seconds`, one reading per sensor of each room to
`<prefix>/<room code>/<sensor id>` (QoS 1) in the payload environment.ingestion takes:

    {"sensor": "TT-R101", "parameter": "temperature", "value": 21.3, "unit": "°C",
     "ts": "2026-11-22T06:30:00.125Z", "quality": "good", "seq": 42}

Values wander around plant-typical set points (temperature ≈ 21 °C, humidity ≈ 50 %RH, differential
pressure ≈ 13 Pa, particle counts by cleanroom grade). With probability `excursion_probability` per
room and interval an excursion starts on one of the room's sensors — a door held open (the pressure
drops), a particle burst, a temperature or humidity drift — and lasts a few intervals beyond the
grade's action limit before the value returns. `seed` makes a run repeatable.

`batchline simulate rooms` calls it; rooms=None takes the registered, active sensors of approved rooms.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from batchline.environment.choices import UNITS, Parameter
from batchline.environment.limits import Limits, default_limits
from batchline.environment.mqtt_ingest import DEFAULT_PREFIX, broker_address, setting

log = logging.getLogger("batchline.environment.simulator")

QOS = 1
MAX_QUEUED = 10_000  # readings paho keeps while the broker is away; older ones beyond are dropped

# Set point and spread (stationary standard deviation) of the wandering values.
_STEADY: dict[str, tuple[Decimal, float]] = {
    Parameter.TEMPERATURE: (Decimal("21.0"), 0.25), Parameter.HUMIDITY: (Decimal("50.0"), 1.2),
    Parameter.DIFFERENTIAL_PRESSURE: (Decimal("13.0"), 0.4)}
# Typical particle counts per m³ in operation, by grade (≥ 0.5 µm; ≥ 5.0 µm is about a hundredth).
_PARTICLES_05 = {"A": 150, "B": 12_000, "C": 250_000, "D": 600_000, "CNC": 800_000, "U": 1_500_000}
_PLACES: dict[str, int] = {Parameter.TEMPERATURE: 1, Parameter.HUMIDITY: 1, Parameter.DIFFERENTIAL_PRESSURE: 1}
_PERSISTENCE = 0.9  # how much of its deviation a wandering value keeps from one reading to the next


@dataclass(frozen=True)
class SimulatedSensor:
    device_id: str
    parameter: str
    # The room's own limits, where it has them (a cold room at 2-8 °C): the value then wanders around
    # the middle of its alert band, and an excursion leaves these limits rather than the grade's.
    limits: Limits | None = None

    def set_point(self) -> Decimal | None:
        limits = self.limits
        if limits is None or limits.alert_low is None or limits.alert_high is None:
            return None
        return (limits.alert_low + limits.alert_high) / 2


@dataclass(frozen=True)
class SimulatedRoom:
    code: str
    grade: str
    sensors: tuple[SimulatedSensor, ...]


@dataclass
class SimulatorStats:
    published: int = 0
    excursions: int = 0
    cycles: int = 0


def simulated_rooms() -> list[SimulatedRoom]:
    """The approved rooms with their registered, active sensors (needs the database)."""
    from batchline.environment.models import Sensor
    from batchline.environment.selectors import limits_by_room
    from batchline.masterdata.choices import RecordStatus

    sensors = list(Sensor.objects.filter(active=True, room__status=RecordStatus.APPROVED)
                   .select_related("room").order_by("room__code", "device_id"))
    in_force = limits_by_room({s.room_id: s.room.cleanroom_grade for s in sensors})
    rooms: dict[str, SimulatedRoom] = {}
    for sensor in sensors:
        room = rooms.get(sensor.room.code) or SimulatedRoom(sensor.room.code, sensor.room.cleanroom_grade, ())
        source = in_force.get((sensor.room_id, sensor.parameter))
        own = source.limits if source is not None and source.source == "room" else None
        rooms[room.code] = SimulatedRoom(room.code, room.grade,
                                         (*room.sensors, SimulatedSensor(sensor.device_id, sensor.parameter, own)))
    return list(rooms.values())


@dataclass
class _Episode:
    target: Decimal
    remaining: int


@dataclass
class SensorModel:
    """One sensor's values: a mean-reverting walk (or, for particle counts, independent samples around
    the grade's typical count), pushed beyond the action limit during an excursion."""

    sensor: SimulatedSensor
    grade: str
    rng: random.Random
    value: float = 0.0
    seq: int = 0
    last_ts: datetime | None = None
    episode: _Episode | None = None
    _started: bool = field(default=False, repr=False)

    def next_value(self) -> Decimal:
        parameter = self.sensor.parameter
        if self.episode is not None:
            self.episode.remaining -= 1
            target = self.episode.target
            if self.episode.remaining <= 0:
                self.episode = None
            return self._format(float(target) * (1 + self.rng.uniform(0, 0.03)))
        if parameter in _STEADY:
            mean, spread = _STEADY[parameter]
            mean = self.sensor.set_point() or mean
            if not self._started:
                self.value, self._started = float(mean) + self.rng.gauss(0, spread), True
            deviation = self.value - float(mean)
            noise = self.rng.gauss(0, spread * math.sqrt(1 - _PERSISTENCE ** 2))
            self.value = float(mean) + _PERSISTENCE * deviation + noise
            return self._format(self.value)
        typical = _PARTICLES_05.get(self.grade, 500_000) / (100 if parameter == Parameter.PARTICLES_50 else 1)
        return self._format(typical * math.exp(self.rng.gauss(0, 0.25)))

    def start_excursion(self, intervals: int) -> None:
        """The value goes beyond the grade's action limit (or a plausible one) for `intervals` readings."""
        limits = self.sensor.limits or default_limits(self.grade, self.sensor.parameter)
        parameter = self.sensor.parameter
        if parameter == Parameter.DIFFERENTIAL_PRESSURE:  # a door held open: the cascade collapses
            low = limits.action_low if limits.action_low is not None else Decimal("5")
            target = max(Decimal("0.5"), low - Decimal("6"))
        elif limits.action_high is None:  # no limit to pass (an unclassified room): a marked drift
            mean = _STEADY.get(parameter, (Decimal(_PARTICLES_05.get(self.grade, 500_000)), 0.0))[0]
            target = mean * Decimal("1.5")
        elif parameter == Parameter.TEMPERATURE:  # air handling fails
            target = limits.action_high + Decimal("1.5")
        elif parameter == Parameter.HUMIDITY:
            target = limits.action_high + Decimal("5")
        else:  # a particle burst
            target = (limits.action_high * Decimal("1.3")).to_integral_value() + 1
        self.episode = _Episode(target, intervals)
        self.value = float(self.sensor.set_point() or _STEADY.get(parameter, (Decimal(0), 0.0))[0])  # it recovers

    def _format(self, value: float) -> Decimal:
        places = _PLACES.get(self.sensor.parameter)
        if places is None:  # a count
            return Decimal(max(0, round(value)))
        return Decimal(str(round(value, places)))

    def payload(self, now: datetime, quality: str = "good") -> bytes:
        ts = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self.last_ts is not None and ts <= self.last_ts:
            ts = self.last_ts + timedelta(milliseconds=1)  # one reading per sensor and instant
        self.last_ts = ts
        self.seq += 1
        value = self.next_value()
        stamp = ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        # Written by hand so that the value is a JSON number with exactly its decimal digits.
        fields = [("sensor", json.dumps(self.sensor.device_id)), ("parameter", json.dumps(self.sensor.parameter)),
                  ("value", format(value, "f")), ("unit", json.dumps(UNITS[self.sensor.parameter])),
                  ("ts", json.dumps(stamp)), ("quality", json.dumps(quality)), ("seq", str(self.seq))]
        return ("{" + ", ".join(f'"{name}": {text}' for name, text in fields) + "}").encode()


def run_room_simulator(*, broker_url: str | None, rooms: Sequence[SimulatedRoom] | None, interval_seconds: float,
                       excursion_probability: float, stop: threading.Event, seed: int | None = None,
                       topic_prefix: str | None = None, uncertain_probability: float = 0.002) -> SimulatorStats:
    """Publish readings until `stop` is set (see the module's description). Returns what it did."""
    if interval_seconds <= 0 or not 0 <= excursion_probability <= 1:
        raise ValueError("interval_seconds must be positive and excursion_probability within 0..1")
    url = broker_url or setting("BATCHLINE_ENV_MQTT_URL", "mqtt://127.0.0.1:1883")
    prefix = (topic_prefix or setting("BATCHLINE_ENV_TOPIC_PREFIX", DEFAULT_PREFIX)).strip("/")
    host, port, username, password = broker_address(url)
    rng = random.Random(seed)  # noqa: S311  # simulated data, not security
    rooms = list(simulated_rooms() if rooms is None else rooms)
    models = [(room, [SensorModel(sensor, room.grade, rng) for sensor in room.sensors]) for room in rooms]
    stats = SimulatorStats()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"batchline-room-sim-{uuid.uuid4().hex[:8]}")
    if username:
        client.username_pw_set(username, password or "")
    client.max_queued_messages_set(MAX_QUEUED)
    client.reconnect_delay_set(1, 30)
    client.connect_async(host, port, keepalive=30)
    client.loop_start()
    last: paho.MQTTMessageInfo | None = None
    try:
        while not stop.is_set():
            now = datetime.now(UTC)
            for room, sensors in models:
                if sensors and rng.random() < excursion_probability and not any(s.episode for s in sensors):
                    rng.choice(sensors).start_excursion(rng.randint(2, 4))
                    stats.excursions += 1
                for model in sensors:
                    quality = "uncertain" if rng.random() < uncertain_probability else "good"
                    topic = f"{prefix}/{room.code}/{model.sensor.device_id}"
                    last = client.publish(topic, model.payload(now, quality), qos=QOS)
                    stats.published += 1
            stats.cycles += 1
            stop.wait(interval_seconds)
    finally:
        if last is not None and client.is_connected():
            try:
                last.wait_for_publish(timeout=5)
            except (RuntimeError, ValueError):
                log.warning("the room simulator stopped before the broker took its last readings")
        client.disconnect()
        client.loop_stop()
    return stats
