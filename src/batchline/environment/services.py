"""Room-monitoring actions of people: limits by grade and per room, sensor registration and changes,
and the signed acknowledgement of alarms. Each is one transaction with its audit entry.
Readings are taken in by environment.ingestion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import plain, record_change, require_reason
from batchline.compliance.signatures import SignatureRequest, sign
from batchline.core import clock
from batchline.core.errors import InvalidInput, NotFound, ensure
from batchline.core.quantity import to_decimal
from batchline.environment.choices import UNITS, AlarmState, Parameter
from batchline.environment.errors import (
    AlarmNotOpen,
    LimitsOutOfOrder,
    RoomNotMonitorable,
    SensorExists,
    UnknownSensor,
)
from batchline.environment.events import ACKNOWLEDGED, alarm_payload
from batchline.environment.limits import Limits, check_order, default_limits
from batchline.environment.models import VALUE_DIGITS, VALUE_PLACES, Alarm, GradeLimit, RoomLimit, Sensor, SensorState
from batchline.identity.authz import authorize
from batchline.masterdata.choices import CleanroomGrade, RecordStatus
from batchline.masterdata.models import Room

CONFIGURE = "environment.configure"
ACKNOWLEDGE = "environment.acknowledge"
ALARM_RECORD_TYPE = "environment.alarm"  # the signature meanings' record type (apps.py)
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # also a valid MQTT topic level
LIMIT_FIELDS = ("alert_low", "alert_high", "action_low", "action_high")


# --- limits -------------------------------------------------------------------------------------------

def parse_limits(values: dict[str, Any]) -> Limits:
    """Four optional decimals (strings, ints or Decimals; empty = no limit), in order on the scale."""
    parsed: dict[str, Any] = {}
    largest = 10 ** (VALUE_DIGITS - VALUE_PLACES)
    for name in LIMIT_FIELDS:
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            parsed[name] = None
            continue
        number = to_decimal(raw, field=name)
        ensure(abs(number) < largest and -number.as_tuple().exponent <= VALUE_PLACES,  # type: ignore[operator]
               InvalidInput(_("At most {places} decimal places and {digits} digits."), field=name,
                            places=VALUE_PLACES, digits=VALUE_DIGITS))
        parsed[name] = number
    limits = Limits(**parsed)
    ensure(check_order(limits), LimitsOutOfOrder(field="alert_low"))
    return limits


def _parameter(value: str) -> str:
    ensure(value in Parameter.values, InvalidInput(_("Unknown parameter '{parameter}'."), field="parameter",
                                                   parameter=value))
    return value


def _limit_changes(row: Any, limits: Limits | None, active: bool) -> dict[str, list[Any]]:
    before = {name: getattr(row, name) for name in LIMIT_FIELDS} if row is not None else {}
    before["active"] = row.active if row is not None else None
    after: dict[str, Any] = {name: getattr(limits, name) if limits else before.get(name) for name in LIMIT_FIELDS}
    after["active"] = active
    return {k: [plain(before.get(k)), plain(after[k])] for k in after if before.get(k) != after[k]}


def set_grade_limits(*, actor: Any, grade: str, parameter: str, limits: Limits | None,
                     reason: str) -> GradeLimit | None:
    """The site's limits for a parameter of a grade; None returns the grade to the documented default."""
    authorize(actor, CONFIGURE)
    ensure(grade in CleanroomGrade.values, InvalidInput(_("Unknown cleanroom grade '{grade}'."), field="grade",
                                                         grade=grade))
    _parameter(parameter)
    reason = require_reason(reason)
    if limits is not None:
        ensure(check_order(limits), LimitsOutOfOrder(field="alert_low"))
    with transaction.atomic():
        row = GradeLimit.objects.select_for_update().filter(grade=grade, parameter=parameter).first()
        if row is None and limits is None:
            return None
        changes = _limit_changes(row, limits, limits is not None)
        row = _save_limits(row or GradeLimit(grade=grade, parameter=parameter), actor, limits, reason)
        record_change(actor, row, action="set_limits" if limits else "revert_limits", changes=changes,
                      reason=reason, label=f"{grade} {parameter}")
        return row


