"""Cleaning (EQ-03): records with type, who cleaned and who verified (four eyes, signed); clean-hold and
dirty-hold times; a product change needs a major clean."""

from __future__ import annotations

from typing import Any

import pytest

from batchline.compliance.errors import FourEyesViolation
from batchline.compliance.models import AuditEntry
from batchline.core.models import OutboxEvent
from batchline.equipment import cleaning, holds, status
from batchline.equipment.choices import CleaningState, EquipmentStatus, LogKind
from batchline.equipment.errors import EquipmentNotUsable, MajorCleanRequired, WrongCleaningState
from batchline.equipment.models import LogbookEntry
from batchline.equipment.usability import Use, usability
from conftest import sig
from equipment.plant import (  # noqa: F401
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    fresh,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)

S = EquipmentStatus


def used(eq: Any, equipment: Any, product: str = "P-PARA", order: str = "MO-1") -> Any:
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order=order, product=product)
    status.end_use(actor=eq.operator, equipment_id=equipment.pk)
    return fresh(equipment)


@pytest.mark.req("EQ-03")
def test_a_cleaning_record_keeps_type_cleaner_and_verifier(eq: Any, usable: Any) -> None:
    equipment = used(eq, usable())
    record = cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor",
                                     procedure_ref="SOP-CL-002")
    assert fresh(equipment).status == S.CLEANING and record.previous_product.code == "P-PARA"
    cleaning.finish_cleaning(actor=eq.operator2, equipment_id=equipment.pk, cleaning_id=record.pk)
    assert fresh(equipment).status == S.CLEANING  # awaiting verification
    cleaning.verify_cleaning(actor=eq.verifier, equipment_id=equipment.pk, cleaning_id=record.pk,
                             signature=sig(eq.verifier, "verify"))
    record.refresh_from_db()
    assert record.state == CleaningState.VERIFIED and record.clean_type == "minor"
    assert (record.started_by, record.finished_by, record.verified_by) == (eq.operator, eq.operator2, eq.verifier)
    equipment = fresh(equipment)
    assert equipment.status == S.CLEAN and equipment.last_clean_type == "minor"
    assert equipment.last_cleaned_at == record.finished_at and equipment.dirty_since is None
    signed = AuditEntry.objects.get(record_type="equipment.cleaningrecord", record_id=str(record.pk), action="verify")
    assert signed.signature is not None and signed.signature.meaning == "verify"
    assert OutboxEvent.objects.filter(event_type=cleaning.VERIFIED).count() >= 1


@pytest.mark.req("EQ-03")
@pytest.mark.parametrize("who", ["started", "finished"])
def test_the_verifier_must_be_someone_else(eq: Any, usable: Any, make_user: Any, who: str) -> None:
    lead = make_user("shift_lead", "operator")  # may clean and verify, but not the same cleaning
    equipment = used(eq, usable())
    starter = lead if who == "started" else eq.operator
    finisher = lead if who == "finished" else eq.operator
    record = cleaning.start_cleaning(actor=starter, equipment_id=equipment.pk, clean_type="minor")
    cleaning.finish_cleaning(actor=finisher, equipment_id=equipment.pk, cleaning_id=record.pk)
    with pytest.raises(FourEyesViolation):
        cleaning.verify_cleaning(actor=lead, equipment_id=equipment.pk, cleaning_id=record.pk,
                                 signature=sig(lead, "verify"))
    record.refresh_from_db()
    assert record.state == CleaningState.DONE and fresh(equipment).status == S.CLEANING


def test_an_unfinished_cleaning_cannot_be_verified(eq: Any, usable: Any) -> None:
    equipment = used(eq, usable())
    record = cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="major")
    with pytest.raises(WrongCleaningState):
        cleaning.verify_cleaning(actor=eq.verifier, equipment_id=equipment.pk, cleaning_id=record.pk,
                                 signature=sig(eq.verifier, "verify"))


@pytest.mark.req("EQ-03")
def test_a_rejected_cleaning_sends_the_equipment_back_to_dirty(eq: Any, usable: Any) -> None:
    equipment = used(eq, usable())
    record = cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor")
    cleaning.finish_cleaning(actor=eq.operator, equipment_id=equipment.pk, cleaning_id=record.pk)
    cleaning.reject_cleaning(actor=eq.verifier, equipment_id=equipment.pk, cleaning_id=record.pk,
                             reason="Residue visible on the chopper blade")
    record.refresh_from_db()
    assert record.state == CleaningState.REJECTED and "chopper" in record.remarks
    assert fresh(equipment).status == S.DIRTY


