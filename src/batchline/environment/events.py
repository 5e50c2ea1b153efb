"""The environment's outbound event types and their payloads (api/messages_environment.py holds the
schemas), and the domain event quality subscribes to."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from batchline.environment.models import Alarm, Excursion

RAISED = "environment.alarm.raised"
ESCALATED = "environment.alarm.escalated"
CLEARED = "environment.alarm.cleared"
ACKNOWLEDGED = "environment.alarm.acknowledged"
EXCURSION = "environment.excursion"  # outbox event type, and the domain event quality subscribes to
ALARM_EVENTS = (RAISED, ESCALATED, CLEARED, ACKNOWLEDGED)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def alarm_payload(alarm: Alarm) -> dict[str, Any]:
    """Reads alarm.room and alarm.sensor (select them with the alarm)."""
    return {
        "alarm": str(alarm), "alarm_id": alarm.pk, "room": alarm.room.code, "sensor": alarm.sensor.device_id,
        "parameter": alarm.parameter, "level": alarm.level, "state": alarm.state, "direction": alarm.direction,
        "first_value": decimal(alarm.first_value), "peak_value": decimal(alarm.peak_value), "unit": alarm.unit,
        "limits": alarm.limits, "opened_at": iso(alarm.opened_at), "peak_at": iso(alarm.peak_at),
        "escalated_at": iso(alarm.escalated_at), "cleared_at": iso(alarm.cleared_at),
        "acknowledged_at": iso(alarm.acknowledged_at),
        "acknowledged_by": alarm.acknowledged_by.username if alarm.acknowledged_by else None,
        "closed_at": iso(alarm.closed_at),
    }


def excursion_payload(excursion: Excursion) -> dict[str, Any]:
    return {
        "excursion": str(excursion), "excursion_id": excursion.pk, "alarm": str(excursion.alarm),
        "alarm_id": excursion.alarm_id, "room": excursion.room.code, "room_grade": excursion.room.cleanroom_grade,
        "sensor": excursion.sensor.device_id, "parameter": excursion.parameter,
        "value": decimal(excursion.value), "unit": excursion.unit, "limits": excursion.limits,
        "measured_at": iso(excursion.measured_at), "raised_at": iso(excursion.raised_at),
    }