def set_room_limits(*, actor: Any, room_code: str, parameter: str, limits: Limits | None,
                    reason: str) -> RoomLimit | None:
    """One room's own limits for a parameter; None returns the room to its grade's limits."""
    authorize(actor, CONFIGURE)
    _parameter(parameter)
    reason = require_reason(reason)
    if limits is not None:
        ensure(check_order(limits), LimitsOutOfOrder(field="alert_low"))
    with transaction.atomic():
        room = _room(room_code)
        row = RoomLimit.objects.select_for_update().filter(room=room, parameter=parameter).first()
        if row is None and limits is None:
            return None
        changes = _limit_changes(row, limits, limits is not None)
        row = _save_limits(row or RoomLimit(room=room, parameter=parameter), actor, limits, reason)
        record_change(actor, row, action="set_limits" if limits else "revert_limits", changes=changes,
                      reason=reason, label=f"{room.code} {parameter}")
        return row


def _save_limits(row: Any, actor: Any, limits: Limits | None, reason: str) -> Any:
    if limits is not None:
        for name in LIMIT_FIELDS:
            setattr(row, name, getattr(limits, name))
    row.active = limits is not None
    row.changed_at, row.changed_by, row.reason = clock.now(), actor, reason
    row.save()
    return row


def _room(code: str) -> Room:
    room = Room.objects.filter(code=(code or "").strip()).first()
    ensure(room is not None and room.status == RecordStatus.APPROVED,
           RoomNotMonitorable(field="room", room=code))
    assert room is not None
    return room


# --- sensors ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SensorRegistration:
    device_id: str
    room: str  # room code
    parameter: str
    description: str = ""
    calibrated_until: date | None = None


def _sensor_content(sensor: Sensor) -> dict[str, Any]:
    return {"device_id": sensor.device_id, "room": sensor.room.code, "parameter": sensor.parameter,
            "unit": sensor.unit, "description": sensor.description, "active": sensor.active,
            "calibrated_until": sensor.calibrated_until}


def register_sensor(*, actor: Any, registration: SensorRegistration, reason: str = "") -> Sensor:
    """Register a device so that its readings are accepted (AC-06): its id, room and parameter."""
    authorize(actor, CONFIGURE)
    device_id = (registration.device_id or "").strip()
    ensure(DEVICE_ID.match(device_id), InvalidInput(
        _("A sensor id is 1 to 64 letters, digits, dots, dashes or underscores."), field="device_id"))
    parameter = _parameter(registration.parameter)
    with transaction.atomic():
        room = _room(registration.room)
        ensure(not Sensor.objects.filter(device_id=device_id).exists(),
               SensorExists(field="device_id", device_id=device_id))
        sensor = Sensor.objects.create(
            device_id=device_id, room=room, parameter=parameter, unit=UNITS[parameter],
            description=registration.description.strip()[:200], calibrated_until=registration.calibrated_until,
            registered_at=clock.now(), registered_by=actor)
        SensorState.objects.create(sensor=sensor)
        content = _sensor_content(sensor)
        record_change(actor, sensor, action="register", changes={k: [None, plain(v)] for k, v in content.items()},
                      reason=reason.strip())
        return sensor


def standard_registrations(room: Room, prefix: str = "") -> list[SensorRegistration]:
    """One sensor per parameter that the room's grade has limits for (by the documented defaults),
    named <kind>-<room code>: TT temperature, HT humidity, PT differential pressure, PC05 and PC50
    particle counters. For setting up a plant or the demo; each is then registered with register_sensor."""
    names = {Parameter.TEMPERATURE: "TT", Parameter.HUMIDITY: "HT", Parameter.DIFFERENTIAL_PRESSURE: "PT",
             Parameter.PARTICLES_05: "PC05", Parameter.PARTICLES_50: "PC50"}
    return [SensorRegistration(device_id=f"{prefix}{names[parameter]}-{room.code}", room=room.code,
                               parameter=parameter)
            for parameter in Parameter if default_limits(room.cleanroom_grade, parameter).is_set]


