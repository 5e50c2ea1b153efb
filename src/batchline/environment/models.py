"""Room monitoring tables: limits by grade and per room, registered sensors and their latest state,
readings (append-only) and refused readings, alarms and the excursions at action level.

Readings are the raw data of registered devices: the database refuses UPDATE and DELETE on them
(migration 0002). Limits, sensors, alarms and excursions change only through
environment.services / environment.ingestion, which write the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from batchline.environment.choices import (
    UNITS,
    AlarmState,
    Channel,
    Direction,
    Level,
    Parameter,
    Quality,
    QualityNote,
    Rejection,
)
from batchline.masterdata.choices import CleanroomGrade

VALUE_DIGITS = 16
VALUE_PLACES = 4


def _value(verbose_name: Any, **extra: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(verbose_name, max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, **extra)


class LimitFields(models.Model):
    """The four limits of one parameter; empty means no limit on that side."""

    parameter = models.CharField(_("parameter"), max_length=20, choices=Parameter.choices)
    alert_low = _value(_("alert low"), null=True, blank=True)
    alert_high = _value(_("alert high"), null=True, blank=True)
    action_low = _value(_("action low"), null=True, blank=True)
    action_high = _value(_("action high"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("changed by"))
    reason = models.TextField(_("reason"))
    # False: the row no longer applies (the grade's, or the documented default, does). Never deleted.
    active = models.BooleanField(_("in force"), default=True)

    class Meta:
        abstract = True

    @property
    def unit(self) -> str:
        return UNITS[self.parameter]


class GradeLimit(LimitFields):
    """A site's own limits for one parameter of one cleanroom grade, instead of the documented default."""

    grade = models.CharField(_("cleanroom grade"), max_length=3, choices=CleanroomGrade.choices)

    class Meta:
        ordering = ["grade", "parameter"]
        constraints = [models.UniqueConstraint(fields=["grade", "parameter"], name="grade_limit_unique")]

    def __str__(self) -> str:
        return f"{self.grade} {self.parameter}"


