"""People's actions: signed acknowledgement of alarms, limits by grade and per room, sensor registration."""

from __future__ import annotations

from decimal import Decimal

import pytest

from batchline.compliance.models import AuditEntry
from batchline.compliance.signatures import signature_applies
from batchline.core.errors import DomainError, PermissionDenied, ReasonRequired
from batchline.core.models import OutboxEvent
from batchline.environment import selectors, services
from batchline.environment.ingestion import ingest_reading
from batchline.environment.limits import DEFAULT_LIMITS, Limits, check_order
from batchline.environment.models import Alarm, GradeLimit, Sensor
from batchline.identity.errors import AuthenticationFailed
from environment.conftest import Plant, signature

pytestmark = pytest.mark.req("EQ-06")


def _alarm(plant: Plant, value: str = "25.5", device: str = "TT-RB1") -> Alarm:
    ingest_reading(plant.reading(device, value))
    return Alarm.objects.select_related("room", "sensor").latest("id")


# --- acknowledgement ---------------------------------------------------------------------------------

def test_an_alarm_is_acknowledged_with_a_signature_and_an_audit_entry(plant: Plant) -> None:
    alarm = _alarm(plant)
    acked = services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead),
                                       comment="door left open during material transfer")
    assert (acked.state, acked.acknowledged_by) == ("acknowledged", plant.lead)
    assert acked.signature is not None and acked.signature.meaning == "acknowledge"
    assert acked.signature.meaning_zh == "报警已确认"
    assert signature_applies(acked.signature, acked)
    entry = AuditEntry.objects.get(record_type="environment.alarm", action="acknowledge")
    assert (entry.actor_username, entry.signature_id, entry.reason) == (
        "lead", acked.signature.pk, "door left open during material transfer")
    assert OutboxEvent.objects.filter(event_type="environment.alarm.acknowledged").count() == 1


def test_acknowledging_an_alarm_already_back_within_limits_closes_it(plant: Plant) -> None:
    alarm = _alarm(plant)
    ingest_reading(plant.reading("TT-RB1", "22"))
    acked = services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead))
    assert acked.state == "closed" and acked.closed_at is not None


def test_an_acknowledged_alarm_closes_when_the_readings_return_within_limits(plant: Plant) -> None:
    alarm = _alarm(plant)
    services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead))
    ingest_reading(plant.reading("TT-RB1", "22"))
    alarm.refresh_from_db()
    assert alarm.state == "closed" and alarm.cleared_at is not None


def test_an_acknowledged_alert_that_reaches_action_level_needs_a_new_acknowledgement(plant: Plant) -> None:
    alarm = _alarm(plant)
    services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead))
    ingest_reading(plant.reading("TT-RB1", "27"))
    alarm.refresh_from_db()
    assert (alarm.state, alarm.level) == ("open", "action")
    assert alarm.signature is not None and not signature_applies(alarm.signature, alarm)  # signed for alert


def test_acknowledging_an_escalated_alarm_again_audits_the_first_acknowledgement_as_the_old_value(
        plant: Plant) -> None:
    alarm = _alarm(plant)
    first = services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead))
    ingest_reading(plant.reading("TT-RB1", "27"))  # action level: open again
    services.acknowledge_alarm(actor=plant.qa, alarm_id=alarm.pk, signature=signature(plant.qa))
    entry = AuditEntry.objects.filter(record_type="environment.alarm", action="acknowledge").latest("id")
    changes = {name: (old, new) for name, old, new in entry.change_items}
    assert changes["acknowledged_by"] == ("lead", "qa")
    assert changes["acknowledged_at"][0] is not None and changes["acknowledged_at"][0] != changes["acknowledged_at"][1]
    assert first.acknowledged_at is not None


def test_an_alarm_cannot_be_acknowledged_twice(plant: Plant) -> None:
    alarm = _alarm(plant)
    services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead))
    with pytest.raises(DomainError) as refused:
        services.acknowledge_alarm(actor=plant.qa, alarm_id=alarm.pk, signature=signature(plant.qa))
    assert refused.value.code == "alarm_not_open"


