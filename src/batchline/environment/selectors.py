"""Reads for the screens, the API and ingestion: limits in force, room states, trends, alarms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet

from batchline.core import clock
from batchline.environment.choices import LEVEL_RANK, UNITS, AlarmState, Parameter
from batchline.environment.limits import Limits, default_limits
from batchline.environment.models import Alarm, Excursion, GradeLimit, Reading, RejectedReading, RoomLimit, Sensor
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Room

PARAMETERS = [p.value for p in Parameter]
TREND_HOURS = 4
MAX_TREND_POINTS = 2000  # per sensor; older points are thinned beyond this


# --- limits ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LimitSource:
    limits: Limits
    source: str  # "room", "grade" or "default"


def grade_limits() -> dict[tuple[str, str], Limits]:
    """The site's own grade limits in force, by (grade, parameter)."""
    return {(row.grade, row.parameter): Limits.of(row) for row in GradeLimit.objects.filter(active=True)}


def limits_in_force(rooms: Iterable[Room]) -> dict[tuple[int, str], LimitSource]:
    """The limits that judge each (room id, parameter): the room's own, else its grade's site limits,
    else the documented default for its grade."""
    return limits_by_room({room.pk: room.cleanroom_grade for room in rooms})


def limits_by_room(grades: dict[int, str]) -> dict[tuple[int, str], LimitSource]:
    """limits_in_force() for rooms given as {room id: cleanroom grade}."""
    by_grade = grade_limits()
    by_room = {(room_id, parameter): Limits(*values) for room_id, parameter, *values in RoomLimit.objects.filter(
        active=True, room__in=list(grades)).values_list("room_id", "parameter", "alert_low", "alert_high",
                                                         "action_low", "action_high")}
    out: dict[tuple[int, str], LimitSource] = {}
    for room_id, grade in grades.items():
        for parameter in PARAMETERS:
            if (room_id, parameter) in by_room:
                out[(room_id, parameter)] = LimitSource(by_room[(room_id, parameter)], "room")
            elif (grade, parameter) in by_grade:
                out[(room_id, parameter)] = LimitSource(by_grade[(grade, parameter)], "grade")
            else:
                out[(room_id, parameter)] = LimitSource(default_limits(grade, parameter), "default")
    return out


def grade_table() -> list[dict[str, Any]]:
    """Per grade and parameter: the default, the site's limits if any, and which is in force."""
    from batchline.masterdata.choices import CleanroomGrade

    site = {(row.grade, row.parameter): row for row in GradeLimit.objects.select_related("changed_by")}
    rows = []
    for grade in CleanroomGrade:
        for parameter in Parameter:
            own = site.get((grade.value, parameter.value))
            in_force = own is not None and own.active
            rows.append({"grade": grade, "parameter": parameter, "unit": UNITS[parameter],
                         "default": default_limits(grade.value, parameter.value),
                         "site": own, "limits": Limits.of(own) if in_force else default_limits(grade.value,
                                                                                                  parameter.value),
                         "source": "grade" if in_force else "default"})
    return rows


# --- rooms and their states -------------------------------------------------------------------------

def monitored_rooms() -> QuerySet[Room]:
    """Approved rooms, in code order."""
    return Room.objects.filter(status=RecordStatus.APPROVED).select_related("area").order_by("code")


def room_by_code(code: str) -> Room | None:
    return Room.objects.filter(code=code).select_related("area").first()


@dataclass
class SensorView:
    sensor: Sensor
    limits: LimitSource
    level: str
    value: Any
    quality: str
    measured_at: datetime | None
    received_at: datetime | None


@dataclass
class RoomView:
    room: Room
    sensors: list[SensorView] = field(default_factory=list)
    open_alarms: int = 0
    state: str = ""  # "", ok, alert, action: the worst level of its active sensors

    @property
    def monitored(self) -> bool:
        return bool(self.sensors)


def _worst(levels: Iterable[str]) -> str:
    worst = ""
    for level in levels:
        if level and (not worst or LEVEL_RANK[level] > LEVEL_RANK[worst]):
            worst = level
    return worst


