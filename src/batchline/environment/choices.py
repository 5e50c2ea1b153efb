"""The monitored parameters with their units, and the states of readings, sensors and alarms."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Parameter(models.TextChoices):
    TEMPERATURE = "temperature", _("Temperature")
    HUMIDITY = "humidity", _("Relative humidity")
    DIFFERENTIAL_PRESSURE = "dp", _("Differential pressure")
    PARTICLES_05 = "particles_0_5", _("Particles ≥ 0.5 µm")
    PARTICLES_50 = "particles_5_0", _("Particles ≥ 5.0 µm")


# The one unit each parameter is stored in; a reading in another unit is refused.
UNITS: dict[str, str] = {
    Parameter.TEMPERATURE: "°C",
    Parameter.HUMIDITY: "%RH",
    Parameter.DIFFERENTIAL_PRESSURE: "Pa",
    Parameter.PARTICLES_05: "/m³",
    Parameter.PARTICLES_50: "/m³",
}

# What senders may write for those units (case-sensitive apart from the particle forms).
UNIT_ALIASES: dict[str, frozenset[str]] = {
    Parameter.TEMPERATURE: frozenset({"°C", "℃", "C", "degC", "Cel"}),
    Parameter.HUMIDITY: frozenset({"%RH", "%", "RH", "%rh"}),
    Parameter.DIFFERENTIAL_PRESSURE: frozenset({"Pa"}),
    Parameter.PARTICLES_05: frozenset({"/m³", "/m3", "1/m3", "counts/m3", "particles/m3", "count/m3"}),
    Parameter.PARTICLES_50: frozenset({"/m³", "/m3", "1/m3", "counts/m3", "particles/m3", "count/m3"}),
}

# Counts are whole numbers and never negative; the others may be any decimal.
COUNT_PARAMETERS = frozenset({Parameter.PARTICLES_05, Parameter.PARTICLES_50})


class Quality(models.TextChoices):
    """OPC UA's three quality classes, as the sender states them (INTERFACES.md)."""

    GOOD = "good", _("Good")
    UNCERTAIN = "uncertain", _("Uncertain")
    BAD = "bad", _("Bad")


class QualityNote(models.TextChoices):
    """Why a reading is not good: what the sender said, or what Batchline found."""

    NONE = "", _("None")
    SENDER = "sender", _("Stated by the sender")
    QUALITY_MISSING = "quality_missing", _("The sender stated no quality")
    CALIBRATION_OVERDUE = "calibration_overdue", _("Sensor calibration overdue")


class Level(models.TextChoices):
    """Where a good reading lies against the room's limits. Uncertain and bad readings have no level."""

    OK = "ok", _("Within limits")
    ALERT = "alert", _("Alert level")
    ACTION = "action", _("Action level")


LEVEL_RANK = {"": 0, Level.OK: 0, Level.ALERT: 1, Level.ACTION: 2}


class AlarmState(models.TextChoices):
    """open: not yet acknowledged; acknowledged: a person signed for it while the condition lasts;
    closed: acknowledged and back within alert limits."""

    OPEN = "open", pgettext_lazy("alarm state", "Open")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("alarm state", "Acknowledged")
    CLOSED = "closed", pgettext_lazy("alarm state", "Closed")


class Direction(models.TextChoices):
    HIGH = "high", _("Above the limit")
    LOW = "low", _("Below the limit")


class Channel(models.TextChoices):
    MQTT = "mqtt", "MQTT"
    API = "api", "API"


class Rejection(models.TextChoices):
    """Why a reading was refused: recorded as rejected, never stored as a reading (AC-06)."""

    MALFORMED = "malformed", _("Not a JSON object with the reading's fields")
    UNKNOWN_SENSOR = "unknown_sensor", _("Sensor not registered")
    SENSOR_INACTIVE = "sensor_inactive", _("Sensor not active")
    ROOM_MISMATCH = "room_mismatch", _("Topic names another room than the sensor's")
    PARAMETER_MISMATCH = "parameter_mismatch", _("Parameter differs from the sensor's")
    UNIT_MISMATCH = "unit_mismatch", _("Unit differs from the parameter's")
    INVALID_VALUE = "invalid_value", _("Value is not a valid decimal for the parameter")
    INVALID_TIMESTAMP = "invalid_timestamp", _("Timestamp missing, without time zone or in the future")
    INVALID_QUALITY = "invalid_quality", _("Quality is not good, uncertain or bad")
