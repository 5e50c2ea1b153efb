"""Taking in readings (EQ-06, AC-06): only registered, active sensors; a reading stored once; bad and
uncertain values never stored as good and never judged; alarms and excursions exactly once."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.core.events import DomainEvent, subscribe
from batchline.core.models import OutboxEvent
from batchline.environment import services
from batchline.environment.ingestion import Incoming, decode, ingest_batch, ingest_reading
from batchline.environment.models import Alarm, Excursion, Reading, RejectedReading, SensorState
from conftest import requires_postgresql
from environment.conftest import Plant

pytestmark = pytest.mark.req("EQ-06")


def _events(event_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(event_type=event_type).order_by("id"))


# --- storing -------------------------------------------------------------------------------------------

def test_a_good_reading_is_stored_with_its_source_time_quality_and_level(plant: Plant) -> None:
    ts = plant.ts()
    result = ingest_reading(plant.reading("TT-RB1", "21.35", ts=ts))
    assert (result.stored, result.duplicates, result.rejected) == (1, 0, 0)
    reading = Reading.objects.get()
    assert reading.value == Decimal("21.35") and reading.unit == "°C"
    assert reading.source_ts == ts and reading.received_at >= ts
    assert (reading.quality, reading.level, reading.room.code) == ("good", "ok", "RB1")


def test_a_json_number_is_read_as_an_exact_decimal(plant: Plant) -> None:
    payload = (b'{"sensor": "TT-RB1", "value": 21.1, "unit": "\\u00b0C", "ts": "2026-01-05T08:00:00Z", '
               b'"quality": "good"}')
    ingest_reading(decode("batchline/env/RB1/TT-RB1", payload))
    assert Reading.objects.get().value == Decimal("21.1")


@pytest.mark.req("EQ-06", "AC-06")
def test_the_same_reading_delivered_twice_is_stored_once(plant: Plant) -> None:
    item = plant.reading("TT-RB1", "21.4")
    first = ingest_reading(item)
    again = ingest_batch([item, item])
    assert first.stored == 1
    assert (again.stored, again.duplicates) == (0, 2)
    assert Reading.objects.count() == 1


def test_a_duplicate_within_one_batch_is_stored_once(plant: Plant) -> None:
    item = plant.reading("TT-RB1", "21.4")
    result = ingest_batch([item, item])
    assert (result.stored, result.duplicates) == (1, 1)
    assert [o.outcome for o in result.outcomes] == ["stored", "duplicate"]


def test_a_sensor_state_holds_the_latest_reading_and_its_level(plant: Plant) -> None:
    early, late = plant.ts(), plant.ts()
    ingest_batch([plant.reading("TT-RB1", "21.8", ts=late), plant.reading("TT-RB1", "21.2", ts=early)])
    state = SensorState.objects.get(sensor=plant.sensors["TT-RB1"])
    assert (state.last_value, state.last_source_ts, state.level) == (Decimal("21.8"), late, "ok")


def test_more_than_four_decimal_places_are_rounded_to_four(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "21.299999999"))
    assert Reading.objects.get().value == Decimal("21.3000")


# --- refusals (AC-06) -------------------------------------------------------------------------------------

@pytest.mark.req("AC-06")
def test_a_reading_of_an_unregistered_sensor_is_refused_and_recorded_as_rejected(plant: Plant) -> None:
    payload = json.dumps({"sensor": "TT-ROGUE", "value": "35", "unit": "°C", "ts": "2026-01-05T08:00:00Z",
                          "quality": "good"}).encode()
    result = ingest_reading(decode("batchline/env/RB1/TT-ROGUE", payload))
    assert (result.stored, result.rejected) == (0, 1)
    assert not Reading.objects.exists()
    refused = RejectedReading.objects.get()
    assert (refused.reason, refused.device_id, refused.topic) == ("unknown_sensor", "TT-ROGUE",
                                                                   "batchline/env/RB1/TT-ROGUE")
    assert "TT-ROGUE" in refused.payload


@pytest.mark.req("AC-06")
def test_a_reading_of_a_deactivated_sensor_is_refused(plant: Plant) -> None:
    services.change_sensor(actor=plant.qa, device_id="TT-RB1", active=False, reason="probe removed for repair")
    result = ingest_reading(plant.reading("TT-RB1", "30"))
    assert result.outcomes[0].reason == "sensor_inactive"
    assert not Reading.objects.exists() and not Alarm.objects.exists()


@pytest.mark.req("AC-06")
def test_a_topic_naming_another_room_than_the_sensors_is_refused(plant: Plant) -> None:
    item = plant.reading("TT-RB1", "21")
    moved = Incoming(item.data, "batchline/env/RD1/TT-RB1", item.raw)
    assert ingest_reading(moved).outcomes[0].reason == "room_mismatch"
    assert not Reading.objects.exists()


@pytest.mark.parametrize(("change", "reason"), [
    ({"parameter": "humidity"}, "parameter_mismatch"),
    ({"unit": "K"}, "unit_mismatch"),
    ({"value": "warm"}, "invalid_value"),
    ({"value": None}, "invalid_value"),
    ({"ts": "2026-01-05T08:00:00"}, "invalid_timestamp"),  # no time zone
    ({"ts": None}, "invalid_timestamp"),
    ({"quality": "excellent"}, "invalid_quality"),
    ({"seq": "7"}, "malformed"),
])
def test_a_malformed_reading_is_refused_with_its_reason(plant: Plant, change: dict[str, Any], reason: str) -> None:
    item = plant.reading("TT-RB1", "21")
    data = {**(item.data or {}), **change}
    result = ingest_reading(decode(item.topic, json.dumps(data).encode()))
    assert result.outcomes[0].reason == reason
    assert not Reading.objects.exists()
    assert RejectedReading.objects.get().reason == reason


@pytest.mark.req("AC-06")
@pytest.mark.parametrize(("change", "reason"), [
    ({"unit": ["°C"]}, "unit_mismatch"),  # not a string: was a TypeError (unhashable) that failed the batch
    ({"unit": {"symbol": "°C"}}, "unit_mismatch"),
    ({"ts": "0001-01-01T00:10:00+01:00"}, "invalid_timestamp"),  # before datetime.min in UTC: was an OverflowError
    ({"value": "999999999999.99999"}, "invalid_value"),  # rounds to 13 integer digits: was a database error
    ({"value": "1e999999999999999999"}, "invalid_value"),  # abs() raised decimal.Overflow
    ({"value": [0, [2, 5], -1]}, "invalid_value"),  # Decimal() reads a list as a tuple: was stored as 2.5
])
def test_a_reading_that_once_broke_its_batch_is_refused_and_the_rest_is_stored(
        plant: Plant, change: dict[str, Any], reason: str) -> None:
    """A message that raised instead of being refused failed its whole batch, and the MQTT ingestion
    retries a failed batch before anything else: one such message stopped all readings of the plant."""
    good = plant.reading("HT-RB1", "50")
    item = plant.reading("TT-RB1", "21")
    odd = decode(item.topic, json.dumps({**(item.data or {}), **change}).encode())
    result = ingest_batch([odd, good])
    assert [o.outcome for o in result.outcomes] == ["rejected", "stored"]
    assert result.outcomes[0].reason == reason
    assert list(Reading.objects.values_list("sensor__device_id", flat=True)) == ["HT-RB1"]
    assert RejectedReading.objects.get().reason == reason


def test_a_json_number_beyond_any_decimal_range_is_refused(plant: Plant) -> None:
    payload = b'{"sensor": "TT-RB1", "value": 1e999999999999999999, "ts": "2026-01-05T08:00:00Z"}'
    result = ingest_reading(decode("batchline/env/RB1/TT-RB1", payload))
    assert result.outcomes[0].reason == "invalid_value"


@pytest.mark.req("AC-06")
def test_a_refused_message_with_nul_characters_is_recorded(plant: Plant) -> None:
    """PostgreSQL refuses NUL in text: the refusal (and with it the batch) could not be written."""
    result = ingest_batch([decode("batchline/env/RB1/TT-RB1", b"\x00\x01 garbage"),
                           Incoming({"sensor": "TT\x00X", "value": "1", "ts": "2026-01-05T08:00:00Z"}, "", ""),
                           plant.reading("TT-RB1", "21")])
    assert [o.outcome for o in result.outcomes] == ["rejected", "rejected", "stored"]
    refusals = {r.reason: r for r in RejectedReading.objects.all()}
    assert refusals["malformed"].payload == "\ufffd\x01 garbage"
    assert refusals["unknown_sensor"].device_id == "TT\ufffdX"


def test_a_payload_that_is_not_json_is_refused_as_malformed(plant: Plant) -> None:
    result = ingest_reading(decode("batchline/env/RB1/TT-RB1", b"\xff21.3"))
    assert result.outcomes[0].reason == "malformed"
    assert RejectedReading.objects.get().device_id == "TT-RB1"


def test_a_timestamp_in_the_future_is_refused(plant: Plant) -> None:
    result = ingest_reading(plant.reading("TT-RB1", "21", ts=clock.now() + timedelta(hours=1)))
    assert result.outcomes[0].reason == "invalid_timestamp"


def test_a_particle_count_must_be_a_whole_non_negative_number(plant: Plant) -> None:
    result = ingest_batch([plant.reading("PC05-RB1", "12.5"), plant.reading("PC05-RB1", "-3")])
    assert [o.reason for o in result.outcomes] == ["invalid_value", "invalid_value"]


def test_one_refused_reading_does_not_stop_the_others_of_its_batch(plant: Plant) -> None:
    result = ingest_batch([plant.reading("TT-RB1", "21"), plant.reading("TT-RB1", "hot"),
                           plant.reading("HT-RB1", "50")])
    assert (result.stored, result.rejected) == (2, 1)


# --- quality: never good when it is not (EQ-04 wording, INTERFACES.md) ---------------------------------------

@pytest.mark.parametrize("quality", ["bad", "uncertain"])
def test_a_bad_or_uncertain_value_is_stored_as_such_and_never_raises_an_alarm(plant: Plant, quality: str) -> None:
    ingest_reading(plant.reading("PC05-RB1", "900000", quality=quality))  # far beyond action level
    reading = Reading.objects.get()
    assert (reading.quality, reading.level) == (quality, "")
    assert not Alarm.objects.exists() and not Excursion.objects.exists()
    assert SensorState.objects.get(sensor=plant.sensors["PC05-RB1"]).level == ""


def test_a_bad_reading_may_come_without_a_value(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", None, quality="bad"))
    reading = Reading.objects.get()
    assert reading.value is None and reading.quality == "bad"


def test_a_reading_without_a_stated_quality_is_stored_as_uncertain(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "40", quality=None))
    reading = Reading.objects.get()
    assert (reading.quality, reading.quality_note) == ("uncertain", "quality_missing")
    assert not Alarm.objects.exists()


@pytest.mark.req("EQ-06", "AC-06")
def test_a_sensor_past_its_calibration_date_delivers_uncertain_readings_only(plant: Plant) -> None:
    services.change_sensor(actor=plant.qa, device_id="TT-RB1", calibrated_until=date(2020, 1, 1),
                           reason="calibration certificate expired")
    ingest_reading(plant.reading("TT-RB1", "35"))  # action level if it were good
    reading = Reading.objects.get()
    assert (reading.quality, reading.quality_note) == ("uncertain", "calibration_overdue")
    assert not Alarm.objects.exists()


def test_a_bad_reading_within_an_excursion_neither_clears_nor_extends_the_alarm(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))  # alert
    ingest_reading(plant.reading("TT-RB1", "21", quality="bad"))
    alarm = Alarm.objects.get()
    assert alarm.cleared_at is None and alarm.peak_value == Decimal("25.5")


# --- alarms ---------------------------------------------------------------------------------------------

def test_a_reading_beyond_the_alert_limit_opens_an_alert_alarm_without_an_excursion(plant: Plant) -> None:
    result = ingest_reading(plant.reading("TT-RB1", "25.4"))  # grade B: alert above 25, action above 26
    alarm = Alarm.objects.get()
    assert (alarm.level, alarm.state, alarm.direction, alarm.first_value) == ("alert", "open", "high",
                                                                               Decimal("25.4"))
    assert alarm.limits == {"alert_low": "19", "alert_high": "25", "action_low": "18", "action_high": "26"}
    assert result.alarms_raised == 1 and result.excursions == 0
    assert len(_events("environment.alarm.raised")) == 1 and not _events("environment.excursion")


def test_a_value_on_the_limit_is_within_it(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25"))
    assert not Alarm.objects.exists()
    assert Reading.objects.get().level == "ok"


@pytest.mark.req("EQ-06")
def test_an_action_level_reading_opens_an_action_alarm_and_one_excursion(plant: Plant) -> None:
    seen: list[DomainEvent] = []
    subscribe("environment.excursion")(seen.append)
    ingest_reading(plant.reading("PC05-RB1", "400000"))  # grade B in operation: action above 352,000
    alarm = Alarm.objects.get()
    excursion = Excursion.objects.get()
    assert (alarm.level, excursion.alarm, excursion.value) == ("action", alarm, Decimal("400000"))
    events = _events("environment.excursion")
    assert len(events) == 1 and events[0].payload["room"] == "RB1"
    assert events[0].payload["limits"]["action_high"] == "352000"
    assert [e.payload["excursion_id"] for e in seen] == [excursion.pk]


@pytest.mark.req("EQ-06")
def test_a_redelivered_action_level_reading_raises_no_second_alarm_or_excursion(plant: Plant) -> None:
    item = plant.reading("PC05-RB1", "400000")
    for _ in range(3):
        ingest_reading(item)
    ingest_batch([item, item])
    assert Alarm.objects.count() == 1 and Excursion.objects.count() == 1
    assert len(_events("environment.excursion")) == 1 and len(_events("environment.alarm.raised")) == 1


def test_further_readings_of_the_episode_move_the_peak_not_open_new_alarms(plant: Plant) -> None:
    ingest_batch([plant.reading("TT-RB1", v) for v in ("25.2", "25.6", "25.3")])
    alarm = Alarm.objects.get()
    assert (alarm.peak_value, alarm.first_value) == (Decimal("25.6"), Decimal("25.2"))


def test_a_low_excursion_keeps_the_lowest_value_as_its_peak(plant: Plant) -> None:
    ingest_batch([plant.reading("PT-RB1", v) for v in ("10.8", "9.5", "10.2")])  # alert below 11, action below 10
    alarm = Alarm.objects.get()
    assert (alarm.direction, alarm.peak_value, alarm.level) == ("low", Decimal("9.5"), "action")


def test_an_alert_alarm_reaching_action_level_escalates_and_makes_one_excursion(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    ingest_reading(plant.reading("TT-RB1", "26.5"))
    ingest_reading(plant.reading("TT-RB1", "27.0"))
    alarm = Alarm.objects.get()
    assert alarm.level == "action" and alarm.escalated_at is not None
    assert Excursion.objects.filter(alarm=alarm).count() == 1
    assert len(_events("environment.alarm.escalated")) == 1 and len(_events("environment.excursion")) == 1


def test_a_newer_reading_back_within_alert_limits_clears_the_alarm(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    ingest_reading(plant.reading("TT-RB1", "24.0"))
    alarm = Alarm.objects.get()
    assert alarm.cleared_at is not None and alarm.state == "open"  # still to be acknowledged
    assert alarm.cleared_by == Reading.objects.get(value=Decimal("24.0"))
    assert len(_events("environment.alarm.cleared")) == 1


def test_a_reading_still_at_alert_level_does_not_clear_an_action_alarm(plant: Plant) -> None:
    ingest_batch([plant.reading("TT-RB1", "26.5"), plant.reading("TT-RB1", "25.5")])
    alarm = Alarm.objects.get()
    assert alarm.cleared_at is None and alarm.level == "action"


def test_a_new_excursion_after_the_alarm_cleared_is_a_new_alarm(plant: Plant) -> None:
    ingest_batch([plant.reading("PC05-RB1", v) for v in ("400000", "1000", "500000")])
    assert Alarm.objects.count() == 2 and Excursion.objects.count() == 2


def test_a_late_reading_within_limits_does_not_clear_a_newer_excursion(plant: Plant) -> None:
    early, late = plant.ts(), plant.ts()
    ingest_reading(plant.reading("TT-RB1", "26.5", ts=late))
    ingest_reading(plant.reading("TT-RB1", "21.0", ts=early))
    assert Alarm.objects.get().cleared_at is None


def test_a_late_excursion_reading_is_raised_and_cleared_at_once(plant: Plant) -> None:
    early, late = plant.ts(), plant.ts()
    ingest_reading(plant.reading("PC05-RB1", "1000", ts=late))
    ingest_reading(plant.reading("PC05-RB1", "400000", ts=early))  # buffered by the gateway, arrives late
    alarm = Alarm.objects.get()
    assert alarm.level == "action" and alarm.cleared_at is not None
    assert Excursion.objects.count() == 1
    assert SensorState.objects.get(sensor=plant.sensors["PC05-RB1"]).level == "ok"


def test_alarms_are_per_sensor(plant: Plant) -> None:
    ingest_batch([plant.reading("TT-RB1", "25.5"), plant.reading("TT-RD1", "25.5"), plant.reading("HT-RB1", "50")])
    assert sorted(Alarm.objects.values_list("sensor__device_id", flat=True)) == ["TT-RB1", "TT-RD1"]


def test_the_limits_of_the_rooms_grade_decide(plant: Plant) -> None:
    # 400,000 particles ≥ 0.5 µm: action level in grade B, within limits in grade D.
    ingest_batch([plant.reading("PC05-RB1", "400000"), plant.reading("PC05-RD1", "400000")])
    assert list(Alarm.objects.values_list("room__code", flat=True)) == ["RB1"]


def test_raising_an_alarm_is_audited_as_the_system(plant: Plant) -> None:
    ingest_reading(plant.reading("PC05-RB1", "400000"))
    actions = set(AuditEntry.objects.filter(record_type__in=["environment.alarm", "environment.excursion"])
                  .values_list("record_type", "action", "actor_username"))
    assert actions == {("environment.alarm", "raise", "system"), ("environment.excursion", "raise", "system")}


# --- concurrency (PostgreSQL: row locks) --------------------------------------------------------------

@requires_postgresql
@pytest.mark.req("EQ-06")
def test_concurrent_ingesters_raise_one_alarm_and_one_excursion(committed_plant: Plant) -> None:
    import threading

    from django.db import connection

    plant = committed_plant
    same = plant.reading("PC05-RB1", "400000")
    others = [plant.reading("PC05-RB1", "410000"), plant.reading("PC05-RB1", "420000")]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def ingest(items: list[Incoming]) -> None:
        try:
            start.wait(timeout=10)
            ingest_batch(items)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest, args=([same],)), threading.Thread(target=ingest, args=([same],)),
               threading.Thread(target=ingest, args=([others[0]],)),
               threading.Thread(target=ingest, args=([others[1]],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert Reading.objects.count() == 3
    assert Alarm.objects.count() == 1 and Excursion.objects.count() == 1
    assert len(_events("environment.excursion")) == 1
    assert Alarm.objects.get().peak_value == Decimal("420000")