def room_views(rooms: Iterable[Room] | None = None) -> list[RoomView]:
    """Each room with its active sensors' latest values and levels, and its count of unclosed alarms."""
    rooms = list(monitored_rooms() if rooms is None else rooms)
    limits = limits_in_force(rooms)
    sensors = (Sensor.objects.filter(room__in=[r.pk for r in rooms], active=True)
               .select_related("state").order_by("parameter", "device_id"))
    alarms = dict(Alarm.objects.filter(room__in=[r.pk for r in rooms]).exclude(state=AlarmState.CLOSED)
                  .values("room").annotate(n=Count("id")).values_list("room", "n"))
    views = {room.pk: RoomView(room, open_alarms=alarms.get(room.pk, 0)) for room in rooms}
    order = {p: i for i, p in enumerate(PARAMETERS)}
    for sensor in sorted(sensors, key=lambda s: (order[s.parameter], s.device_id)):
        state = getattr(sensor, "state", None)
        views[sensor.room_id].sensors.append(SensorView(
            sensor=sensor, limits=limits[(sensor.room_id, sensor.parameter)],
            level=state.level if state else "", value=state.last_value if state else None,
            quality=state.last_quality if state else "", measured_at=state.last_source_ts if state else None,
            received_at=state.last_received_at if state else None))
    for view in views.values():
        view.state = _worst(s.level for s in view.sensors)
    return [views[room.pk] for room in rooms]


def room_view(room: Room) -> RoomView:
    return room_views([room])[0]


# --- readings and trends ----------------------------------------------------------------------------

def readings(*, room: Room | None = None, parameter: str = "", sensor: Sensor | None = None,
             since: datetime | None = None, until: datetime | None = None) -> QuerySet[Reading]:
    qs = Reading.objects.select_related("sensor", "room")
    if sensor is not None:
        qs = qs.filter(sensor=sensor)
    elif room is not None:
        sensor_ids = Sensor.objects.filter(room=room)
        if parameter:
            sensor_ids = sensor_ids.filter(parameter=parameter)
        qs = qs.filter(sensor__in=list(sensor_ids.values_list("pk", flat=True)))
    elif parameter:
        qs = qs.filter(parameter=parameter)
    if since is not None:
        qs = qs.filter(source_ts__gte=since)
    if until is not None:
        qs = qs.filter(source_ts__lt=until)
    return qs.order_by("source_ts", "sensor_id")


def _site_millis(moment: datetime) -> int:
    """Milliseconds of the site's wall-clock time read as UTC: a chart drawing in UTC then shows the
    site's time whatever the browser's zone (as every time on the screens is the site's)."""
    local = clock.to_site(moment)
    return int((local.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds() * 1000)


def trend(room: Room, hours: float = TREND_HOURS) -> dict[str, Any]:
    """The room's readings of the last `hours` per sensor, for the chart: [measured at (site wall-clock
    milliseconds, see _site_millis), value, quality] points, with the limits in force. Long series are
    thinned to MAX_TREND_POINTS."""
    since = clock.now() - timedelta(hours=hours)
    view = room_view(room)
    series = []
    for item in view.sensors:
        rows = list(Reading.objects.filter(sensor=item.sensor, source_ts__gte=since)
                    .order_by("source_ts").values_list("source_ts", "value", "quality"))
        step = max(1, -(-len(rows) // MAX_TREND_POINTS))
        points = [[_site_millis(ts), None if value is None else format(value, "f"), quality]
                  for ts, value, quality in rows[::step]]
        series.append({"sensor": item.sensor.device_id, "parameter": item.sensor.parameter,
                       "label": str(Parameter(item.sensor.parameter).label), "unit": item.sensor.unit,
                       "level": item.level, "limits": item.limits.limits.as_dict(), "points": points})
    return {"room": room.code, "state": view.state, "since": since, "series": series}


# --- alarms -------------------------------------------------------------------------------------------

def alarms(*, room: Room | None = None, state: str = "", unclosed: bool = False) -> QuerySet[Alarm]:
    qs = Alarm.objects.select_related("room", "sensor", "acknowledged_by", "signature", "excursion")
    if room is not None:
        qs = qs.filter(room=room)
    if unclosed:
        qs = qs.exclude(state=AlarmState.CLOSED)
    elif state:
        qs = qs.filter(state=state)
    return qs.order_by("-opened_at", "-id")


def excursions(*, room: Room | None = None) -> QuerySet[Excursion]:
    qs = Excursion.objects.select_related("room", "sensor", "alarm")
    return qs.filter(room=room) if room is not None else qs


def rejected(*, since: datetime | None = None) -> QuerySet[RejectedReading]:
    qs = RejectedReading.objects.all()
    return qs.filter(received_at__gte=since) if since is not None else qs

