"""Rooms, limits, readings, alarms and excursions (issue 5; EQ-06, AC-06).

Reads need environment.view. A gateway posts readings with environment.ingest (POST /readings: only
registered, active sensors are stored, the rest are recorded as rejected and reported per item);
limits and sensors change with environment.configure and a reason; an alarm is acknowledged with an
electronic signature (environment.acknowledge). Writes go through environment.services and
environment.ingestion, which write the audit trail.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import AwareDatetime, Field, StrictBool, StrictInt

from batchline.api.audit import signature_out
from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.messages import DECIMAL_PATTERN
from batchline.api.schemas import ERRORS, In, PageQuery, SignatureIn, SignatureOut
from batchline.api.signing import signature_fields, signature_request
from batchline.core.errors import NotFound, ensure
from batchline.environment import selectors, services
from batchline.environment.choices import Channel
from batchline.environment.events import decimal
from batchline.environment.ingestion import Incoming, ingest_batch
from batchline.environment.limits import Limits, default_limits
from batchline.environment.models import Alarm, Excursion, GradeLimit, Reading, RoomLimit, Sensor
from batchline.identity.authz import authorize
from batchline.masterdata.models import Room

router = Router(tags=["environment"])

VIEW = "environment.view"
MAX_READINGS = 1000  # per POST /readings

ParameterValue = Literal["temperature", "humidity", "dp", "particles_0_5", "particles_5_0"]
GradeValue = Literal["A", "B", "C", "D", "CNC", "U"]
LevelValue = Literal["", "ok", "alert", "action"]


# --- schemas ------------------------------------------------------------------------------------------

class LimitsOut(Schema):
    alert_low: str | None = Field(description="Alert low limit, a decimal string; null: none. 警戒下限。")
    alert_high: str | None = Field(description="Alert high limit. 警戒上限。")
    action_low: str | None = Field(description="Action low limit. 行动下限。")
    action_high: str | None = Field(description="Action high limit. 行动上限。")


class SensorStatusOut(Schema):
    sensor: str = Field(description="Sensor id. 传感器编号。")
    parameter: ParameterValue = Field(description="Measured parameter. 监测参数。")
    unit: str = Field(description="Unit of the values. 单位。")
    value: str | None = Field(description="Latest value, a decimal string. 最新值（十进制字符串）。")
    quality: str = Field(description="Quality of the latest reading: good, uncertain, bad. 最新读数质量。")
    level: LevelValue = Field(description="Level of the latest good reading: ok, alert, action. 最新有效读数的级别。")
    measured_at: datetime | None = Field(description="Source timestamp of the latest reading. 最新读数的测量时间。")
    received_at: datetime | None = Field(description="When Batchline received it. 接收时间。")
    limits: LimitsOut
    limits_source: Literal["room", "grade", "default"] = Field(description=(
        "Where the limits come from: the room's own, the site's grade limits, the documented default. "
        "限度来源：房间自定义、本厂洁净级别限度、默认限度。"))


class RoomStatusOut(Schema):
    room: str = Field(description="Room code. 房间编码。")
    name_zh: str
    name_en: str
    grade: GradeValue = Field(description="Cleanroom grade. 洁净级别。")
    state: LevelValue = Field(description=(
        "Worst level of the room's sensors; empty when nothing was measured yet. 房间各传感器的最差级别。"))
    open_alarms: int = Field(description="Alarms not yet closed. 未关闭的报警数。")
    sensors: list[SensorStatusOut]


class ReadingOut(Schema):
    id: int
    sensor: str
    room: str
    parameter: ParameterValue
    value: str | None = Field(description="Decimal string; null only for a bad reading without a value. 数值。")
    unit: str
    measured_at: datetime = Field(description="Source timestamp. 测量时间（来源时间戳）。")
    received_at: datetime
    quality: Literal["good", "uncertain", "bad"]
    quality_note: str = Field(description=(
        "Why it is not good: sender, quality_missing, calibration_overdue. 非良好质量的原因。"))
    level: LevelValue = Field(description="Level of a good reading; empty otherwise. 有效读数的级别。")
    seq: int | None
    channel: Literal["mqtt", "api"]


class ReadingPage(Schema):
    items: list[ReadingOut]
    count: int
    page: int
    page_size: int


class ReadingQuery(Schema):
    room: str | None = Field(default=None, description="Room code. 房间编码。")
    parameter: ParameterValue | None = None
    sensor: str | None = Field(default=None, description="Sensor id. 传感器编号。")
    since: AwareDatetime | None = Field(default=None, description="Measured at or after. 测量时间起。")
    until: AwareDatetime | None = Field(default=None, description="Measured before. 测量时间止（不含）。")


class ReadingIn(In):
    """One reading as a gateway sends it (the same fields as the MQTT payload)."""

    sensor: str = Field(min_length=1, max_length=64, description="Registered sensor id. 已登记的传感器编号。")
    parameter: ParameterValue | None = Field(default=None, description=(
        "Measured parameter; must be the sensor's. 监测参数，须与传感器登记的一致。"))
    value: str | None = Field(pattern=DECIMAL_PATTERN, max_length=40, description=(
        "Measured value, a decimal string; null only when quality is bad. "
        "测量值（十进制字符串）；仅质量为 bad 时可为空。"))
    unit: str | None = Field(default=None, max_length=20, description=(
        "Unit: °C, %RH, Pa, /m³ (aliases accepted). 单位。"))
    ts: AwareDatetime = Field(description="Source timestamp with time zone. 测量时间（含时区）。")
    quality: Literal["good", "uncertain", "bad"] | None = Field(default=None, description=(
        "Quality stated by the source; missing is stored as uncertain. 来源质量；缺省按 uncertain 记录。"))
    seq: StrictInt | None = Field(default=None, description="Sender's sequence number. 发送方序号。")


class ReadingsIn(In):
    readings: list[ReadingIn] = Field(min_length=1, max_length=MAX_READINGS, description=(
        f"Up to {MAX_READINGS} readings. 至多 {MAX_READINGS} 条读数。"))


class IngestItemOut(Schema):
    index: int = Field(description="Position in the request. 在请求中的序号。")
    outcome: Literal["stored", "duplicate", "rejected"]
    reason: str = Field(description="Why it was rejected (unknown_sensor, ...). 拒收原因。")
    detail: str


class IngestOut(Schema):
    stored: int
    duplicates: int = Field(description="Already stored (same sensor and timestamp). 已存储的重复读数。")
    rejected: int = Field(description="Refused and recorded as rejected. 拒收并记录。")
    alarms_raised: int
    excursions: int
    results: list[IngestItemOut]


class AlarmOut(Schema):
    id: int
    alarm: str = Field(description="Alarm number. 报警编号。")
    room: str
    sensor: str
    parameter: ParameterValue
    unit: str
    level: Literal["alert", "action"]
    state: Literal["open", "acknowledged", "closed"]
    direction: Literal["high", "low"]
    first_value: str
    peak_value: str
    limits: LimitsOut = Field(description="Limits in force when it opened. 报警时生效的限度。")
    opened_at: datetime
    peak_at: datetime
    escalated_at: datetime | None
    cleared_at: datetime | None = Field(description="Back within alert limits. 回到警戒限内的时间。")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement_comment: str
    closed_at: datetime | None
    excursion: str | None = Field(description="The excursion, if it reached action level. 超限记录编号。")
    signature: SignatureOut | None


class AlarmPage(Schema):
    items: list[AlarmOut]
    count: int
    page: int
    page_size: int


class AlarmQuery(Schema):
    room: str | None = None
    state: Literal["open", "acknowledged", "closed", "unclosed"] | None = Field(default=None, description=(
        "unclosed: open or acknowledged. unclosed：未关闭（open 或 acknowledged）。"))


class AcknowledgeIn(In):
    signature: SignatureIn
    comment: str = Field(default="", max_length=2000, description="What was found or done. 说明。")


class ExcursionOut(Schema):
    id: int
    excursion: str
    alarm: str
    room: str
    sensor: str
    parameter: ParameterValue
    value: str
    unit: str
    measured_at: datetime
    raised_at: datetime
    limits: LimitsOut


class LimitsIn(In):
    """The four limits; a missing or null one means no limit on that side."""

    alert_low: str | None = Field(default=None, pattern=DECIMAL_PATTERN, max_length=40)
    alert_high: str | None = Field(default=None, pattern=DECIMAL_PATTERN, max_length=40)
    action_low: str | None = Field(default=None, pattern=DECIMAL_PATTERN, max_length=40)
    action_high: str | None = Field(default=None, pattern=DECIMAL_PATTERN, max_length=40)
    reason: str = Field(max_length=2000, description="Why: recorded in the audit trail. 变更原因。")


class RevertIn(In):
    reason: str = Field(max_length=2000, description="Why: recorded in the audit trail. 变更原因。")


class LimitRowOut(Schema):
    grade: GradeValue | None
    room: str | None
    parameter: ParameterValue
    limits: LimitsOut
    source: Literal["room", "grade", "default"]
    changed_at: datetime | None
    changed_by: str | None
    reason: str


class SensorOut(Schema):
    device_id: str
    room: str
    parameter: ParameterValue
    unit: str
    description: str
    active: bool
    calibrated_until: date | None
    registered_at: datetime
    registered_by: str


class SensorIn(In):
    device_id: str = Field(max_length=64, description=(
        "Sensor id: letters, digits, . _ -; also its MQTT topic level. 传感器编号，亦为 MQTT 主题层级。"))
    room: str = Field(max_length=40, description="Room code (approved room). 房间编码。")
    parameter: ParameterValue
    description: str = Field(default="", max_length=200)
    calibrated_until: date | None = Field(default=None, description=(
        "Readings measured after this date are stored as uncertain. 校准有效期；过期后读数记为 uncertain。"))
    reason: str = Field(default="", max_length=2000)


class SensorPatch(In):
    reason: str = Field(max_length=2000, description="Why: recorded in the audit trail. 变更原因。")
    active: StrictBool | None = None
    calibrated_until: date | None = None
    description: str | None = Field(default=None, max_length=200)


# --- helpers ------------------------------------------------------------------------------------------

def _view(request: HttpRequest) -> Any:
    actor = caller(request)
    authorize(actor, VIEW)
    return actor


def _room(code: str) -> Room:
    room = selectors.room_by_code(code)
    ensure(room is not None, NotFound(field="room"))
    assert room is not None
    return room


def _page(qs: QuerySet[Any], paging: PageQuery) -> tuple[list[Any], dict[str, int]]:
    start = (paging.page - 1) * paging.page_size
    return list(qs[start:start + paging.page_size]), {"count": qs.count(), "page": paging.page,
                                                      "page_size": paging.page_size}


def room_out(view: selectors.RoomView) -> dict[str, Any]:
    room = view.room
    return {"room": room.code, "name_zh": room.name_zh, "name_en": room.name_en, "grade": room.cleanroom_grade,
            "state": view.state, "open_alarms": view.open_alarms, "sensors": [{
                "sensor": s.sensor.device_id, "parameter": s.sensor.parameter, "unit": s.sensor.unit,
                "value": decimal(s.value), "quality": s.quality, "level": s.level, "measured_at": s.measured_at,
                "received_at": s.received_at, "limits": s.limits.limits.as_dict(), "limits_source": s.limits.source,
            } for s in view.sensors]}


def reading_out(reading: Reading) -> dict[str, Any]:
    return {"id": reading.pk, "sensor": reading.sensor.device_id, "room": reading.room.code,
            "parameter": reading.parameter, "value": decimal(reading.value), "unit": reading.unit,
            "measured_at": reading.source_ts, "received_at": reading.received_at, "quality": reading.quality,
            "quality_note": reading.quality_note, "level": reading.level, "seq": reading.seq,
            "channel": reading.channel}


def alarm_out(alarm: Alarm) -> dict[str, Any]:
    excursion = getattr(alarm, "excursion", None)  # a reverse one-to-one: absent below action level
    return {"id": alarm.pk, "alarm": str(alarm), "room": alarm.room.code, "sensor": alarm.sensor.device_id,
            "parameter": alarm.parameter, "unit": alarm.unit, "level": alarm.level, "state": alarm.state,
            "direction": alarm.direction, "first_value": decimal(alarm.first_value),
            "peak_value": decimal(alarm.peak_value), "limits": alarm.limits, "opened_at": alarm.opened_at,
            "peak_at": alarm.peak_at, "escalated_at": alarm.escalated_at, "cleared_at": alarm.cleared_at,
            "acknowledged_at": alarm.acknowledged_at,
            "acknowledged_by": alarm.acknowledged_by.username if alarm.acknowledged_by else None,
            "acknowledgement_comment": alarm.acknowledgement_comment, "closed_at": alarm.closed_at,
            "excursion": str(excursion) if excursion else None,
            "signature": signature_out(alarm.signature) if alarm.signature else None}


def excursion_out(excursion: Excursion) -> dict[str, Any]:
    return {"id": excursion.pk, "excursion": str(excursion), "alarm": str(excursion.alarm),
            "room": excursion.room.code, "sensor": excursion.sensor.device_id, "parameter": excursion.parameter,
            "value": decimal(excursion.value), "unit": excursion.unit, "measured_at": excursion.measured_at,
            "raised_at": excursion.raised_at, "limits": excursion.limits}


def sensor_out(sensor: Sensor) -> dict[str, Any]:
    return {"device_id": sensor.device_id, "room": sensor.room.code, "parameter": sensor.parameter,
            "unit": sensor.unit, "description": sensor.description, "active": sensor.active,
            "calibrated_until": sensor.calibrated_until, "registered_at": sensor.registered_at,
            "registered_by": sensor.registered_by.username}


def _limit_row(row: GradeLimit | RoomLimit | None, *, grade: str | None, room: str | None, parameter: str,
               limits: Limits, source: str) -> dict[str, Any]:
    return {"grade": grade, "room": room, "parameter": parameter, "limits": limits.as_dict(), "source": source,
            "changed_at": row.changed_at if row else None, "changed_by": row.changed_by.username if row else None,
            "reason": row.reason if row else ""}


def _alarm(alarm_id: int) -> Alarm:
    alarm = selectors.alarms().filter(pk=alarm_id).first()
    ensure(alarm is not None, NotFound(field="alarm_id"))
    assert alarm is not None
    return alarm


# --- rooms, readings ------------------------------------------------------------------------------------

@router.get("/rooms", response={200: list[RoomStatusOut], **ERRORS})
def environment_rooms(request: HttpRequest) -> list[dict[str, Any]]:
    """Every approved room with its sensors' latest values, levels and limits."""
    _view(request)
    return [room_out(view) for view in selectors.room_views()]