def test_a_wrong_password_acknowledges_nothing(plant: Plant) -> None:
    alarm = _alarm(plant)
    with pytest.raises(AuthenticationFailed):
        services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk,
                                   signature=signature(plant.lead, password="wrong-password-1"))
    alarm.refresh_from_db()
    assert alarm.state == "open" and alarm.signature is None
    assert not AuditEntry.objects.filter(action="acknowledge").exists()


def test_an_operator_may_not_acknowledge(plant: Plant) -> None:
    alarm = _alarm(plant)
    with pytest.raises(PermissionDenied):
        services.acknowledge_alarm(actor=plant.operator, alarm_id=alarm.pk, signature=signature(plant.operator))


def test_a_signature_with_another_meaning_is_refused(plant: Plant) -> None:
    alarm = _alarm(plant)
    with pytest.raises(DomainError) as refused:
        services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead, "approve"))
    assert refused.value.code == "meaning_not_allowed"


# --- limits --------------------------------------------------------------------------------------------

def test_the_default_particle_action_limits_are_annex_1_in_operation() -> None:
    assert DEFAULT_LIMITS["A"]["particles_0_5"].action_high == Decimal("3520")
    assert DEFAULT_LIMITS["A"]["particles_5_0"].action_high == Decimal("29")
    assert DEFAULT_LIMITS["B"]["particles_0_5"].action_high == Decimal("352000")
    assert DEFAULT_LIMITS["B"]["particles_5_0"].action_high == Decimal("2930")
    assert DEFAULT_LIMITS["C"]["particles_0_5"].action_high == Decimal("3520000")
    assert DEFAULT_LIMITS["C"]["particles_5_0"].action_high == Decimal("29300")


@pytest.mark.parametrize(("grade", "parameter"), [(g, p) for g, table in DEFAULT_LIMITS.items() for p in table])
def test_every_default_band_reads_in_order(grade: str, parameter: str) -> None:
    assert check_order(DEFAULT_LIMITS[grade][parameter])


@pytest.mark.parametrize(("value", "level"), [("17.9", "action"), ("18", "alert"), ("18.5", "alert"), ("19", "ok"),
                                              ("25", "ok"), ("25.01", "alert"), ("26", "alert"), ("26.1", "action")])
def test_a_value_is_judged_against_the_band(value: str, level: str) -> None:
    assert DEFAULT_LIMITS["B"]["temperature"].level(Decimal(value)) == level


def test_limits_out_of_order_are_refused(plant: Plant) -> None:
    with pytest.raises(DomainError) as refused:
        services.set_room_limits(actor=plant.qa, room_code="RB1", parameter="temperature", reason="tighter",
                                 limits=services.parse_limits({"alert_low": "20", "alert_high": "19"}))
    assert refused.value.code == "limits_out_of_order"


def test_a_room_limit_wins_over_the_grade_and_is_audited(plant: Plant) -> None:
    services.set_room_limits(actor=plant.qa, room_code="RB1", parameter="temperature",
                             reason="CC-12: product needs ≤ 24 °C",
                             limits=services.parse_limits({"alert_high": "23", "action_high": "24"}))
    ingest_reading(plant.reading("TT-RB1", "24.5"))  # within the grade's limits, action for this room
    assert Alarm.objects.get().level == "action"
    entry = AuditEntry.objects.get(record_type="environment.roomlimit")
    assert entry.reason == "CC-12: product needs ≤ 24 °C" and entry.action == "set_limits"


def test_a_room_limit_taken_back_returns_the_room_to_its_grade(plant: Plant) -> None:
    services.set_room_limits(actor=plant.qa, room_code="RB1", parameter="temperature", reason="trial",
                             limits=Limits(alert_high=Decimal("23"), action_high=Decimal("24")))
    services.set_room_limits(actor=plant.qa, room_code="RB1", parameter="temperature", reason="trial over",
                             limits=None)
    source = selectors.limits_in_force([plant.rooms["RB1"]])[(plant.rooms["RB1"].pk, "temperature")]
    assert source.source == "default" and source.limits == DEFAULT_LIMITS["B"]["temperature"]


