"""Weighing on a connected balance (EQ-04, AC-06): against the real OPC UA device simulator, a stable good
reading from a registered, usable, daily-checked balance is accepted; every other case is refused with
its own reason. The daily check is a recorded procedure: BalanceCheck, logbook, audit trail, event."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from batchline.compliance.models import AuditEntry
from batchline.core.errors import InvalidInput, PermissionDenied
from batchline.core.models import OutboxEvent
from batchline.equipment import balances, opcua
from batchline.equipment.balances import (
    AboveMaximumLoad,
    BelowMinimumWeight,
    DailyCheckFailed,
    DailyCheckMissing,
    DeviceIdentityMismatch,
    DeviceNotRegistered,
    NotABalance,
    WeighingUnitMismatch,
    WeightNotStable,
    perform_daily_check,
    read_weight,
)
from batchline.equipment.choices import LogKind
from batchline.equipment.errors import EquipmentNotUsable, EquipmentRetired
from batchline.equipment.models import BalanceCheck, LogbookEntry
from batchline.equipment.opcua import DeviceUnreachable, DeviceValueNotGood
from batchline.equipment.register import change_equipment, retire_equipment
from batchline.equipment.simulator import balance_node_id
from equipment.devices import balance_fixture, checked_fixture  # noqa: F401
from equipment.plant import (  # noqa: F401
    BALANCE,
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)
from plugins.opcua import free_port

TW = [{"weight_id": "TW-2KG", "nominal": "2", "tolerance": "0.002"}]


def weigh(eq: Any) -> Any:
    return read_weight(actor=eq.operator, equipment_code="BAL-01")


# --- weighing ------------------------------------------------------------------------------------

@pytest.mark.req("EQ-04", "AC-06")
def test_a_stable_good_reading_from_a_registered_checked_balance_is_accepted(eq: Any, checked: Any,
                                                                           sim: Any) -> None:
    sim.set_tare("BAL-01", "1.200")
    sim.set_weight("BAL-01", "12.345")

    weight = weigh(eq)

    assert (weight.net, weight.tare, weight.gross, weight.unit) == (
        Decimal("12.345"), Decimal("1.200"), Decimal("13.545"), "kg")
    assert weight.status_code == "Good" and weight.source_timestamp is not None
    assert weight.equipment == "BAL-01" and weight.serial_number == "SN-BAL-01"


@pytest.mark.req("EQ-04")
@pytest.mark.parametrize("status", ["BadSensorFailure", "UncertainLastUsableValue"])
def test_a_bad_or_uncertain_reading_is_refused(eq: Any, checked: Any, sim: Any, status: str) -> None:
    sim.set_weight("BAL-01", "5.000")
    sim.set_status("BAL-01", status)

    with pytest.raises(DeviceValueNotGood) as refused:
        weigh(eq)
    assert status in refused.value.render()


@pytest.mark.req("EQ-04")
def test_an_unstable_reading_is_refused(eq: Any, checked: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "5.000", stable=False)

    with pytest.raises(WeightNotStable):
        weigh(eq)


@pytest.mark.req("EQ-04", "AC-06")
def test_an_uncalibrated_balance_is_refused(eq: Any, register: Any, qualify: Any, clean: Any, sim: Any) -> None:
    balance = register(BALANCE, opcua_endpoint=sim.endpoint, opcua_node=balance_node_id("BAL-01"))
    qualify(balance)
    clean(balance)
    sim.set_weight("BAL-01", "5.000")

    with pytest.raises(EquipmentNotUsable) as refused:
        weigh(eq)
    assert refused.value.reason_codes == ["not_calibrated"]


@pytest.mark.req("EQ-04")
def test_a_balance_past_its_calibration_due_date_is_refused(eq: Any, usable: Any, at: Any, sim: Any) -> None:
    usable(BALANCE, opcua_endpoint=sim.endpoint, opcua_node=balance_node_id("BAL-01"))  # calibration due in 180 d
    at.advance(days=180)
    perform_daily_check_typed = {"weight_id": "TW-2KG", "nominal": "2", "tolerance": "0.002", "reading": "2"}

    with pytest.raises(EquipmentNotUsable) as refused:
        perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=[perform_daily_check_typed])
    assert refused.value.reason_codes == ["calibration_due"]
    with pytest.raises(EquipmentNotUsable):
        weigh(eq)


@pytest.mark.req("AC-06")
def test_a_balance_that_is_not_registered_is_refused(eq: Any) -> None:
    with pytest.raises(DeviceNotRegistered) as refused:
        read_weight(actor=eq.operator, equipment_code="BAL-77")
    assert refused.value.code == "device_not_registered" and "BAL-77" in refused.value.render()


@pytest.mark.req("AC-06")
def test_a_retired_balance_is_refused(eq: Any, checked: Any) -> None:
    retire_equipment(actor=eq.manager, equipment_id=checked.pk, reason="Replaced by BAL-03")

    with pytest.raises(EquipmentRetired):
        weigh(eq)


@pytest.mark.req("AC-06")
def test_equipment_that_is_not_a_balance_is_refused(eq: Any, usable: Any) -> None:
    usable()  # the granulator GR-01

    with pytest.raises(NotABalance):
        read_weight(actor=eq.operator, equipment_code="GR-01")


@pytest.mark.req("AC-06")
def test_another_device_behind_the_registered_endpoint_is_refused(eq: Any, checked: Any, sim: Any) -> None:
    change_equipment(actor=eq.manager, equipment_id=checked.pk, data={"serial_number": "SN-OTHER"},
                     reason="Serial number per the new nameplate")
    sim.set_weight("BAL-01", "5.000")

    with pytest.raises(DeviceIdentityMismatch) as refused:
        weigh(eq)
    assert "SN-BAL-01" in refused.value.render()


@pytest.mark.req("AC-06")
def test_a_device_that_reports_no_serial_number_is_refused_when_one_is_registered(checked: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "5.000")
    reading = opcua.read_balance(sim.endpoint, balance_node_id("BAL-01"), readability=Decimal("0.001"))
    assert balances.accept(checked, reading) == reading  # it reports the registered SN-BAL-01

    with pytest.raises(DeviceIdentityMismatch):
        balances.accept(checked, dataclasses.replace(reading, serial_number=""))


@pytest.mark.req("EQ-04")
def test_without_a_daily_check_today_weighing_is_refused(eq: Any, balance: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "5.000")

    with pytest.raises(DailyCheckMissing):
        weigh(eq)


@pytest.mark.req("EQ-04")
def test_a_daily_check_covers_its_site_calendar_day_only(eq: Any, checked: Any, at: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "5.000")
    assert weigh(eq).net == Decimal("5.000")

    at.advance(days=1)

    with pytest.raises(DailyCheckMissing):
        weigh(eq)


@pytest.mark.req("EQ-04")
def test_a_failed_daily_check_blocks_weighing_until_recalibrated_and_checked_again(
        eq: Any, checked: Any, at: Any, sim: Any, calibrate: Any) -> None:
    at.advance(minutes=30)
    sim.set_weight("BAL-01", "2.010")
    failed = perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=TW)
    assert failed.result == "fail"
    sim.set_weight("BAL-01", "5.000")
    with pytest.raises(DailyCheckFailed):
        weigh(eq)

    at.advance(minutes=10)
    perform_daily_check(actor=eq.operator, equipment_code="BAL-01",
                        points=[{**TW[0], "reading": "2.000"}])  # passing again, without recalibration
    with pytest.raises(DailyCheckFailed):
        weigh(eq)

    at.advance(hours=2)
    calibrate(checked)
    at.advance(minutes=10)
    perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=[{**TW[0], "reading": "2.000"}])
    assert weigh(eq).net == Decimal("5.000")


@pytest.mark.req("EQ-04")
def test_a_weight_below_the_minimum_weight_is_refused(eq: Any, checked: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "0.499")  # minimum weight 0.5 kg

    with pytest.raises(BelowMinimumWeight) as refused:
        weigh(eq)
    assert "0.5" in refused.value.render()


def test_a_weight_above_the_maximum_load_is_refused(eq: Any, checked: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "60.5")  # maximum load 60 kg

    with pytest.raises(AboveMaximumLoad):
        weigh(eq)


@pytest.mark.req("EQ-04")
def test_a_reading_in_another_unit_than_the_balance_is_registered_for_is_refused(eq: Any, checked: Any,
                                                                               sim: Any) -> None:
    sim.set_weight("BAL-01", "5.000")
    sim.set_unit("BAL-01", "g")

    with pytest.raises(WeighingUnitMismatch) as refused:
        weigh(eq)
    with translation.override("en"):
        assert "'g'" in refused.value.render()


@pytest.mark.req("EQ-04")
def test_a_balance_that_cannot_be_reached_is_reported_not_ignored(eq: Any, checked: Any) -> None:
    change_equipment(actor=eq.manager, equipment_id=checked.pk,
                     data={"opcua_endpoint": f"opc.tcp://127.0.0.1:{free_port()}/"}, reason="Gateway moved")

    with pytest.raises(DeviceUnreachable) as refused:
        weigh(eq)
    assert refused.value.http_status == 502


def test_weighing_needs_the_operate_permission(eq: Any, checked: Any) -> None:
    with pytest.raises(PermissionDenied):
        read_weight(actor=eq.manager, equipment_code="BAL-01")


# --- the daily check -----------------------------------------------------------------------------

@pytest.mark.req("EQ-04")
def test_the_daily_check_reads_each_test_weight_from_the_balance_and_is_recorded(eq: Any, balance: Any,
                                                                                 sim: Any) -> None:
    sim.set_weight("BAL-01", "1.001")
    first = opcua.read_balance(sim.endpoint, balance_node_id("BAL-01"), readability=Decimal("0.001"))
    sim.set_weight("BAL-01", "9.998")
    second = opcua.read_balance(sim.endpoint, balance_node_id("BAL-01"), readability=Decimal("0.001"))

    check = perform_daily_check(actor=eq.operator, equipment_code="BAL-01", readings=[first, second], points=[
        {"weight_id": "TW-1KG", "nominal": "1", "tolerance": "0.002"},
        {"weight_id": "TW-10KG", "nominal": "10", "tolerance": "0.005"}])

    assert check.result == "pass" and check.valid_on.isoformat() == "2026-03-02"
    assert [(p["weight_id"], p["reading"], p["deviation"], p["source"], p["status_code"], p["pass"])
            for p in check.points] == [("TW-1KG", "1.001", "0.001", "balance", "Good", True),
                                       ("TW-10KG", "9.998", "-0.002", "balance", "Good", True)]
    assert all(p["source_timestamp"] and p["unit"] == "kg" for p in check.points)
    entry = LogbookEntry.objects.filter(equipment=balance, kind=LogKind.CHECK).get()
    assert entry.details["result"] == "pass" and entry.actor == eq.operator
    assert "2 test weight" in entry.text
    assert AuditEntry.objects.filter(record_type="equipment.balancecheck", record_id=str(check.pk)).count() == 1
    event = OutboxEvent.objects.get(event_type=balances.CHECK_RECORDED)
    assert event.payload["result"] == "pass" and event.payload["equipment"] == "BAL-01"


@pytest.mark.req("EQ-04")
def test_a_test_weight_outside_its_tolerance_fails_the_check(eq: Any, balance: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "2.003")

    check = perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=TW)

    assert check.result == "fail" and check.points[0]["pass"] is False and check.points[0]["deviation"] == "0.003"
    assert "TW-2KG" in LogbookEntry.objects.filter(equipment=balance, kind=LogKind.CHECK).get().text


def test_typed_readings_are_recorded_as_manual(eq: Any, balance: Any) -> None:
    check = perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=[{**TW[0], "reading": "2.001"}])

    assert check.result == "pass"
    assert (check.points[0]["source"], check.points[0]["status_code"], check.points[0]["source_timestamp"]) == (
        "manual", "", None)


@pytest.mark.req("EQ-04")
def test_an_unstable_or_bad_test_weight_reading_records_nothing(eq: Any, balance: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "2.000", stable=False)
    with pytest.raises(WeightNotStable):
        perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=TW)
    sim.set_weight("BAL-01", "2.000")
    sim.set_status("BAL-01", "BadSensorFailure")
    with pytest.raises(DeviceValueNotGood):
        perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=TW)

    assert not BalanceCheck.objects.exists()


@pytest.mark.parametrize(("points", "field"), [
    ([], "points"),
    ([{"weight_id": "", "nominal": "2", "tolerance": "0.002"}], "points.0.weight_id"),
    ([{"weight_id": "A", "nominal": "2", "tolerance": "-1"}], "points.0.tolerance"),
    ([{"weight_id": "A", "nominal": 2.0, "tolerance": "0.1"}], "points.0.nominal"),
    ([{"weight_id": "A", "nominal": "2", "tolerance": "0.1"}, {"weight_id": "A", "nominal": "5", "tolerance": "0.1"}],
     "points.1.weight_id"),
])
def test_a_daily_check_with_invalid_points_is_refused(eq: Any, balance: Any, points: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=points)
    assert refused.value.field == field
    assert not BalanceCheck.objects.exists()
