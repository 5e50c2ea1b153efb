"""Qualification and calibration records (EQ-02): signed, dated, and a failed one takes the equipment out
of service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError, PermissionDenied
from batchline.core.models import OutboxEvent
from batchline.equipment import qualification, status
from batchline.equipment.choices import EquipmentStatus, LogKind
from batchline.equipment.errors import InvalidMeasurement
from batchline.equipment.models import Calibration, LogbookEntry, Qualification
from conftest import sig
from equipment.plant import (  # noqa: F401
    BALANCE,
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


@pytest.mark.req("EQ-02")
def test_a_qualification_is_signed_logged_and_announced(eq: Any, register: Any, qualify: Any) -> None:
    equipment = register()
    record = qualify(equipment, valid_days=365)
    assert record.valid_until == record.performed_on + timedelta(days=365)
    audit = AuditEntry.objects.get(record_type="equipment.qualification", record_id=str(record.pk))
    assert audit.signature is not None and audit.signature.meaning == "qualification"
    entry = LogbookEntry.objects.filter(equipment=equipment, kind=LogKind.QUALIFICATION).get()
    assert entry.reference == record.document_ref
    assert OutboxEvent.objects.get(event_type=qualification.QUALIFICATION_RECORDED).payload["stage"] == "PQ"


def test_recording_a_qualification_needs_equipment_qualify(eq: Any, register: Any) -> None:
    equipment = register()
    with pytest.raises(PermissionDenied):
        qualification.record_qualification(
            actor=eq.operator, equipment_id=equipment.pk, stage="PQ", performed_on="2026-03-01", result="pass",
            valid_until="2027-03-01", document_ref="PQ-1", signature=sig(eq.operator, "qualification"))
    assert not Qualification.objects.exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"performed_on": "2026-03-03"}, "performed_on"),  # tomorrow
    ({"valid_until": "2026-02-01"}, "valid_until"),  # before it was performed
    ({"valid_until": None}, "valid_until"),  # a passed PQ needs the requalification date
    ({"document_ref": ""}, "document_ref"),
    ({"stage": "XQ"}, "stage"),
])
def test_bad_qualification_input_names_the_field_and_writes_nothing(eq: Any, register: Any,
                                                                     changes: dict[str, Any], field: str) -> None:
    equipment = register()
    data = {"stage": "PQ", "performed_on": "2026-03-01", "result": "pass", "valid_until": "2027-03-01",
            "document_ref": "PQ-GR-01", **changes}
    with pytest.raises(DomainError) as refusal:
        qualification.record_qualification(actor=eq.qa, equipment_id=equipment.pk, **data,
                                           signature=sig(eq.qa, "qualification"))
    assert refusal.value.field == field
    assert not Qualification.objects.exists()


@pytest.mark.req("EQ-02")
def test_a_calibration_keeps_certificate_and_measurements(eq: Any, register: Any, calibrate: Any) -> None:
    balance = register(BALANCE)
    record = calibrate(balance, measurements=[
        {"nominal": "1", "reading": "1.0004", "tolerance": "0.001", "unit": "kg"},
        {"nominal": "50", "reading": "49.999", "tolerance": "0.005", "unit": "kg"}])
    assert record.certificate_ref.startswith("CAL-BAL-01")
    assert record.measurements[1] == {"nominal": "50", "reading": "49.999", "tolerance": "0.005", "unit": "kg",
                                      "within_tolerance": "yes"}
    audit = AuditEntry.objects.get(record_type="equipment.calibration", record_id=str(record.pk))
    assert audit.signature is not None and audit.signature.meaning == "calibration"


def test_a_passed_calibration_with_a_point_out_of_tolerance_is_refused(eq: Any, register: Any,
                                                                      calibrate: Any) -> None:
    balance = register(BALANCE)
    with pytest.raises(InvalidMeasurement) as refusal:
        calibrate(balance, measurements=[{"nominal": "50", "reading": "50.02", "tolerance": "0.005", "unit": "kg"}])
    assert refusal.value.field == "measurements.0.reading"
    assert not Calibration.objects.exists()


def test_a_measurement_as_a_float_is_refused(eq: Any, register: Any, calibrate: Any) -> None:
    balance = register(BALANCE)
    with pytest.raises(DomainError) as refusal:
        calibrate(balance, measurements=[{"nominal": 50.0, "reading": "50", "tolerance": "0.005", "unit": "kg"}])
    assert refusal.value.field == "measurements.0.nominal"


@pytest.mark.req("EQ-02")
def test_a_failed_calibration_puts_the_equipment_out_of_service(eq: Any, usable: Any, calibrate: Any) -> None:
    balance = usable(BALANCE)
    assert balance.status == S.CLEAN
    calibrate(balance, result="fail",
              measurements=[{"nominal": "50", "reading": "50.02", "tolerance": "0.005", "unit": "kg"}])
    balance = fresh(balance)
    assert balance.status == S.OUT_OF_SERVICE
    entry = LogbookEntry.objects.filter(equipment=balance).last()
    assert entry is not None and entry.status_after == S.OUT_OF_SERVICE and "failed" in entry.text


@pytest.mark.req("EQ-02")
def test_a_failed_qualification_keeps_quarantined_equipment_quarantined(eq: Any, usable: Any,
                                                                        qualify: Any) -> None:
    equipment = usable()
    status.take_out_of_use(actor=eq.qa, equipment_id=equipment.pk, status=S.QUARANTINED, reason="DV-3")
    qualify(equipment, stage="RQ", result="fail")
    assert fresh(equipment).status == S.QUARANTINED


@pytest.mark.req("EQ-02", "EQ-03")
def test_a_failed_record_during_a_cleaning_interrupts_the_cleaning(eq: Any, usable: Any, qualify: Any) -> None:
    from batchline.equipment import cleaning
    from batchline.equipment.choices import CleaningState
    from batchline.equipment.errors import WrongCleaningState

    equipment = usable()
    before = cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="major")
    cleaning.finish_cleaning(actor=eq.operator, equipment_id=equipment.pk, cleaning_id=before.pk)
    qualify(equipment, stage="RQ", result="fail")  # the cleaning is awaiting verification: out of service
    before.refresh_from_db()
    assert fresh(equipment).status == S.OUT_OF_SERVICE and before.state == CleaningState.REJECTED
    assert LogbookEntry.objects.filter(equipment=equipment, details__action="interrupt_cleaning").exists()

    status.release_equipment(actor=eq.qa, equipment_id=equipment.pk, reason="Repaired: WO-18",
                             signature=sig(eq.qa, "release"))
    cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="major")
    # The cleaning from before the failure cannot stand in for the one after the release.
    with pytest.raises(WrongCleaningState):
        cleaning.verify_cleaning(actor=eq.verifier, equipment_id=equipment.pk, cleaning_id=before.pk,
                                 signature=sig(eq.verifier, "verify"))
    assert fresh(equipment).major_clean_required