@pytest.mark.req("EQ-03")
def test_new_equipment_needs_a_major_clean(eq: Any, register: Any) -> None:
    equipment = register()
    with pytest.raises(MajorCleanRequired):
        cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor")
    assert fresh(equipment).status == S.DIRTY


@pytest.mark.req("EQ-03")
def test_a_minor_clean_is_refused_when_the_next_product_differs(eq: Any, usable: Any) -> None:
    equipment = used(eq, usable(), product="P-PARA")
    with pytest.raises(MajorCleanRequired) as refusal:
        cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor",
                                next_product="P-IBU")
    assert "P-PARA" in refusal.value.render() and "P-IBU" in refusal.value.render()
    cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor", next_product="P-PARA")


@pytest.mark.req("EQ-03")
def test_a_product_change_after_a_minor_clean_is_refused_at_start_of_use(eq: Any, usable: Any,
                                                                         clean: Any) -> None:
    equipment = used(eq, usable(), product="P-PARA")
    clean(equipment, "minor")
    with pytest.raises(EquipmentNotUsable) as refusal:
        status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-2", product="P-IBU")
    assert refusal.value.reason_codes == ["product_change"]
    assert fresh(equipment).status == S.CLEAN
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-2", product="P-PARA")


@pytest.mark.req("EQ-03")
def test_after_a_major_clean_the_product_may_change(eq: Any, usable: Any, clean: Any) -> None:
    equipment = used(eq, usable(), product="P-PARA")
    clean(equipment, "major")
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-2", product="P-IBU")
    assert fresh(equipment).current_product.code == "P-IBU"


@pytest.mark.req("EQ-03")
def test_equipment_past_its_clean_hold_cannot_be_used(eq: Any, usable: Any, at: Any) -> None:
    equipment = usable()  # clean-hold 72 h from the end of cleaning
    at.advance(hours=71, minutes=59)
    assert usability(fresh(equipment), for_=Use.PRODUCTION) == []
    at.advance(minutes=1)
    with pytest.raises(EquipmentNotUsable) as refusal:
        status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-1", product="P-PARA")
    assert refusal.value.reason_codes == ["clean_hold_expired"]


@pytest.mark.req("EQ-03")
def test_equipment_past_its_clean_hold_can_be_cleaned_again(eq: Any, usable: Any, clean: Any, at: Any) -> None:
    equipment = usable()
    at.advance(hours=80)
    clean(equipment, "major")
    assert usability(fresh(equipment), for_=Use.PRODUCTION) == []


@pytest.mark.req("EQ-03")
def test_after_the_dirty_hold_a_minor_clean_is_refused_and_the_expiry_is_logged(eq: Any, usable: Any,
                                                                                 at: Any) -> None:
    equipment = used(eq, usable())  # dirty-hold 24 h
    at.advance(hours=25)
    with pytest.raises(MajorCleanRequired):
        cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor")
    cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="major")
    flagged = LogbookEntry.objects.filter(equipment=equipment, kind=LogKind.HOLD).get()
    assert flagged.details["hold"] == "dirty"
    assert OutboxEvent.objects.filter(event_type=holds.HOLD_EXPIRED).count() == 1


@pytest.mark.req("EQ-03")
def test_the_hold_sweep_flags_each_expiry_once(eq: Any, usable: Any, at: Any) -> None:
    dirty = used(eq, usable())
    clean_one = usable(code="GR-02")
    assert holds.flag_expired_holds() == 0
    at.advance(hours=73)
    assert holds.flag_expired_holds() == 2
    assert holds.flag_expired_holds() == 0
    kinds = {(e.equipment_id, e.details["hold"]) for e in LogbookEntry.objects.filter(kind=LogKind.HOLD)}
    assert kinds == {(dirty.pk, "dirty"), (clean_one.pk, "clean")}


def test_the_hold_command_flags_expiries(eq: Any, usable: Any, at: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    usable()
    at.advance(hours=73)
    out = StringIO()
    call_command("equipment_holds", stdout=out)
    assert out.getvalue().startswith("1 hold")
    assert LogbookEntry.objects.filter(kind=LogKind.HOLD).count() == 1
