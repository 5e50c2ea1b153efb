"""Cleaning records (EQ-03): start, finish, and a second person's signed verification (four eyes).

Rules (docs/equipment.md):
- Cleaning starts from dirty, or from clean to clean again (clean-hold expired, contamination).
- A major clean is required, and a minor one refused, when
  * the equipment is new or comes back from maintenance, out of service or quarantine (`major_clean_required`);
  * its dirty-hold time has expired (residues may have dried or grown: the short procedure is not validated for that);
  * the next product is known and differs from the last product made on it (product change);
  * no product was ever made on it (nothing a minor clean could be "between").
- `start_use` refuses a product change after a minor clean (equipment.usability), so a minor clean
  done without naming the next product cannot be used for another product either.
- Verification is done by someone other than whoever started or finished the cleaning, with an
  e-signature (meaning "verify", equipment.verify). The equipment becomes clean; its clean-hold time
  runs from when the cleaning finished. A verifier who does not accept the cleaning sends the
  equipment back to dirty, with a reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.compliance.signatures import SignatureRequest, ensure_four_eyes, sign
from batchline.core import clock
from batchline.core.errors import InvalidInput, ensure
from batchline.equipment import logbook
from batchline.equipment.choices import CleaningState, CleaningType, EquipmentStatus, LogKind
from batchline.equipment.errors import CleaningNotFound, MajorCleanRequired, WrongCleaningState
from batchline.equipment.holds import flag_dirty_hold
from batchline.equipment.models import CleaningRecord, Equipment
from batchline.equipment.status import OPERATE, VERIFY, change_status, ensure_active
from batchline.equipment.usability import dirty_hold_expired, product_of
from batchline.identity.authz import authorize
from batchline.masterdata.models import Material

VERIFIED = "equipment.cleaning.verified"
VERIFY_MEANING = "verify"  # equipment.apps: record type equipment.cleaningrecord
FOUR_EYES_RULE = _("Cleaning verification")


def major_clean_reasons(equipment: Equipment, next_product: Material | None = None) -> list[str]:
    """Why a minor clean would not do now (empty: a minor clean is allowed)."""
    found = []
    if equipment.major_clean_required:
        found.append(str(_("the equipment is new or comes back from maintenance, out of service or quarantine.")))
    if dirty_hold_expired(equipment):
        found.append(str(_("its dirty-hold time has expired.")))
    if equipment.last_product is None:
        found.append(str(_("no product has been made on it yet.")))
    elif next_product is not None and next_product.pk != equipment.last_product_id:
        found.append(str(_("the product changes from {last} to {next}.").format(
            last=equipment.last_product.code, next=next_product.code)))
    return found


def start_cleaning(*, actor: Any, equipment_id: int, clean_type: str, procedure_ref: str = "",
                   next_product: Material | str | None = None, remarks: str = "") -> CleaningRecord:
    """Dirty (or clean) → cleaning, with a new cleaning record of type minor or major."""
    authorize(actor, OPERATE)
    ensure(clean_type in CleaningType.values, InvalidInput(_("Choose a minor or a major clean."),
                                                          field="clean_type"))
    procedure_ref = (procedure_ref or "").strip()[:100]
    product = product_of(next_product, field="next_product") if next_product else None
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure_active(equipment)
        if clean_type == CleaningType.MINOR:
            why = major_clean_reasons(equipment, product)
            ensure(not why, MajorCleanRequired(field="clean_type", reason=" ".join(why)))
        if dirty_hold_expired(equipment):
            flag_dirty_hold(actor, equipment)
        now = clock.now()
        cleaning = CleaningRecord.objects.create(
            equipment=equipment, clean_type=clean_type, previous_product=equipment.last_product,
            procedure_ref=procedure_ref, started_at=now, started_by=actor, remarks=(remarks or "").strip())
        record_change(actor, cleaning, action="create", changes={
            "clean_type": [None, clean_type], "state": [None, cleaning.state],
            "previous_product": [None, equipment.last_product.code if equipment.last_product else None],
            "procedure_ref": [None, procedure_ref], "next_product": [None, product.code if product else None]})
        change_status(actor, equipment, EquipmentStatus.CLEANING, action="start_cleaning",
                      reference=f"C{cleaning.pk}", details={"clean_type": clean_type, "procedure": procedure_ref},
                      log_kind=LogKind.CLEANING)
        return cleaning


def _locked_cleaning(equipment_id: int, cleaning_id: int) -> tuple[Equipment, CleaningRecord]:
    equipment = logbook.lock(equipment_id)
    cleaning = CleaningRecord.objects.select_for_update().filter(pk=cleaning_id, equipment=equipment).first()
    ensure(cleaning is not None, CleaningNotFound(field="cleaning"))
    assert cleaning is not None
    return equipment, cleaning


def _ensure_state(cleaning: CleaningRecord, needed: CleaningState) -> None:
    ensure(cleaning.state == needed, WrongCleaningState(
        field="cleaning", state=CleaningState(cleaning.state).label, needed=needed.label))


def finish_cleaning(*, actor: Any, equipment_id: int, cleaning_id: int, remarks: str = "") -> CleaningRecord:
    """The cleaning is done; the equipment stays `cleaning` until a second person verifies it."""
    authorize(actor, OPERATE)
    with transaction.atomic():
        equipment, cleaning = _locked_cleaning(equipment_id, cleaning_id)
        ensure_active(equipment)
        _ensure_state(cleaning, CleaningState.IN_PROGRESS)
        cleaning.state = CleaningState.DONE
        cleaning.finished_at, cleaning.finished_by = clock.now(), actor
        remarks = (remarks or "").strip()
        if remarks:
            cleaning.remarks = f"{cleaning.remarks}\n{remarks}".strip()
        cleaning.save(update_fields=["state", "finished_at", "finished_by", "remarks"])
        logbook.record(actor, equipment, kind=LogKind.CLEANING, action="finish_cleaning", reference=f"C{cleaning.pk}",
                       audit_record=cleaning, changes={"state": [CleaningState.IN_PROGRESS, cleaning.state],
                                                       "finished_at": [None, cleaning.finished_at]})
        return cleaning


def verify_cleaning(*, actor: Any, equipment_id: int, cleaning_id: int, signature: SignatureRequest,
                    username_required: bool = True) -> CleaningRecord:
    """A second person verifies the finished cleaning with an e-signature: the equipment is clean."""
    authorize(actor, VERIFY)
    with transaction.atomic():
        equipment, cleaning = _locked_cleaning(equipment_id, cleaning_id)
        ensure_active(equipment)
        _ensure_state(cleaning, CleaningState.DONE)
        ensure_four_eyes(cleaning.started_by_id, actor, rule=str(FOUR_EYES_RULE))
        ensure_four_eyes(cleaning.finished_by_id, actor, rule=str(FOUR_EYES_RULE))
        assert cleaning.finished_at is not None
        cleaning.state = CleaningState.VERIFIED
        cleaning.verified_at, cleaning.verified_by = clock.now(), actor
        hours = equipment.clean_hold_hours
        cleaning.clean_hold_until = cleaning.finished_at + timedelta(hours=hours) if hours else None
        cleaning.save(update_fields=["state", "verified_at", "verified_by", "clean_hold_until"])
        signed = sign(actor=actor, request=signature, record=cleaning, username_required=username_required)
        record_change(actor, cleaning, action="verify", signature=signed, changes={
            "state": [CleaningState.DONE, cleaning.state], "verified_by": [None, actor.username],
            "clean_hold_until": [None, cleaning.clean_hold_until]},
            event=VERIFIED, payload=cleaning_payload(cleaning, equipment))
        changes: dict[str, list[Any]] = {
            "last_cleaned_at": [equipment.last_cleaned_at, cleaning.finished_at],
            "last_clean_type": [equipment.last_clean_type, cleaning.clean_type],
            "dirty_since": [equipment.dirty_since, None]}
        equipment.last_cleaned_at, equipment.last_clean_type = cleaning.finished_at, cleaning.clean_type
        equipment.dirty_since = None
        fields = ["last_cleaned_at", "last_clean_type", "dirty_since"]
        if cleaning.clean_type == CleaningType.MAJOR:
            changes["major_clean_required"] = [equipment.major_clean_required, False]
            equipment.major_clean_required = False
            fields.append("major_clean_required")
        equipment.save(update_fields=fields)
        change_status(actor, equipment, EquipmentStatus.CLEAN, action="verify_cleaning", signature=signed,
                      reference=f"C{cleaning.pk}", log_kind=LogKind.CLEANING, changes=changes, details={
                          "clean_type": cleaning.clean_type,
                          "clean_hold_until_at": logbook.iso(cleaning.clean_hold_until)})
        return cleaning


def reject_cleaning(*, actor: Any, equipment_id: int, cleaning_id: int, reason: str) -> CleaningRecord:
    """The verifier does not accept the cleaning: the record is closed, the equipment is dirty again."""
    authorize(actor, VERIFY)
    reason = require_reason(reason)
    with transaction.atomic():
        equipment, cleaning = _locked_cleaning(equipment_id, cleaning_id)
        ensure_active(equipment)
        ensure(cleaning.state in (CleaningState.IN_PROGRESS, CleaningState.DONE), WrongCleaningState(
            field="cleaning", state=CleaningState(cleaning.state).label, needed=CleaningState.DONE.label))
        ensure_four_eyes(cleaning.started_by_id, actor, rule=str(FOUR_EYES_RULE))
        ensure_four_eyes(cleaning.finished_by_id, actor, rule=str(FOUR_EYES_RULE))
        before = cleaning.state
        cleaning.state = CleaningState.REJECTED
        cleaning.remarks = f"{cleaning.remarks}\n{reason}".strip()
        cleaning.save(update_fields=["state", "remarks"])
        record_change(actor, cleaning, action="reject", changes={"state": [before, cleaning.state]}, reason=reason)
        change_status(actor, equipment, EquipmentStatus.DIRTY, action="reject_cleaning", reason=reason,
                      reference=f"C{cleaning.pk}", log_kind=LogKind.CLEANING,
                      details={"clean_type": cleaning.clean_type, "reason": reason})
        return cleaning


def cleaning_payload(cleaning: CleaningRecord, equipment: Equipment) -> dict[str, Any]:
    return {
        "equipment": equipment.code, "cleaning_id": cleaning.pk, "clean_type": cleaning.clean_type,
        "state": cleaning.state,
        "previous_product": cleaning.previous_product.code if cleaning.previous_product else None,
        "procedure_ref": cleaning.procedure_ref,
        "started_at": logbook.iso(cleaning.started_at), "started_by": cleaning.started_by.username,
        "finished_at": logbook.iso(cleaning.finished_at),
        "finished_by": cleaning.finished_by.username if cleaning.finished_by else None,
        "verified_at": logbook.iso(cleaning.verified_at),
        "verified_by": cleaning.verified_by.username if cleaning.verified_by else None,
        "clean_hold_until": logbook.iso(cleaning.clean_hold_until),
    }
