"""The demo plant's room monitoring: the usual sensors of every production and warehouse room, and the
cold room's own 2–8 °C limits, set up through the environment services.

Each approved room of the production and warehouse areas gets the sensors of
environment.services.standard_registrations() — TT, HT, PT, PC05, PC50 by what its cleanroom grade
has limits for — so that the room simulator of `batchline demo` (rooms=None: the registered, active
sensors of approved rooms) publishes to sensors that exist. The supervisor registers the sensors;
QA sets the cold room's limits (both environment.configure). The other rooms are judged by their
grade's documented defaults (environment.limits), which need no rows.

Loading is idempotent: a sensor id that is registered, or a room limit that exists (in force or
taken back), is left alone. DEMO ONLY: the calibration dates are invented.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal as D

from batchline.core import clock
from batchline.environment import services
from batchline.environment.choices import Parameter
from batchline.environment.limits import Limits
from batchline.environment.models import RoomLimit, Sensor
from batchline.identity.models import User
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Room

# The monitored areas of the demo site (demo/plant.py AREAS); the QC laboratory is not monitored.
MONITORED_AREAS = ("SZ01-PRD", "SZ01-WH")
SENSOR_CALIBRATION_DAYS = 365  # sensors are calibrated once a year: calibrated until a year from loading
SENSOR_REASON = "演示工厂环境监测 / Demo plant environmental monitoring"

# What each sensor measures, as the sensor registry describes it (data, not translated).
_PARAMETER_NAMES: dict[str, tuple[str, str]] = {
    Parameter.TEMPERATURE: ("温度", "temperature"),
    Parameter.HUMIDITY: ("相对湿度", "relative humidity"),
    Parameter.DIFFERENTIAL_PRESSURE: ("压差", "differential pressure"),
    Parameter.PARTICLES_05: ("悬浮粒子 ≥ 0.5 µm", "particles ≥ 0.5 µm"),
    Parameter.PARTICLES_50: ("悬浮粒子 ≥ 5.0 µm", "particles ≥ 5.0 µm"),
}


@dataclass(frozen=True)
class DemoRoomLimit:
    room: str
    parameter: str
    limits: Limits
    reason: str


ROOM_LIMITS: tuple[DemoRoomLimit, ...] = (
    # The cold room keeps materials labelled "store at 2–8 °C": beyond 2 or 8 °C is an excursion,
    # the alert band warns a degree before.
    DemoRoomLimit("W102", Parameter.TEMPERATURE,
                  Limits(action_low=D("2"), alert_low=D("3"), alert_high=D("7"), action_high=D("8")),
                  "冷藏库储存条件 2–8 °C / Cold room storage condition 2–8 °C"),
)


def _description(room: Room, parameter: str) -> str:
    zh, en = _PARAMETER_NAMES[parameter]
    return f"{room.name_zh} {zh} / {room.name_en}, {en}"


def _monitored_rooms() -> list[Room]:
    return list(Room.objects.filter(area__code__in=MONITORED_AREAS, status=RecordStatus.APPROVED)
                .order_by("code"))


def load(*, users: Mapping[str, User], created: Counter[str], password: str) -> None:
    """Register the demo rooms' sensors and set the room limits not there yet (run inside plant.load()).
    `password` is not used: nothing here is signed. It keeps the demo loaders' one signature."""
    del password
    configurer, qa = users["supervisor"], users["qa"]
    calibrated_until = clock.to_site(clock.now()).date() + timedelta(days=SENSOR_CALIBRATION_DAYS)
    registered = set(Sensor.objects.values_list("device_id", flat=True))
    for room in _monitored_rooms():
        for registration in services.standard_registrations(room):
            if registration.device_id in registered:
                continue
            services.register_sensor(actor=configurer, reason=SENSOR_REASON, registration=replace(
                registration, description=_description(room, registration.parameter),
                calibrated_until=calibrated_until))
            created["sensor"] += 1
    for limit in ROOM_LIMITS:
        if RoomLimit.objects.filter(room__code=limit.room, parameter=limit.parameter).exists():
            continue
        services.set_room_limits(actor=qa, room_code=limit.room, parameter=limit.parameter, limits=limit.limits,
                                 reason=limit.reason)
        created["room limit"] += 1
