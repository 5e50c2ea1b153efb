"""The equipment register (EQ-01): register, change with a reason, retire; each writes the logbook and the
audit trail automatically."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError, PermissionDenied, ReasonRequired
from batchline.core.models import OutboxEvent
from batchline.equipment.choices import EquipmentStatus, LogKind
from batchline.equipment.errors import DuplicateEquipment, EquipmentRetired, NoChange
from batchline.equipment.models import Equipment, LogbookEntry
from batchline.equipment.register import change_equipment, register_equipment, retire_equipment
from equipment.plant import BALANCE, GRANULATOR, at_fixture, eq_fixture, register_fixture  # noqa: F401


@pytest.mark.req("EQ-01")
def test_registering_writes_the_logbook_the_audit_trail_and_an_event(register: Any) -> None:
    equipment = register()
    assert equipment.status == EquipmentStatus.DIRTY
    assert equipment.major_clean_required
    assert equipment.room.code == "R102" and equipment.capacity == Decimal("300")
    entry = LogbookEntry.objects.get(equipment=equipment)
    assert entry.kind == LogKind.REGISTERED and entry.status_after == EquipmentStatus.DIRTY
    assert entry.actor_name == "王明 Wang Ming"
    audit = AuditEntry.objects.get(record_type="equipment.equipment", record_id=str(equipment.pk))
    assert audit.action == "registered"
    event = OutboxEvent.objects.get(event_type="equipment.equipment.registered")
    assert event.payload["code"] == "GR-01" and event.payload["capacity"] == "300"


def test_a_balance_keeps_its_weighing_properties(register: Any) -> None:
    balance = register(BALANCE)
    assert (balance.max_load, balance.readability, balance.minimum_weight) == (
        Decimal("60"), Decimal("0.001"), Decimal("0.5"))
    assert balance.weighing_unit.code == "kg"


@pytest.mark.parametrize("missing", ["weighing_unit", "max_load", "readability", "minimum_weight"])
def test_a_balance_without_its_weighing_properties_is_refused(eq: Any, missing: str) -> None:
    with pytest.raises(DomainError) as refusal:
        register_equipment(actor=eq.manager, data={**BALANCE, missing: ""})
    assert refusal.value.field == missing
    assert not Equipment.objects.exists()


def test_a_minimum_weight_below_the_readability_is_refused(eq: Any) -> None:
    with pytest.raises(DomainError) as refusal:
        register_equipment(actor=eq.manager, data={**BALANCE, "minimum_weight": "0.0005"})
    assert refusal.value.field == "minimum_weight"


@pytest.mark.parametrize(("name", "value"), [("room", "R999"), ("capacity_unit", "gallon"), ("capacity", 1.5),
                                             ("kind", "spaceship"), ("clean_hold_hours", "-3"), ("colour", "red")])
def test_bad_register_data_names_the_field_and_writes_nothing(eq: Any, name: str, value: Any) -> None:
    with pytest.raises(DomainError) as refusal:
        register_equipment(actor=eq.manager, data={**GRANULATOR, name: value})
    assert refusal.value.field == name
    assert not Equipment.objects.exists() and not LogbookEntry.objects.exists()


def test_the_equipment_id_is_unique(register: Any) -> None:
    register()
    with pytest.raises(DuplicateEquipment):
        register(code="gr-01")


def test_registering_needs_equipment_manage(eq: Any) -> None:
    with pytest.raises(PermissionDenied):
        register_equipment(actor=eq.operator, data=GRANULATOR)


@pytest.mark.req("EQ-01")
def test_a_change_needs_a_reason_and_is_logged_with_old_and_new_values(eq: Any, register: Any) -> None:
    equipment = register()
    with pytest.raises(ReasonRequired):
        change_equipment(actor=eq.manager, equipment_id=equipment.pk, data={"clean_hold_hours": 48}, reason=" ")
    change_equipment(actor=eq.manager, equipment_id=equipment.pk, data={"clean_hold_hours": 48, "room": "R104"},
                     reason="Validation report VR-12 supports 48 h")
    equipment.refresh_from_db()
    assert equipment.clean_hold_hours == 48 and equipment.room.code == "R104"
    entry = LogbookEntry.objects.filter(equipment=equipment).last()
    assert entry is not None and entry.kind == LogKind.CHANGED
    assert "Validation report VR-12" in entry.text
    audit = AuditEntry.objects.filter(record_type="equipment.equipment", action="changed").get()
    assert '"clean_hold_hours":[72,48]' in audit.changes and '"room":["R102","R104"]' in audit.changes
    assert audit.reason == "Validation report VR-12 supports 48 h"


def test_a_change_that_changes_nothing_is_refused(eq: Any, register: Any) -> None:
    equipment = register()
    with pytest.raises(NoChange):
        change_equipment(actor=eq.manager, equipment_id=equipment.pk, data={"capacity": "300.000"}, reason="same")


def test_the_equipment_id_cannot_be_changed(eq: Any, register: Any) -> None:
    equipment = register()
    with pytest.raises(DomainError) as refusal:
        change_equipment(actor=eq.manager, equipment_id=equipment.pk, data={"code": "GR-02"}, reason="typo")
    assert refusal.value.field == "code"


def test_retired_equipment_stays_but_nothing_more_is_recorded(eq: Any, register: Any) -> None:
    equipment = register()
    retire_equipment(actor=eq.manager, equipment_id=equipment.pk, reason="Scrapped after flood damage")
    equipment.refresh_from_db()
    assert not equipment.active
    with pytest.raises(EquipmentRetired):
        change_equipment(actor=eq.manager, equipment_id=equipment.pk, data={"clean_hold_hours": 1}, reason="x")
    assert LogbookEntry.objects.filter(equipment=equipment).count() == 2
