"""Taking in readings (EQ-06, AC-06): check, store once, judge against the limits, raise alarms.

ingest_batch() takes readings as they arrived (a decoded MQTT payload with its topic, or one item of
an API request) and, in one transaction:

1. checks each against its registered sensor: an unknown or inactive sensor, a topic naming another
   room, another parameter or unit, a malformed value or timestamp is refused and recorded as a
   RejectedReading, never stored as a reading (AC-06);
2. stores the rest with one INSERT … ON CONFLICT DO NOTHING RETURNING: a (sensor, source timestamp)
   already stored — a redelivered MQTT message, a gateway's retry — is a duplicate and is skipped
   here, so everything after this step happens once per reading whatever the redelivery;
3. judges the new *good* readings against the limits in force (uncertain and bad ones, and those of
   a sensor past its calibration date, are stored as what they are and judged never);
4. per sensor, in source-time order, under the lock of the sensor's state row: opens an alarm at
   the first reading beyond the alert or action limits, escalates it when a reading reaches action
   level, clears it at the first newer good reading back within the alert limits. Reaching action
   level makes an Excursion (one per alarm), the outbox event `environment.excursion` and the domain
   event of the same name, which quality turns into a deviation.

Everything alarms do is audited (record_change); readings themselves are append-only raw data.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, DecimalException
from typing import Any

from django.db import connection, transaction

from batchline.compliance.audit import record_change
from batchline.core import clock
from batchline.core.events import DomainEvent, publish
from batchline.environment.choices import (
    COUNT_PARAMETERS,
    UNIT_ALIASES,
    AlarmState,
    Channel,
    Level,
    Quality,
    QualityNote,
    Rejection,
)
from batchline.environment.events import (
    CLEARED,
    ESCALATED,
    EXCURSION,
    RAISED,
    alarm_payload,
    excursion_payload,
)
from batchline.environment.limits import Limits
from batchline.environment.models import (
    VALUE_DIGITS,
    VALUE_PLACES,
    Alarm,
    Excursion,
    Reading,
    RejectedReading,
    Sensor,
    SensorState,
)
from batchline.environment.selectors import LimitSource, limits_by_room
from batchline.identity.authz import authorize

log = logging.getLogger("batchline.environment")

INGEST = "environment.ingest"
FUTURE_TOLERANCE = timedelta(minutes=5)  # sender clocks run a little ahead; further is refused
INSERT_CHUNK = 500
PAYLOAD_KEPT = 4000  # characters of a refused message kept with the refusal
_LARGEST = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES)
_QUANTUM = Decimal(1).scaleb(-VALUE_PLACES)
_QUALITIES = {"good": Quality.GOOD, "uncertain": Quality.UNCERTAIN, "bad": Quality.BAD}


@dataclass(frozen=True)
class Incoming:
    """One reading as it arrived: the decoded JSON object (None when the payload was not one), the MQTT
    topic ("" over the API) and the raw bytes, kept only if the reading is refused."""

    data: Mapping[str, Any] | None
    topic: str = ""
    raw: bytes | str = b""


def decode(topic: str, payload: bytes) -> Incoming:
    """An MQTT message → Incoming. JSON numbers are read as exact decimals, never as floats."""
    try:
        data = json.loads(payload, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        data = None
    return Incoming(data if isinstance(data, dict) else None, topic, payload)


@dataclass(frozen=True)
class Outcome:
    outcome: str  # stored, duplicate, rejected
    reason: str = ""  # Rejection code when rejected
    detail: str = ""


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alarms_raised: int = 0
    excursions: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, reason: Rejection, detail: str = "") -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class _Sensor:
    """What checking and judging need of a registered sensor (read as plain values: cheaper than models)."""

    pk: int
    device_id: str
    room_id: int
    room_code: str
    grade: str
    parameter: str
    unit: str
    active: bool
    calibrated_until: date | None


_SENSOR_FIELDS = ("pk", "device_id", "room_id", "room__code", "room__cleanroom_grade", "parameter", "unit",
                  "active", "calibrated_until")


@dataclass
class _Row:
    index: int
    sensor: _Sensor
    value: Decimal | None
    ts: datetime
    quality: str
    note: str
    seq: int | None
    level: str
    id: int | None = None


# --- the entry points -------------------------------------------------------------------------------

def ingest_reading(item: Incoming, *, actor: Any = None, channel: str = Channel.MQTT) -> IngestResult:
    return ingest_batch([item], actor=actor, channel=channel)


def ingest_batch(items: Sequence[Incoming], *, actor: Any = None, channel: str = Channel.MQTT) -> IngestResult:
    """Check, store and judge readings in one transaction (see the module's description).

    `actor` is the API account that posted them (it needs environment.ingest); the MQTT ingestion
    process passes None: there the broker and the sensor registry decide who may send.
    """
    if actor is not None:
        authorize(actor, INGEST)
    result = IngestResult(outcomes=[Outcome("")] * len(items))
    if not items:
        return result
    now = clock.now()
    sender = getattr(actor, "username", "")
    with transaction.atomic():
        sensors = _sensors(items)
        rows: list[_Row] = []
        refusals: list[RejectedReading] = []
        for index, item in enumerate(items):
            try:
                rows.append(_check(index, item, sensors, now))
            except _Refused as refused:
                result.outcomes[index] = Outcome("rejected", refused.reason, refused.detail)
                refusals.append(_refusal(item, refused, now, channel, sender))
        if refusals:
            RejectedReading.objects.bulk_create(refusals)
            result.rejected = len(refusals)
        if rows:
            limits = _judge(rows)
            stored = _store(rows, now, channel)
            new = {id(row) for row in stored}
            for row in rows:
                result.outcomes[row.index] = Outcome("stored" if id(row) in new else "duplicate")
            result.stored = len(stored)
            result.duplicates = len(rows) - len(stored)
            if stored:
                _evaluate(stored, limits, now, actor, result)
    return result


# --- checking -----------------------------------------------------------------------------------------

def _sensors(items: Iterable[Incoming]) -> dict[str, _Sensor]:
    ids = set()
    for item in items:
        device = _device_id(item)
        if device and "\x00" not in device:  # PostgreSQL cannot even compare it; no sensor has one
            ids.add(device)
    rows = Sensor.objects.filter(device_id__in=ids).values_list(*_SENSOR_FIELDS)
    return {row[1]: _Sensor(*row) for row in rows}


def _device_id(item: Incoming) -> str:
    if item.data is not None:
        sensor = item.data.get("sensor")
        if isinstance(sensor, str) and sensor:
            return sensor
    if item.topic:
        return item.topic.rsplit("/", 1)[-1]
    return ""


def _check(index: int, item: Incoming, sensors: dict[str, _Sensor], now: datetime) -> _Row:
    data = item.data
    if data is None:
        raise _Refused(Rejection.MALFORMED, "payload is not a JSON object")
    device = _device_id(item)
    if not device:
        raise _Refused(Rejection.MALFORMED, "no sensor id")
    room_code = ""
    if item.topic:
        levels = item.topic.split("/")
        if len(levels) < 3:
            raise _Refused(Rejection.MALFORMED, "topic is not <prefix>/<room>/<sensor>")
        room_code, topic_sensor = levels[-2], levels[-1]
        if topic_sensor != device:
            raise _Refused(Rejection.MALFORMED, f"topic names sensor {topic_sensor}, the payload {device}")
    sensor = sensors.get(device)
    if sensor is None:
        raise _Refused(Rejection.UNKNOWN_SENSOR, device)
    if not sensor.active:
        raise _Refused(Rejection.SENSOR_INACTIVE, device)
    if room_code and room_code != sensor.room_code:
        raise _Refused(Rejection.ROOM_MISMATCH, f"topic room {room_code}, sensor room {sensor.room_code}")
    parameter = data.get("parameter")
    if parameter is not None and parameter != sensor.parameter:
        raise _Refused(Rejection.PARAMETER_MISMATCH, f"{parameter} ≠ {sensor.parameter}")
    unit = data.get("unit")
    if unit is not None and (not isinstance(unit, str) or unit not in UNIT_ALIASES[sensor.parameter]):
        raise _Refused(Rejection.UNIT_MISMATCH, f"{unit} ≠ {sensor.unit}")
    quality, note = _quality(data.get("quality"))
    value = _value(data.get("value"), sensor.parameter, quality)
    ts = _timestamp(data.get("ts"), now)
    seq = data.get("seq")
    if not (seq is None or (isinstance(seq, int) and not isinstance(seq, bool) and abs(seq) < 2 ** 63)):
        raise _Refused(Rejection.MALFORMED, "seq is not an integer")
    if quality == Quality.GOOD and _overdue(sensor.calibrated_until, ts):
        quality, note = Quality.UNCERTAIN, QualityNote.CALIBRATION_OVERDUE
    return _Row(index, sensor, value, ts, quality, note, seq, "")


def _quality(raw: Any) -> tuple[str, str]:
    if raw is None:
        return Quality.UNCERTAIN, QualityNote.QUALITY_MISSING
    quality = _QUALITIES.get(raw.lower()) if isinstance(raw, str) else None
    if quality is None:
        raise _Refused(Rejection.INVALID_QUALITY, str(raw)[:50])
    return quality, "" if quality == Quality.GOOD else QualityNote.SENDER


def _value(raw: Any, parameter: str, quality: str) -> Decimal | None:
    if raw is None and quality == Quality.BAD:
        return None  # a bad reading may come without a value
    # a string, an integer or a JSON number (decode() reads those as Decimal); never a float, a boolean,
    # or a list (which Decimal() would take as a sign-digits-exponent tuple)
    if not isinstance(raw, str | int | Decimal) or isinstance(raw, bool):
        raise _Refused(Rejection.INVALID_VALUE, "value must be a decimal number")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(raw.strip() if isinstance(raw, str) else raw)
    except (DecimalException, ValueError, TypeError):
        raise _Refused(Rejection.INVALID_VALUE, f"{str(raw)[:40]} is not a decimal number") from None
    if not value.is_finite() or value.copy_abs() >= _LARGEST:  # copy_abs: abs() raises Overflow at 1e99999999999
        raise _Refused(Rejection.INVALID_VALUE, f"{str(raw)[:40]} is out of range")
    if value.as_tuple().exponent < -VALUE_PLACES:  # type: ignore[operator]
        value = value.quantize(_QUANTUM)  # more places than a reading keeps (docs/environment.md)
        if value.copy_abs() >= _LARGEST:  # 999999999999.99999 rounds up to more digits than the column holds
            raise _Refused(Rejection.INVALID_VALUE, f"{str(raw)[:40]} is out of range")
    if parameter in COUNT_PARAMETERS and (value < 0 or value != value.to_integral_value()):
        raise _Refused(Rejection.INVALID_VALUE, f"{value} is not a count")
    return value


def _timestamp(raw: Any, now: datetime) -> datetime:
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise _Refused(Rejection.INVALID_TIMESTAMP, f"{raw[:40]} is not ISO 8601") from None
        if ts.tzinfo is None:
            raise _Refused(Rejection.INVALID_TIMESTAMP, f"{raw[:40]} has no time zone")
        try:
            ts = ts.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant
            raise _Refused(Rejection.INVALID_TIMESTAMP, f"{raw[:40]} is out of range") from None
    elif isinstance(raw, int) and not isinstance(raw, bool):  # milliseconds since the epoch (Sparkplug style)
        try:
            ts = datetime.fromtimestamp(raw / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise _Refused(Rejection.INVALID_TIMESTAMP, f"{raw} is out of range") from None
    elif isinstance(raw, datetime) and raw.tzinfo is not None:  # the API's parsed AwareDatetime
        try:
            ts = raw.astimezone(UTC)
        except OverflowError:
            raise _Refused(Rejection.INVALID_TIMESTAMP, f"{raw.isoformat()[:40]} is out of range") from None
    else:
        raise _Refused(Rejection.INVALID_TIMESTAMP, "no timestamp")
    if ts > now + FUTURE_TOLERANCE:
        raise _Refused(Rejection.INVALID_TIMESTAMP, f"{ts.isoformat()} is in the future")
    return ts


def _overdue(calibrated_until: date | None, ts: datetime) -> bool:
    return calibrated_until is not None and clock.to_site(ts).date() > calibrated_until


def _refusal(item: Incoming, refused: _Refused, now: datetime, channel: str, sender: str) -> RejectedReading:
    raw = item.raw
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if not text and item.data is not None:
        text = json.dumps(item.data, default=str, ensure_ascii=False)
    return RejectedReading(received_at=now, channel=channel, topic=_text(item.topic, 200), sender=_text(sender, 64),
                           device_id=_text(_device_id(item), 64), reason=refused.reason,
                           detail=_text(refused.detail, 300), payload=_text(text, PAYLOAD_KEPT))


def _text(value: str, length: int) -> str:
    """A refused message's text as a column can hold it: PostgreSQL refuses NUL characters in text, and a
    refusal that cannot be written would fail the whole batch (and the MQTT ingestion retries it forever)."""
    return value.replace("\x00", "\ufffd")[:length]


# --- storing ------------------------------------------------------------------------------------------

def _judge(rows: list[_Row]) -> dict[tuple[int, str], LimitSource]:
    """The level of each good reading against the limits in force (returned for the alarms)."""
    limits = limits_by_room({row.sensor.room_id: row.sensor.grade for row in rows})
    for row in rows:
        if row.quality == Quality.GOOD:
            assert row.value is not None
            row.level = limits[(row.sensor.room_id, row.sensor.parameter)].limits.level(row.value)
    return limits


_COLUMNS = ("sensor_id", "room_id", "parameter", "value", "unit", "source_ts", "received_at", "quality",
            "quality_note", "level", "seq", "channel")
_TABLE = Reading._meta.db_table


def _store(rows: list[_Row], now: datetime, channel: str) -> list[_Row]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows actually inserted (with their ids), in input
    order; a (sensor, source timestamp) stored before, or twice in this batch, is left out."""
    keyed: dict[tuple[int, datetime], _Row] = {}
    for row in rows:
        keyed.setdefault((row.sensor.pk, row.ts), row)
    unique = list(keyed.values())
    inserted: set[int] = set()
    for start in range(0, len(unique), INSERT_CHUNK):
        chunk = unique[start:start + INSERT_CHUNK]
        sql, params = (_insert_postgresql if connection.vendor == "postgresql" else _insert_values)(chunk, now,
                                                                                                    channel)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            returned = cursor.fetchall()
        for reading_id, sensor_id, ts in returned:
            row = keyed[(sensor_id, _aware(ts))]
            row.id = reading_id
            inserted.add(id(row))
    return [row for row in rows if id(row) in inserted]


_RETURNING = "ON CONFLICT (sensor_id, source_ts) DO NOTHING RETURNING id, sensor_id, source_ts"


def _insert_postgresql(chunk: list[_Row], now: datetime, channel: str) -> tuple[str, list[Any]]:
    """One statement with a dozen array parameters (unnest): a 6,000-placeholder VALUES list costs more
    to build and parse than the insert itself."""
    sql = (f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608 (constant names)
           "SELECT s, r, p, v, u, t, %s, q, n, l, seq, %s FROM unnest("
           "%s::bigint[], %s::bigint[], %s::text[], %s::numeric[], %s::text[], %s::timestamptz[], %s::text[], "
           "%s::text[], %s::text[], %s::bigint[]) AS x(s, r, p, v, u, t, q, n, l, seq) " + _RETURNING)
    return sql, [now, channel, [r.sensor.pk for r in chunk], [r.sensor.room_id for r in chunk],
                 [r.sensor.parameter for r in chunk], [r.value for r in chunk], [r.sensor.unit for r in chunk],
                 [r.ts for r in chunk], [r.quality for r in chunk], [r.note for r in chunk],
                 [r.level for r in chunk], [r.seq for r in chunk]]


def _insert_values(chunk: list[_Row], now: datetime, channel: str) -> tuple[str, list[Any]]:
    adapt = connection.ops.adapt_datetimefield_value
    received = adapt(now)
    params: list[Any] = []
    for row in chunk:
        sensor = row.sensor
        params += [sensor.pk, sensor.room_id, sensor.parameter, row.value, sensor.unit, adapt(row.ts), received,
                   row.quality, row.note, row.level, row.seq, channel]
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    sql = (f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608 (constant names)
           f"{', '.join([placeholders] * len(chunk))} " + _RETURNING)
    return sql, params


def _aware(value: Any) -> datetime:
    """A timestamp as RETURNING gives it back (PostgreSQL: aware; SQLite: naive UTC, or its text) → aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- judging: alarms and excursions ------------------------------------------------------------------

def _evaluate(stored: list[_Row], limits: dict[tuple[int, str], LimitSource], now: datetime, actor: Any,
              result: IngestResult) -> None:
    by_sensor: dict[int, list[_Row]] = defaultdict(list)
    for row in stored:
        by_sensor[row.sensor.pk].append(row)
    states = {s.sensor_id: s for s in SensorState.objects.select_for_update().filter(
        sensor_id__in=sorted(by_sensor)).order_by("sensor_id")}
    missing = [SensorState(sensor_id=sensor_id) for sensor_id in by_sensor if sensor_id not in states]
    if missing:  # a sensor registered before its state rows existed; made once
        SensorState.objects.bulk_create(missing, ignore_conflicts=True)
        states.update({s.sensor_id: s for s in SensorState.objects.select_for_update().filter(
            sensor_id__in=[m.sensor_id for m in missing])})
    watch = [sensor_id for sensor_id, rows in by_sensor.items()
             if states[sensor_id].level in (Level.ALERT, Level.ACTION)
             or any(row.level in (Level.ALERT, Level.ACTION) for row in rows)]
    active: dict[int, Alarm] = {}
    if watch:
        active = {a.sensor_id: a for a in Alarm.objects.select_for_update(of=("self",)).select_related(
            "room", "sensor", "acknowledged_by").filter(sensor_id__in=watch, cleared_at__isnull=True)}
    changed: list[SensorState] = []
    for sensor_id, rows in by_sensor.items():
        state = states[sensor_id]
        rows.sort(key=lambda r: r.ts)
        alarm = active.get(sensor_id)
        dirty = False
        extended = False
        for row in rows:
            if row.quality != Quality.GOOD:
                dirty |= _note_latest(state, row, now)
                continue
            newer = state.good_source_ts is None or row.ts > state.good_source_ts
            if row.level != Level.OK:
                assert row.value is not None
                band = limits[(row.sensor.room_id, row.sensor.parameter)].limits
                if alarm is None:
                    alarm = _raise(row, band, now, actor, result)
                    if not newer and state.level == Level.OK:
                        # A late reading from before the sensor's latest good one, which was within
                        # limits: the episode is already over.
                        _clear(alarm, state.good_reading_id, now, actor)
                        alarm = None
                else:
                    extended |= _extend(alarm, row, now, actor, result)
            elif alarm is not None and newer and row.ts > alarm.last_excursion_ts:
                _clear(alarm, row.id, now, actor)
                alarm = None
            if newer:
                state.good_value, state.good_source_ts, state.good_reading_id = row.value, row.ts, row.id
                state.level = row.level
            dirty |= _note_latest(state, row, now) or newer
        if alarm is not None and extended:
            alarm.save(update_fields=["peak_value", "peak_at", "last_excursion_ts"])
        if dirty:
            changed.append(state)
    if changed:
        _save_states(changed)


_STATE_FIELDS = ("last_value", "last_quality", "last_source_ts", "last_received_at", "good_value", "good_source_ts",
                 "good_reading_id", "level")
_UPDATE_STATE = (f"UPDATE {SensorState._meta.db_table} SET "  # noqa: S608 (constant names)
                 + ", ".join(f"{name} = %s" for name in _STATE_FIELDS) + " WHERE sensor_id = %s")


def _save_states(states: list[SensorState]) -> None:
    """Write the changed state rows: one UPDATE … FROM unnest on PostgreSQL, one executemany of single-row
    UPDATEs on SQLite (Django's bulk_update builds a CASE per field and row: most of a batch's time)."""
    if connection.vendor == "postgresql":
        sql = (f"UPDATE {SensorState._meta.db_table} AS st SET "  # noqa: S608 (constant names)
               + ", ".join(f"{name} = x.{name}" for name in _STATE_FIELDS)
               + " FROM unnest(%s::bigint[], %s::numeric[], %s::text[], %s::timestamptz[], %s::timestamptz[], "
                 "%s::numeric[], %s::timestamptz[], %s::bigint[], %s::text[]) AS x(sensor_id, "
               + ", ".join(_STATE_FIELDS) + ") WHERE st.sensor_id = x.sensor_id")
        columns = [[s.sensor_id for s in states]] + [[getattr(s, name) for s in states] for name in _STATE_FIELDS]
        with connection.cursor() as cursor:
            cursor.execute(sql, columns)
        return
    adapt = connection.ops.adapt_datetimefield_value
    rows = [(state.last_value, state.last_quality, adapt(state.last_source_ts), adapt(state.last_received_at),
             state.good_value, adapt(state.good_source_ts), state.good_reading_id, state.level, state.sensor_id)
            for state in states]
    with connection.cursor() as cursor:
        cursor.executemany(_UPDATE_STATE, rows)


def _note_latest(state: SensorState, row: _Row, now: datetime) -> bool:
    if state.last_source_ts is not None and row.ts <= state.last_source_ts:
        return False
    state.last_value, state.last_quality, state.last_source_ts, state.last_received_at = (
        row.value, row.quality, row.ts, now)
    return True


def _raise(row: _Row, band: Limits, now: datetime, actor: Any, result: IngestResult) -> Alarm:
    assert row.value is not None and row.id is not None
    sensor = row.sensor
    alarm = Alarm.objects.create(
        room_id=sensor.room_id, sensor_id=sensor.pk, parameter=sensor.parameter, unit=sensor.unit, level=row.level,
        state=AlarmState.OPEN, direction=band.direction(row.value), limits=band.as_dict(), opened_at=now,
        opened_by_id=row.id, first_value=row.value, peak_value=row.value, peak_at=row.ts,
        last_excursion_ts=row.ts, escalated_at=now if row.level == Level.ACTION else None)
    payload = alarm_payload(alarm)
    record_change(actor, alarm, action="raise", changes={
        k: [None, payload[k]] for k in ("room", "sensor", "parameter", "level", "first_value", "unit", "limits")},
        event=RAISED, payload=payload)
    result.alarms_raised += 1
    if row.level == Level.ACTION:
        _excursion(alarm, row, now, actor, result)
    return alarm


def _extend(alarm: Alarm, row: _Row, now: datetime, actor: Any, result: IngestResult) -> bool:
    """A further reading outside the limits in the same episode: the peak, escalation to action level.
    True when the alarm's running summary (peak, latest reading outside the limits) moved."""
    assert row.value is not None
    moved = False
    further = (row.value > alarm.peak_value) if alarm.direction == "high" else (row.value < alarm.peak_value)
    if further:
        alarm.peak_value, alarm.peak_at = row.value, row.ts
        moved = True
    if row.ts > alarm.last_excursion_ts:
        alarm.last_excursion_ts = row.ts
        moved = True
    if row.level == Level.ACTION and alarm.level == Level.ALERT:
        before_state = alarm.state
        alarm.level, alarm.escalated_at = Level.ACTION, now
        if alarm.state == AlarmState.ACKNOWLEDGED:
            alarm.state = AlarmState.OPEN  # action level needs its own acknowledgement
        alarm.save()
        changes: dict[str, list[Any]] = {"level": [Level.ALERT, Level.ACTION]}
        if before_state != alarm.state:
            changes["state"] = [before_state, alarm.state]
        record_change(actor, alarm, action="escalate", changes=changes, event=ESCALATED, payload=alarm_payload(alarm))
        _excursion(alarm, row, now, actor, result)
    return moved


def _clear(alarm: Alarm, reading_id: int | None, now: datetime, actor: Any) -> None:
    before = alarm.state
    alarm.cleared_at, alarm.cleared_by_id = now, reading_id
    if alarm.state == AlarmState.ACKNOWLEDGED:
        alarm.state, alarm.closed_at = AlarmState.CLOSED, now
    alarm.save()
    changes: dict[str, list[Any]] = {"cleared_at": [None, now], "peak_value": [None, format(alarm.peak_value, "f")]}
    if before != alarm.state:
        changes["state"] = [before, alarm.state]
    record_change(actor, alarm, action="clear", changes=changes, event=CLEARED, payload=alarm_payload(alarm))


def _excursion(alarm: Alarm, row: _Row, now: datetime, actor: Any, result: IngestResult) -> None:
    assert row.value is not None and row.id is not None
    excursion = Excursion.objects.create(
        alarm=alarm, room_id=alarm.room_id, sensor_id=alarm.sensor_id, parameter=alarm.parameter, reading_id=row.id,
        value=row.value, unit=alarm.unit, measured_at=row.ts, raised_at=now, limits=alarm.limits)
    payload = excursion_payload(excursion)
    record_change(actor, excursion, action="raise", changes={
        k: [None, payload[k]] for k in ("alarm", "room", "sensor", "parameter", "value", "unit", "measured_at")},
        event=EXCURSION, payload=payload)
    publish(DomainEvent(EXCURSION, {**payload, "actor": actor}))
    result.excursions += 1
    log.warning("excursion %s: room %s, %s = %s %s (action level)", excursion, alarm.room.code, alarm.parameter,
                payload["value"], alarm.unit)