def test_a_sites_grade_limit_applies_to_every_room_of_the_grade(plant: Plant) -> None:
    services.set_grade_limits(actor=plant.qa, grade="D", parameter="particles_0_5", reason="site SOP-EM-003",
                              limits=Limits(alert_high=Decimal("100000"), action_high=Decimal("200000")))
    ingest_reading(plant.reading("PC05-RD1", "250000"))
    assert Alarm.objects.get().level == "action"
    assert GradeLimit.objects.get().changed_by == plant.qa


def test_changing_limits_needs_a_reason_and_the_permission(plant: Plant) -> None:
    with pytest.raises(ReasonRequired):
        services.set_room_limits(actor=plant.qa, room_code="RB1", parameter="humidity", reason=" ",
                                 limits=Limits(alert_high=Decimal("55")))
    with pytest.raises(PermissionDenied):
        services.set_room_limits(actor=plant.lead, room_code="RB1", parameter="humidity", reason="x",
                                 limits=Limits(alert_high=Decimal("55")))


@pytest.mark.parametrize("bad", [{"alert_high": "abc"}, {"alert_high": 1.5}, {"alert_high": "1.23456"}])
def test_limits_must_be_decimals(bad: dict[str, object]) -> None:
    with pytest.raises(DomainError) as refused:
        services.parse_limits(bad)
    assert refused.value.field == "alert_high"


# --- sensors ------------------------------------------------------------------------------------------

@pytest.mark.req("AC-06")
def test_registering_a_sensor_is_audited_and_takes_the_parameters_unit(plant: Plant) -> None:
    sensor = services.register_sensor(actor=plant.qa, registration=services.SensorRegistration(
        device_id="HT-RD1", room="RD1", parameter="humidity"), reason="new probe")
    assert sensor.unit == "%RH" and sensor.active
    entry = AuditEntry.objects.get(record_type="environment.sensor", record_id=str(sensor.pk))
    assert entry.action == "register" and entry.actor_username == "qa"


@pytest.mark.req("AC-06")
@pytest.mark.parametrize(("registration", "code"), [
    (services.SensorRegistration("TT-RB1", "RB1", "temperature"), "sensor_exists"),
    (services.SensorRegistration("TT/X", "RB1", "temperature"), "invalid_input"),
    (services.SensorRegistration("TT-X", "NOPE", "temperature"), "room_not_monitorable"),
    (services.SensorRegistration("TT-X", "RB1", "noise"), "invalid_input"),
])
def test_a_sensor_registration_that_is_wrong_is_refused(plant: Plant, registration: services.SensorRegistration,
                                                        code: str) -> None:
    with pytest.raises(DomainError) as refused:
        services.register_sensor(actor=plant.qa, registration=registration)
    assert refused.value.code == code
    assert Sensor.objects.count() == len(plant.sensors)


@pytest.mark.req("AC-06")
def test_only_the_configure_permission_registers_sensors(plant: Plant) -> None:
    with pytest.raises(PermissionDenied):
        services.register_sensor(actor=plant.gateway, registration=services.SensorRegistration(
            "TT-NEW", "RB1", "temperature"))


def test_a_sensor_change_needs_a_reason_and_a_change(plant: Plant) -> None:
    with pytest.raises(ReasonRequired):
        services.change_sensor(actor=plant.qa, device_id="TT-RB1", active=False, reason="")
    with pytest.raises(DomainError):
        services.change_sensor(actor=plant.qa, device_id="TT-RB1", active=True, reason="already on")


def test_standard_registrations_cover_the_parameters_a_grade_has_limits_for(plant: Plant) -> None:
    from batchline.masterdata.models import Room

    room_b = plant.rooms["RB1"]
    assert [r.device_id for r in services.standard_registrations(room_b)] == [
        "TT-RB1", "HT-RB1", "PT-RB1", "PC05-RB1", "PC50-RB1"]
    unclassified = Room(code="W105", cleanroom_grade="U")
    assert [r.parameter for r in services.standard_registrations(unclassified)] == ["temperature", "humidity"]
