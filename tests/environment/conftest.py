"""A small monitored plant for the environment tests, built through the services.

`build_plant()` needs no pytest fixture, so the tests with threads (committed_db: the MQTT ingestion
process, the browser) build the same plant as the ordinary ones (`plant`)."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from conftest import PASSWORD

MQTT_URL = os.environ.get("BATCHLINE_TEST_MQTT_URL", "")
needs_broker = pytest.mark.skipif(not MQTT_URL, reason="BATCHLINE_TEST_MQTT_URL is not set (MQTT broker for tests)")

# (room code, grade) → the sensors registered in it: parameter → device id
ROOMS = {
    ("RB1", "B"): {"temperature": "TT-RB1", "humidity": "HT-RB1", "dp": "PT-RB1", "particles_0_5": "PC05-RB1",
                   "particles_5_0": "PC50-RB1"},
    ("RD1", "D"): {"temperature": "TT-RD1", "dp": "PT-RD1", "particles_0_5": "PC05-RD1"},
}


def person(username: str, full_name: str, *roles: str, kind: str = "person") -> Any:
    from batchline.identity import services
    from batchline.identity.models import User

    user = services.create_user(actor=None, username=username, full_name=full_name, roles=list(roles),
                                initial_password=PASSWORD if kind == "person" else None, kind=kind)
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    user.refresh_from_db()
    return user


def signature(user: Any, meaning: str = "acknowledge", password: str = PASSWORD) -> Any:
    from batchline.compliance.signatures import SignatureRequest

    return SignatureRequest(password=password, meaning=meaning, username=user.username)


@dataclass
class Plant:
    steward: Any
    qa: Any  # qa_reviewer: configures limits and sensors, acknowledges
    lead: Any  # shift_lead: acknowledges
    operator: Any  # operator: sees only
    gateway: Any  # integration account: posts readings
    rooms: dict[str, Any]
    sensors: dict[str, Any]  # device id → Sensor
    clock: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def ts(self) -> datetime:
        """A fresh source timestamp, a second after the previous one, in the recent past."""
        from batchline.core import clock

        return clock.now().replace(microsecond=0) - timedelta(hours=1) + timedelta(seconds=next(self.clock))

    def reading(self, device_id: str, value: Any, *, ts: datetime | None = None, quality: str | None = "good",
                topic: bool = True, **extra: Any) -> Any:
        """An Incoming as MQTT delivers it (topic <prefix>/<room>/<sensor>, JSON payload)."""
        from batchline.environment.ingestion import decode

        sensor = self.sensors[device_id]
        data: dict[str, Any] = {"sensor": device_id, "parameter": sensor.parameter, "value": value,
                                "unit": sensor.unit, "ts": (ts or self.ts()).isoformat().replace("+00:00", "Z")}
        if quality is not None:
            data["quality"] = quality
        data.update(extra)
        text = json.dumps(data, default=str)
        return decode(f"batchline/env/{sensor.room.code}/{device_id}" if topic else "", text.encode())


def build_plant() -> Plant:
    from batchline.environment import services
    from batchline.masterdata import services as masterdata
    from batchline.masterdata.registry import kind_of

    steward = person("steward", "王明 Wang Ming", "data_steward")
    qa = person("qa", "李华 Li Hua", "qa_reviewer")
    lead = person("lead", "张伟 Zhang Wei", "shift_lead")
    operator = person("operator", "刘洋 Liu Yang", "operator")
    gateway = person("ems-gateway", "EMS gateway", "integration", kind="integration")

    def approve(kind: str, **data: Any) -> Any:
        item = masterdata.create_item(actor=steward, kind=kind_of(kind), data=data)
        return masterdata.approve_item(actor=qa, kind=kind_of(kind), item_id=item.pk,
                                       signature=signature(qa, "approve"))

    approve("site", code="S1", name_zh="工厂", name_en="Plant")
    approve("area", code="PRD", name_zh="生产区", name_en="Production", site="S1")
    rooms, sensors = {}, {}
    for (code, grade), devices in ROOMS.items():
        rooms[code] = approve("room", code=code, name_zh=f"房间 {code}", name_en=f"Room {code}", area="PRD",
                              cleanroom_grade=grade)
        for parameter, device_id in devices.items():
            sensors[device_id] = services.register_sensor(actor=qa, registration=services.SensorRegistration(
                device_id=device_id, room=code, parameter=parameter, description=f"{parameter} probe"))
    return Plant(steward, qa, lead, operator, gateway, rooms, sensors)


@pytest.fixture
def plant(db: None) -> Plant:
    return build_plant()


@pytest.fixture
def committed_plant(committed_db: None) -> Plant:
    return build_plant()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of the test's own: tests sharing the broker never see each other's messages."""
    return f"bl-test-env/{uuid.uuid4().hex[:12]}"