_UNCHANGED: Any = object()


def change_sensor(*, actor: Any, device_id: str, reason: str, active: bool | None = None,
                  calibrated_until: Any = _UNCHANGED, description: str | None = None) -> Sensor:
    """Switch a sensor off or on, record its calibration date or change its description (with a reason).
    Room and parameter never change: a sensor moved to another room is registered again."""
    authorize(actor, CONFIGURE)
    reason = require_reason(reason)
    with transaction.atomic():
        sensor = Sensor.objects.select_for_update().select_related("room").filter(device_id=device_id).first()
        ensure(sensor is not None, UnknownSensor(field="device_id", device_id=device_id))
        assert sensor is not None
        before = _sensor_content(sensor)
        if active is not None:
            sensor.active = active
        if calibrated_until is not _UNCHANGED:
            sensor.calibrated_until = calibrated_until
        if description is not None:
            sensor.description = description.strip()[:200]
        after = _sensor_content(sensor)
        changes = {k: [plain(before[k]), plain(after[k])] for k in after if before[k] != after[k]}
        ensure(changes, InvalidInput(_("Nothing was changed."), field="reason"))
        sensor.save(update_fields=["active", "calibrated_until", "description"])
        record_change(actor, sensor, action="change", changes=changes, reason=reason)
        return sensor


def sensor_by_device_id(device_id: str) -> Sensor:
    sensor = Sensor.objects.select_related("room").filter(device_id=device_id).first()
    if sensor is None:
        raise UnknownSensor(field="device_id", device_id=device_id)
    return sensor


# --- alarms -------------------------------------------------------------------------------------------

def acknowledge_alarm(*, actor: Any, alarm_id: int, signature: SignatureRequest, comment: str = "",
                      username_required: bool = True) -> Alarm:
    """A person acknowledges an open alarm with an electronic signature (meaning "acknowledge").
    An alarm already back within limits closes with it; otherwise it closes when the readings return."""
    authorize(actor, ACKNOWLEDGE)
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().filter(pk=alarm_id).first()
        ensure(alarm is not None, NotFound(_("There is no alarm {alarm}."), field="alarm", alarm=alarm_id))
        assert alarm is not None
        ensure(alarm.state == AlarmState.OPEN,
               AlarmNotOpen(alarm=str(alarm), state=AlarmState(alarm.state).label))
        # an alarm escalated after an acknowledgement is acknowledged again: the audit shows the first one
        before = alarm.state
        before_by, before_at = (alarm.acknowledged_by.username if alarm.acknowledged_by else None,
                                alarm.acknowledged_at)
        now = clock.now()
        alarm.state = AlarmState.CLOSED if alarm.cleared_at is not None else AlarmState.ACKNOWLEDGED
        alarm.acknowledged_at, alarm.acknowledged_by = now, actor
        alarm.acknowledgement_comment = comment.strip()
        if alarm.state == AlarmState.CLOSED:
            alarm.closed_at = now
        signed = sign(actor=actor, request=signature, record=alarm, username_required=username_required,
                      record_type=ALARM_RECORD_TYPE)
        alarm.signature = signed
        alarm.save()
        changes = {"state": [before, alarm.state], "acknowledged_by": [before_by, actor.username],
                   "acknowledged_at": [before_at, now]}
        record_change(actor, alarm, action="acknowledge", changes=changes, reason=alarm.acknowledgement_comment,
                      signature=signed, event=ACKNOWLEDGED, payload=alarm_payload(alarm),
                      record_type=ALARM_RECORD_TYPE)
        return alarm