class RoomLimit(LimitFields):
    """One room's own limits for one parameter: wins over its grade's."""

    room = models.ForeignKey("masterdata.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("room"))

    class Meta:
        ordering = ["room", "parameter"]
        constraints = [models.UniqueConstraint(fields=["room", "parameter"], name="room_limit_unique")]

    def __str__(self) -> str:
        return f"{self.room} {self.parameter}"


class Sensor(models.Model):
    """A registered measuring device: one parameter in one room. Only readings of an active sensor are
    stored (AC-06); a sensor past its calibration date delivers uncertain readings, never good ones."""

    device_id = models.CharField(_("sensor id"), max_length=64, unique=True)
    room = models.ForeignKey("masterdata.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("room"))
    parameter = models.CharField(_("parameter"), max_length=20, choices=Parameter.choices)
    unit = models.CharField(_("unit"), max_length=12)
    description = models.CharField(_("description"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    calibrated_until = models.DateField(_("calibrated until"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("registered by"))

    class Meta:
        ordering = ["room", "parameter", "device_id"]
        indexes = [models.Index(fields=["room", "parameter"])]

    def __str__(self) -> str:
        return self.device_id


class SensorState(models.Model):
    """The latest reading of a sensor and the level of its latest good one: what the status pages show,
    and the row ingestion locks to judge a sensor's readings one batch at a time."""

    sensor = models.OneToOneField(Sensor, primary_key=True, on_delete=models.PROTECT, related_name="state")
    last_value = _value(_("value"), null=True, blank=True)
    last_quality = models.CharField(_("quality"), max_length=10, choices=Quality.choices, blank=True)
    last_source_ts = models.DateTimeField(_("measured at"), null=True, blank=True)
    last_received_at = models.DateTimeField(_("time received"), null=True, blank=True)
    good_value = _value(_("last good value"), null=True, blank=True)
    good_source_ts = models.DateTimeField(_("last good reading at"), null=True, blank=True)
    good_reading = models.ForeignKey("Reading", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=6, choices=Level.choices, blank=True)

    def __str__(self) -> str:
        return f"{self.sensor_id}: {self.last_value} ({self.level})"


class Reading(models.Model):
    """One measured value as the sensor sent it, with the sender's timestamp and quality and the
    server's receipt time. A (sensor, source timestamp) is stored once: a redelivered message is a
    duplicate, not a second reading. Append-only."""

    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="+", verbose_name=_("sensor"))
    room = models.ForeignKey("masterdata.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("room"))
    parameter = models.CharField(_("parameter"), max_length=20, choices=Parameter.choices)
    value = _value(_("value"), null=True, blank=True)  # empty only for a bad reading without a value
    unit = models.CharField(_("unit"), max_length=12)
    source_ts = models.DateTimeField(_("measured at"))
    received_at = models.DateTimeField(_("time received"))
    quality = models.CharField(_("quality"), max_length=10, choices=Quality.choices)
    quality_note = models.CharField(_("quality note"), max_length=20, choices=QualityNote.choices, blank=True)
    level = models.CharField(_("level"), max_length=6, choices=Level.choices, blank=True)  # good readings only
    seq = models.BigIntegerField(_("sequence number"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)

    class Meta:
        ordering = ["sensor", "source_ts"]
        constraints = [
            models.UniqueConstraint(fields=["sensor", "source_ts"], name="reading_once_per_sensor_and_time"),
            models.CheckConstraint(condition=models.Q(value__isnull=False) | models.Q(quality=Quality.BAD),
                                   name="reading_value_unless_bad"),
            models.CheckConstraint(condition=models.Q(level="") | models.Q(quality=Quality.GOOD),
                                   name="reading_level_only_when_good"),
        ]

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.source_ts:%Y-%m-%d %H:%M:%S} {self.value} {self.unit} ({self.quality})"


class RejectedReading(models.Model):
    """A reading that was refused, as it arrived, with the refusal: an unknown or inactive sensor, a
    wrong room, parameter or unit, a malformed message (AC-06). Append-only."""

    received_at = models.DateTimeField(_("time received"))
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    sender = models.CharField(_("sender"), max_length=64, blank=True)  # the API account, if any
    device_id = models.CharField(_("sensor id"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Rejection.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    payload = models.TextField(_("payload"))

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["received_at"])]

    def __str__(self) -> str:
        return f"{self.device_id or '?'}: {self.reason}"


class Alarm(models.Model):
    """One excursion episode of one sensor: opened by the first good reading beyond the alert or action
    limits, escalated when a reading reaches action level, cleared by the first newer good reading back
    within alert limits, closed once it is both cleared and acknowledged (signed)."""

    room = models.ForeignKey("masterdata.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("room"))
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="alarms", verbose_name=_("sensor"))
    parameter = models.CharField(_("parameter"), max_length=20, choices=Parameter.choices)
    unit = models.CharField(_("unit"), max_length=12)
    level = models.CharField(_("level"), max_length=6, choices=Level.choices)
    state = models.CharField(_("state"), max_length=12, choices=AlarmState.choices, default=AlarmState.OPEN)
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    limits = models.JSONField(_("limits"))  # the limits in force when it opened (Limits.as_dict)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(Reading, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("opening reading"))
    first_value = _value(_("first value"))
    peak_value = _value(_("peak value"))
    peak_at = models.DateTimeField(_("peak at"))
    last_excursion_ts = models.DateTimeField(_("last reading outside limits"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("back within limits at"), null=True, blank=True)
    cleared_by = models.ForeignKey(Reading, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("reading back within limits"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+", verbose_name=_("acknowledged by"))
    acknowledgement_comment = models.TextField(_("comment"), blank=True)
    signature = models.ForeignKey("compliance.Signature", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One episode at a time per sensor: the partial unique index keeps two concurrent
            # ingesters from both opening one.
            models.UniqueConstraint(fields=["sensor"], condition=models.Q(cleared_at__isnull=True),
                                    name="alarm_one_active_per_sensor"),
            models.CheckConstraint(condition=~models.Q(level=Level.OK), name="alarm_level_alert_or_action"),
        ]
        indexes = [models.Index(fields=["state", "room"]), models.Index(fields=["room", "opened_at"])]

    def __str__(self) -> str:
        return f"ALM-{self.pk:06d}" if self.pk else "ALM-new"

    def signature_content(self) -> dict[str, Any]:
        """What an acknowledgement signs: which alarm, at which level. An escalation after the
        acknowledgement changes the level, and the old signature no longer applies."""
        return {"id": self.pk, "room_id": self.room_id, "sensor_id": self.sensor_id, "parameter": self.parameter,
                "level": self.level, "opened_at": self.opened_at, "first_value": self.first_value,
                "opened_by_id": self.opened_by_id}


class Excursion(models.Model):
    """An alarm that reached action level, once per alarm: the event quality turns into a deviation."""

    alarm = models.OneToOneField(Alarm, on_delete=models.PROTECT, related_name="excursion", verbose_name=_("alarm"))
    room = models.ForeignKey("masterdata.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("room"))
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="+", verbose_name=_("sensor"))
    parameter = models.CharField(_("parameter"), max_length=20, choices=Parameter.choices)
    reading = models.ForeignKey(Reading, on_delete=models.PROTECT, related_name="+", verbose_name=_("reading"))
    value = _value(_("value"))
    unit = models.CharField(_("unit"), max_length=12)
    measured_at = models.DateTimeField(_("measured at"))
    raised_at = models.DateTimeField(_("raised at"))
    limits = models.JSONField(_("limits"))

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"EXC-{self.pk:06d}" if self.pk else "EXC-new"
