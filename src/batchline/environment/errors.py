from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import Conflict, InvalidInput, NotFound


class RoomNotMonitorable(InvalidInput):
    code = "room_not_monitorable"
    default_message = _("Room {room} is not an approved room.")


class SensorExists(Conflict):
    code = "sensor_exists"
    default_message = _("Sensor {device_id} is already registered.")


class UnknownSensor(NotFound):
    code = "unknown_sensor"
    default_message = _("There is no registered sensor {device_id}.")


class LimitsOutOfOrder(InvalidInput):
    code = "limits_out_of_order"
    default_message = _("Limits must read in order: action low ≤ alert low < alert high ≤ action high.")


class AlarmNotOpen(Conflict):
    code = "alarm_not_open"
    default_message = _("Alarm {alarm} is {state}; only an open alarm can be acknowledged.")


class TooManyReadings(InvalidInput):
    code = "too_many_readings"
    default_message = _("At most {max} readings per request.")
