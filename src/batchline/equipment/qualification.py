"""Qualification (IQ/OQ/PQ/requalification) and calibration records (EQ-02), each signed (equipment.qualify).

- A record is a fact about the past: performed on today or earlier, never in the future.
- PQ and requalification records that pass carry the requalification due date (`valid_until`);
  a calibration always carries the next due date (`due_on`), after the day it was performed.
- Calibration measurements (optional) are points {nominal, reading, tolerance, unit} as decimal strings;
  a point outside its tolerance contradicts a "pass" and is refused.
- A failed record puts the equipment out of service at once (logbook, audit, status event); a
  quarantined equipment stays quarantined. Only QA's signed release brings it back, and usability
  keeps refusing it until a passed record is on file (equipment.usability).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.signatures import SignatureRequest, sign
from batchline.core import clock
from batchline.core.errors import InvalidInput, ensure
from batchline.core.quantity import to_decimal
from batchline.equipment import logbook
from batchline.equipment.choices import EquipmentStatus, LogKind, QualificationStage, Result
from batchline.equipment.errors import InvalidMeasurement
from batchline.equipment.models import Calibration, Equipment, Qualification
from batchline.equipment.status import QUALIFY, change_status, ensure_active, transition
from batchline.equipment.usability import PASSED, QUALIFYING_STAGES, today
from batchline.identity.authz import authorize
from batchline.masterdata import units

QUALIFICATION_RECORDED = "equipment.qualification.recorded"
CALIBRATION_RECORDED = "equipment.calibration.recorded"
QUALIFICATION_MEANING = "qualification"  # equipment.apps: record type equipment.qualification
CALIBRATION_MEANING = "calibration"  # record type equipment.calibration


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("Expected a date, e.g. 2026-01-31."), field=field) from None


def _optional_date(value: Any, field: str) -> date | None:
    return None if value in (None, "") else _date(value, field)


def _text(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    ensure(text or not required, InvalidInput(_("This field is required."), field=field, code="required"))
    ensure(len(text) <= limit, InvalidInput(_("At most {limit} characters."), field=field, limit=limit))
    return text


def _performed_on(value: Any) -> date:
    performed = _date(value, "performed_on")
    ensure(performed <= today(), InvalidInput(_("The date cannot be in the future."), field="performed_on",
                                              code="future_date"))
    return performed


def _fail_if_failed(actor: Any, equipment: Equipment, result: str, record: str) -> None:
    if result in PASSED:
        return
    if transition(equipment.status, EquipmentStatus.OUT_OF_SERVICE, "failed_record") is None:
        return  # already out of service, or quarantined: it stays so
    change_status(actor, equipment, EquipmentStatus.OUT_OF_SERVICE, action="failed_record", reason=record,
                  reference=record[:60], details={"record": record})


def record_qualification(*, actor: Any, equipment_id: int, stage: str, performed_on: Any, result: str,
                         document_ref: str, valid_until: Any = None, signature: SignatureRequest,
                         username_required: bool = True) -> Qualification:
    """Record a qualification with its protocol/report reference, signed by the person recording it."""
    authorize(actor, QUALIFY)
    ensure(stage in QualificationStage.values, InvalidInput(_("Choose IQ, OQ, PQ or RQ."), field="stage"))
    ensure(result in Result.values, InvalidInput(_("Choose pass, fail or pass after adjustment."), field="result"))
    performed = _performed_on(performed_on)
    until = _optional_date(valid_until, "valid_until")
    ensure(until is None or until > performed, InvalidInput(
        _("The requalification date must be after the day it was performed."), field="valid_until"))
    ensure(until is not None or stage not in QUALIFYING_STAGES or result not in PASSED, InvalidInput(
        _("A passed PQ or requalification needs the requalification due date."), field="valid_until",
        code="required"))
    document = _text(document_ref, "document_ref", 100)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure_active(equipment)
        record = Qualification.objects.create(
            equipment=equipment, stage=stage, performed_on=performed, result=result, valid_until=until,
            document_ref=document, recorded_at=clock.now(), recorded_by=actor)
        signed = sign(actor=actor, request=signature, record=record, username_required=username_required)
        values = {"stage": stage, "performed_on": performed, "result": result, "valid_until": until,
                  "document_ref": document}
        payload = {"equipment": equipment.code, "qualification_id": record.pk, "stage": stage,
                   "performed_on": performed.isoformat(), "result": result,
                   "valid_until": until.isoformat() if until else None, "document_ref": document,
                   "recorded_by": actor.username}
        logbook.record(actor, equipment, kind=LogKind.QUALIFICATION, action="qualification", details={
            "stage": stage, "performed_on": performed.isoformat(), "result": result,
            "valid_until": until.isoformat() if until else "", "document": document},
            reference=document, audit_record=record, changes={k: [None, v] for k, v in values.items()},
            signature=signed, event=QUALIFICATION_RECORDED, payload=payload)
        _fail_if_failed(actor, equipment, result, f"{stage} {document}")
        return record


def _measurements(points: Any, result: str) -> list[dict[str, str]]:
    ensure(isinstance(points, list), InvalidInput(_("Expected a list of measurement points."), field="measurements"))
    out = []
    for index, point in enumerate(points, start=1):
        field = f"measurements.{index - 1}"
        ensure(isinstance(point, dict), InvalidMeasurement(field=field, index=index,
                                                           problem=_("expected an object.")))
        nominal = to_decimal(point.get("nominal"), field=f"{field}.nominal")
        reading = to_decimal(point.get("reading"), field=f"{field}.reading")
        tolerance = to_decimal(point.get("tolerance"), field=f"{field}.tolerance")
        ensure(tolerance >= 0, InvalidMeasurement(field=f"{field}.tolerance", index=index,
                                                  problem=_("the tolerance cannot be negative.")))
        unit = units.unit(str(point.get("unit") or ""), field=f"{field}.unit")
        within = abs(reading - nominal) <= tolerance
        ensure(within or result not in PASSED, InvalidMeasurement(
            field=f"{field}.reading", index=index,
            problem=_("the reading is outside the tolerance, so the calibration cannot pass.")))
        out.append({"nominal": _plain(nominal), "reading": _plain(reading), "tolerance": _plain(tolerance),
                    "unit": unit.code, "within_tolerance": "yes" if within else "no"})
    return out


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def record_calibration(*, actor: Any, equipment_id: int, performed_on: Any, result: str, due_on: Any,
                       certificate_ref: str, performed_by: str, measurements: Any = None,
                       signature: SignatureRequest, username_required: bool = True) -> Calibration:
    """Record a calibration (certificate, who performed it, the next due date, measured points), signed."""
    authorize(actor, QUALIFY)
    ensure(result in Result.values, InvalidInput(_("Choose pass, fail or pass after adjustment."), field="result"))
    performed = _performed_on(performed_on)
    due = _date(due_on, "due_on")
    ensure(due > performed, InvalidInput(_("The next calibration must be due after the day it was performed."),
                                         field="due_on"))
    certificate = _text(certificate_ref, "certificate_ref", 100)
    by = _text(performed_by, "performed_by", 150)
    points = _measurements(measurements if measurements is not None else [], result)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure_active(equipment)
        record = Calibration.objects.create(
            equipment=equipment, performed_on=performed, result=result, due_on=due, certificate_ref=certificate,
            performed_by=by, measurements=points, recorded_at=clock.now(), recorded_by=actor)
        signed = sign(actor=actor, request=signature, record=record, username_required=username_required)
        payload = {"equipment": equipment.code, "calibration_id": record.pk, "performed_on": performed.isoformat(),
                   "result": result, "due_on": due.isoformat(), "certificate_ref": certificate, "performed_by": by,
                   "measurements": points, "recorded_by": actor.username}
        values = {"performed_on": performed, "result": result, "due_on": due, "certificate_ref": certificate,
                  "performed_by": by, "measurements": points}
        logbook.record(actor, equipment, kind=LogKind.CALIBRATION, action="calibration", details={
            "performed_on": performed.isoformat(), "performed_by": by, "result": result,
            "due_on": due.isoformat(), "certificate": certificate},
            reference=certificate, audit_record=record, changes={k: [None, v] for k, v in values.items()},
            signature=signed, event=CALIBRATION_RECORDED, payload=payload)
        _fail_if_failed(actor, equipment, result, f"calibration {certificate}")
        return record
