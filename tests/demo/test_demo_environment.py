"""The demo plant's room monitoring (demo/environment.py): every production and warehouse room has its
sensors, the room simulator publishes to sensors that exist, the cold room has its 2–8 °C limits, and
loading twice changes nothing."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from batchline.compliance.models import AuditEntry
from batchline.environment.choices import Parameter
from batchline.environment.ingestion import decode, ingest_batch
from batchline.environment.models import Alarm, RoomLimit, Sensor
from batchline.environment.selectors import limits_in_force
from batchline.environment.services import standard_registrations
from batchline.environment.simulator import SensorModel, simulated_rooms
from batchline.masterdata.models import Room

pytestmark = pytest.mark.django_db

PRODUCTION_ROOMS = ["R101", "R102", "R103", "R104", "R105", "R106", "R107", "R108", "R109"]
WAREHOUSE_ROOMS = ["W101", "W102", "W103", "W104", "W105"]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_plant() -> str:
    return run_demo()


def test_each_production_and_warehouse_room_has_the_sensors_of_its_grade(demo_plant: str) -> None:
    for code in PRODUCTION_ROOMS + WAREHOUSE_ROOMS:
        room = Room.objects.get(code=code)
        expected = {(r.device_id, r.parameter) for r in standard_registrations(room)}
        assert expected, code
        assert set(Sensor.objects.filter(room=room).values_list("device_id", "parameter")) == expected, code
    # Grade D production rooms measure all five parameters, particles included.
    assert set(Sensor.objects.filter(room__code="R104").values_list("parameter", flat=True)) == set(Parameter.values)
    assert Sensor.objects.filter(room__code__startswith="Q").count() == 0  # the QC laboratory is not monitored
    today = datetime.now(UTC).date()
    for sensor in Sensor.objects.all():
        assert sensor.active and sensor.calibrated_until is not None and sensor.calibrated_until > today
        assert sensor.registered_by.username == "supervisor"
        assert sensor.description


def test_the_room_simulator_publishes_for_every_monitored_room_and_its_readings_are_accepted(
        demo_plant: str) -> None:
    simulated = simulated_rooms()  # what `batchline demo` simulates: rooms=None
    assert [room.code for room in simulated] == sorted(PRODUCTION_ROOMS + WAREHOUSE_ROOMS)
    assert sum(len(room.sensors) for room in simulated) == Sensor.objects.count()
    rng = random.Random(7)
    now = datetime.now(UTC)
    messages = [decode(f"batchline/env/{room.code}/{sensor.device_id}",
                       SensorModel(sensor, room.grade, rng).payload(now))
                for room in simulated for sensor in room.sensors]
    result = ingest_batch(messages)
    assert (result.stored, result.rejected) == (len(messages), 0)
    # The demo's rooms start quiet: no reading of the first round raises an alarm, the cold room's
    # included (it is simulated around the middle of its own 2-8 °C limits, not at 21 °C).
    assert not Alarm.objects.exists()


def test_the_cold_room_is_judged_by_its_own_2_to_8_degree_limits(demo_plant: str) -> None:
    cold = Room.objects.get(code="W102")
    row = RoomLimit.objects.get(room=cold, parameter=Parameter.TEMPERATURE)
    assert row.active and row.changed_by.username == "qa" and row.reason
    in_force = limits_in_force([cold])[(cold.pk, Parameter.TEMPERATURE)]
    assert in_force.source == "room"
    limits = in_force.limits
    assert (limits.action_low, limits.alert_low, limits.alert_high, limits.action_high) == (
        Decimal("2"), Decimal("3"), Decimal("7"), Decimal("8"))
    assert AuditEntry.objects.filter(record_type="environment.roomlimit", record_id=str(row.pk)).count() == 1
    # The other rooms keep their grade's documented limits.
    assert RoomLimit.objects.count() == 1


def test_loading_the_demo_twice_registers_no_sensor_again_and_writes_no_audit_entry(demo_plant: str) -> None:
    before = (Sensor.objects.count(), RoomLimit.objects.count(), AuditEntry.objects.count())
    assert before[0] > 0
    second = run_demo()
    assert "already loaded; nothing changed" in second
    assert (Sensor.objects.count(), RoomLimit.objects.count(), AuditEntry.objects.count()) == before