@router.get("/rooms/{code}", response={200: RoomStatusOut, **ERRORS})
def environment_room(request: HttpRequest, code: str) -> dict[str, Any]:
    _view(request)
    return room_out(selectors.room_view(_room(code)))


@router.get("/readings", response={200: ReadingPage, **ERRORS})
def environment_readings(request: HttpRequest, query: Query[ReadingQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    """Readings in measuring order, by room, parameter, sensor and time range."""
    _view(request)
    sensor = services.sensor_by_device_id(query.sensor) if query.sensor else None
    qs = selectors.readings(room=_room(query.room) if query.room else None, parameter=query.parameter or "",
                            sensor=sensor, since=query.since, until=query.until)
    rows, meta = _page(qs, paging)
    return {"items": [reading_out(r) for r in rows], **meta}


@router.post("/readings", response={200: IngestOut, **ERRORS})
def environment_ingest(request: HttpRequest, payload: ReadingsIn) -> HttpResponse:
    """A gateway's readings (environment.ingest). Each is stored once per (sensor, timestamp); one of an
    unregistered or inactive sensor, or not matching its sensor, is recorded as rejected (AC-06)."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        items = []
        for reading in payload.readings:
            data = reading.model_dump(exclude_none=True)
            if reading.value is None:
                data["value"] = None
            items.append(Incoming(data, "", json.dumps(reading.model_dump(mode="json"), ensure_ascii=False)))
        result = ingest_batch(items, actor=actor, channel=Channel.API)
        return 200, {"stored": result.stored, "duplicates": result.duplicates, "rejected": result.rejected,
                     "alarms_raised": result.alarms_raised, "excursions": result.excursions,
                     "results": [{"index": i, "outcome": o.outcome, "reason": o.reason, "detail": o.detail}
                                 for i, o in enumerate(result.outcomes)]}

    return respond(request, action)


# --- alarms and excursions ---------------------------------------------------------------------------------

@router.get("/alarms", response={200: AlarmPage, **ERRORS})
def environment_alarms(request: HttpRequest, query: Query[AlarmQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    """Alarms, newest first."""
    _view(request)
    room = _room(query.room) if query.room else None
    qs = (selectors.alarms(room=room, unclosed=True) if query.state == "unclosed"
          else selectors.alarms(room=room, state=query.state or ""))
    rows, meta = _page(qs, paging)
    return {"items": [alarm_out(a) for a in rows], **meta}


@router.get("/alarms/{int:alarm_id}", response={200: AlarmOut, **ERRORS})
def environment_alarm(request: HttpRequest, alarm_id: int) -> dict[str, Any]:
    _view(request)
    return alarm_out(_alarm(alarm_id))


@router.post("/alarms/{int:alarm_id}/acknowledge", response={200: AlarmOut, **ERRORS})
def environment_acknowledge_alarm(request: HttpRequest, alarm_id: int, payload: AcknowledgeIn) -> HttpResponse:
    """Acknowledge an open alarm with an electronic signature (meaning "acknowledge")."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        with signature_fields():
            services.acknowledge_alarm(actor=actor, alarm_id=alarm_id, comment=payload.comment,
                                       signature=signature_request(actor, payload.signature))
        return 200, alarm_out(_alarm(alarm_id))

    return respond(request, action)


@router.get("/excursions", response={200: list[ExcursionOut], **ERRORS})
def environment_excursions(request: HttpRequest, room: str | None = None) -> list[dict[str, Any]]:
    """Excursions (alarms that reached action level), newest first; at most 200."""
    _view(request)
    return [excursion_out(e) for e in selectors.excursions(room=_room(room) if room else None)[:200]]


# --- limits ---------------------------------------------------------------------------------------------

@router.get("/limits", response={200: list[LimitRowOut], **ERRORS})
def environment_limits(request: HttpRequest, room: str | None = None) -> list[dict[str, Any]]:
    """Without `room`: the limits of every grade and parameter (the site's or the default). With `room`:
    the limits that judge that room's readings, and where each comes from."""
    _view(request)
    if room:
        found = _room(room)
        own = {r.parameter: r for r in RoomLimit.objects.filter(room=found, active=True).select_related("changed_by")}
        grade = {r.parameter: r for r in GradeLimit.objects.filter(grade=found.cleanroom_grade, active=True)
                 .select_related("changed_by")}
        rows = []
        for (_room_id, parameter), source in selectors.limits_in_force([found]).items():
            row = own.get(parameter) if source.source == "room" else grade.get(parameter)
            rows.append(_limit_row(row if source.source != "default" else None, grade=found.cleanroom_grade,
                                   room=found.code, parameter=parameter, limits=source.limits, source=source.source))
        return rows
    return [_limit_row(row["site"] if row["source"] == "grade" else None, grade=row["grade"].value, room=None,
                       parameter=row["parameter"].value, limits=row["limits"], source=row["source"])
            for row in selectors.grade_table()]


def _limits(payload: LimitsIn) -> Limits:
    return services.parse_limits(payload.model_dump(exclude={"reason"}))


@router.put("/limits/grades/{grade}/{parameter}", response={200: LimitRowOut, **ERRORS})
def environment_set_grade_limits(request: HttpRequest, grade: str, parameter: str, payload: LimitsIn) -> HttpResponse:
    """The site's limits for one parameter of one cleanroom grade (environment.configure)."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        row = services.set_grade_limits(actor=actor, grade=grade, parameter=parameter, limits=_limits(payload),
                                        reason=payload.reason)
        assert row is not None
        return 200, _limit_row(row, grade=grade, room=None, parameter=parameter, limits=Limits.of(row),
                               source="grade")

    return respond(request, action)


@router.post("/limits/grades/{grade}/{parameter}/revert", response={200: LimitRowOut, **ERRORS})
def environment_revert_grade_limits(request: HttpRequest, grade: str, parameter: str,
                                    payload: RevertIn) -> HttpResponse:
    """Back to the documented default for the grade."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        services.set_grade_limits(actor=actor, grade=grade, parameter=parameter, limits=None, reason=payload.reason)
        return 200, _limit_row(None, grade=grade, room=None, parameter=parameter,
                               limits=default_limits(grade, parameter), source="default")

    return respond(request, action)


@router.put("/limits/rooms/{code}/{parameter}", response={200: LimitRowOut, **ERRORS})
def environment_set_room_limits(request: HttpRequest, code: str, parameter: str, payload: LimitsIn) -> HttpResponse:
    """One room's own limits for one parameter (environment.configure)."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        row = services.set_room_limits(actor=actor, room_code=code, parameter=parameter, limits=_limits(payload),
                                       reason=payload.reason)
        assert row is not None
        return 200, _limit_row(row, grade=row.room.cleanroom_grade, room=code, parameter=parameter,
                               limits=Limits.of(row), source="room")

    return respond(request, action)


@router.post("/limits/rooms/{code}/{parameter}/revert", response={200: LimitRowOut, **ERRORS})
def environment_revert_room_limits(request: HttpRequest, code: str, parameter: str, payload: RevertIn) -> HttpResponse:
    """Back to the grade's limits for this room."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        services.set_room_limits(actor=actor, room_code=code, parameter=parameter, limits=None, reason=payload.reason)
        room = _room(code)
        source = selectors.limits_in_force([room])[(room.pk, parameter)]
        return 200, _limit_row(None, grade=room.cleanroom_grade, room=code, parameter=parameter,
                               limits=source.limits, source=source.source)

    return respond(request, action)


# --- sensors ------------------------------------------------------------------------------------------

@router.get("/sensors", response={200: list[SensorOut], **ERRORS})
def environment_sensors(request: HttpRequest, room: str | None = None) -> list[dict[str, Any]]:
    _view(request)
    qs = Sensor.objects.select_related("room", "registered_by")
    if room:
        qs = qs.filter(room=_room(room))
    return [sensor_out(s) for s in qs]


@router.post("/sensors", response={201: SensorOut, **ERRORS})
def environment_register_sensor(request: HttpRequest, payload: SensorIn) -> HttpResponse:
    """Register a sensor so that its readings are accepted (environment.configure; AC-06)."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        sensor = services.register_sensor(actor=actor, reason=payload.reason, registration=services.SensorRegistration(
            device_id=payload.device_id, room=payload.room, parameter=payload.parameter,
            description=payload.description, calibrated_until=payload.calibrated_until))
        return 201, sensor_out(services.sensor_by_device_id(sensor.device_id))

    return respond(request, action)


@router.patch("/sensors/{device_id}", response={200: SensorOut, **ERRORS})
def environment_change_sensor(request: HttpRequest, device_id: str, payload: SensorPatch) -> HttpResponse:
    """Switch a sensor off or on, record its calibration date or change its description, with a reason."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        changes: dict[str, Any] = {}
        if "calibrated_until" in payload.model_fields_set:
            changes["calibrated_until"] = payload.calibrated_until
        services.change_sensor(actor=actor, device_id=device_id, reason=payload.reason, active=payload.active,
                               description=payload.description, **changes)
        return 200, sensor_out(services.sensor_by_device_id(device_id))

    return respond(request, action)
