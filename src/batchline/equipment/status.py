"""The equipment status machine (EQ-01): one table of allowed steps, and the use and out-of-use actions.

    clean ──start_use──▶ in use ──end_use──▶ dirty ──start_cleaning──▶ cleaning ──verify_cleaning──▶ clean
      └──────────────start_cleaning (re-clean)─────────────────────────▲    └──reject_cleaning──▶ dirty

    any working status ──▶ maintenance / out of service (equipment.operate) / quarantined (equipment.release)
    maintenance / out of service / quarantined ──release (signed, equipment.release)──▶ dirty

A failed calibration or qualification puts the equipment out of service by itself (equipment.qualification).
Coming back through release, equipment is dirty and needs a major clean (equipment.cleaning), because
maintenance may have opened product-contact parts. Nothing leaves quarantine except QA's signed release.

`change_status()` is the one place a status changes: it checks the step against TRANSITIONS, keeps the
use fields (order, product, dirty-since) consistent, closes an open cleaning record when the equipment
leaves cleaning for maintenance, out of service or quarantine, writes the logbook entry, the audit entry
and the `equipment.equipment.status_changed` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import require_reason
from batchline.compliance.models import Signature
from batchline.compliance.signatures import SignatureRequest, sign
from batchline.core import clock
from batchline.core.errors import InvalidInput, ensure
from batchline.equipment import logbook
from batchline.equipment.choices import CleaningState, EquipmentStatus, LogKind
from batchline.equipment.errors import EquipmentRetired, StatusTransitionNotAllowed
from batchline.equipment.models import CleaningRecord, Equipment
from batchline.equipment.usability import Use, assert_usable, product_of
from batchline.identity.authz import authorize
from batchline.masterdata.models import Material

STATUS_CHANGED = "equipment.equipment.status_changed"
RELEASE_MEANING = "release"  # equipment.apps: QA's signature that lifts maintenance, out of service, quarantine

S = EquipmentStatus
OPERATE, VERIFY, RELEASE, QUALIFY = ("equipment.operate", "equipment.verify", "equipment.release",
                                     "equipment.qualify")
WORKING = (S.CLEAN, S.IN_USE, S.DIRTY, S.CLEANING)
BLOCKED = (S.MAINTENANCE, S.OUT_OF_SERVICE, S.QUARANTINED)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str
    permission: str
    signed: bool = False


def _steps(sources: tuple[str, ...], target: str, action: str, permission: str, signed: bool = False) -> list[
        Transition]:
    return [Transition(source, target, action, permission, signed) for source in sources if source != target]


# THE table: every status change there is. (source, target, action) → who may do it, signed or not.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.CLEAN, S.IN_USE, "start_use", OPERATE),
    Transition(S.IN_USE, S.DIRTY, "end_use", OPERATE),
    Transition(S.DIRTY, S.CLEANING, "start_cleaning", OPERATE),
    Transition(S.CLEAN, S.CLEANING, "start_cleaning", OPERATE),  # re-clean: clean-hold expired, contamination
    Transition(S.CLEANING, S.CLEAN, "verify_cleaning", VERIFY, signed=True),
    Transition(S.CLEANING, S.DIRTY, "reject_cleaning", VERIFY),
    *_steps(WORKING, S.MAINTENANCE, "take_out_of_use", OPERATE),
    *_steps((*WORKING, S.MAINTENANCE), S.OUT_OF_SERVICE, "take_out_of_use", OPERATE),
    Transition(S.OUT_OF_SERVICE, S.MAINTENANCE, "take_out_of_use", OPERATE),  # sent for repair
    *_steps((*WORKING, S.MAINTENANCE, S.OUT_OF_SERVICE), S.QUARANTINED, "take_out_of_use", RELEASE),
    *_steps(BLOCKED, S.DIRTY, "release", RELEASE, signed=True),
    # A failed calibration or qualification record (equipment.qualification), by whoever records it.
    *_steps((*WORKING, S.MAINTENANCE), S.OUT_OF_SERVICE, "failed_record", QUALIFY),
)
_BY_KEY = {(t.source, t.target, t.action): t for t in TRANSITIONS}


def transition(source: str, target: str, action: str) -> Transition | None:
    return _BY_KEY.get((source, target, action))


def allowed_steps(status: str) -> list[Transition]:
    """The steps out of `status` (the screens offer those the person may take)."""
    return [t for t in TRANSITIONS if t.source == status]


def ensure_active(equipment: Equipment) -> None:
    ensure(equipment.active, EquipmentRetired(field="equipment", equipment=equipment.code))


def change_status(actor: Any, equipment: Equipment, target: str, *, action: str, reason: str = "",
                  signature: Signature | None = None, sign_request: SignatureRequest | None = None,
                  username_required: bool = True, reference: str = "", order: str = "",
                  product: Material | None = None, details: dict[str, Any] | None = None,
                  log_kind: str = LogKind.STATUS, changes: dict[str, list[Any]] | None = None) -> Equipment:
    """Move locked `equipment` to `target` by `action` (inside the caller's transaction; the caller has
    authorized the person). Refuses a step the table does not have. A signed step either brings its
    `signature` (made on another record, e.g. the cleaning record) or a `sign_request`: the equipment is
    then signed as it is after the step."""
    ensure_active(equipment)
    before = EquipmentStatus(equipment.status)
    step = transition(before, target, action)
    ensure(step is not None, StatusTransitionNotAllowed(field="status", equipment=equipment.code,
                                                        before=before.label, after=EquipmentStatus(target).label))
    if before == S.CLEANING and target in BLOCKED:
        # Taken out of use or a failed record mid-cleaning: the open cleaning record is closed here, or it
        # could later be verified in place of the major clean the release asks for.
        _interrupt_cleanings(actor, equipment, reason)
    now = clock.now()
    fields = ["status", "status_changed_at"]
    changes = {**(changes or {}), "status": [before.value, target]}
    used_product = equipment.current_product
    used_order = equipment.current_order
    if target == S.IN_USE:
        equipment.current_order, equipment.current_product = order, product
        fields += ["current_order", "current_product"]
        changes |= {"current_order": ["", order], "current_product": [None, product.code if product else None]}
    elif before == S.IN_USE:
        # Leaving use by any step: the product stays on the equipment as its last product, dirty from now.
        equipment.last_product = used_product
        equipment.current_order, equipment.current_product = "", None
        equipment.dirty_since = now
        fields += ["last_product", "current_order", "current_product", "dirty_since"]
        changes |= {"current_order": [used_order, ""], "current_product": [_code(used_product), None]}
    if action == "release":
        equipment.major_clean_required = True
        fields.append("major_clean_required")
        changes["major_clean_required"] = [False, True]
    equipment.status = target
    equipment.status_changed_at = now
    equipment.save(update_fields=fields)
    if sign_request is not None:
        signature = sign(actor=actor, request=sign_request, record=equipment, username_required=username_required)
    assert step is not None
    if step.signed and signature is None:
        raise RuntimeError(f"the step {action} is signed: it needs a signature")
    payload = {
        "equipment": equipment.code, "status": target, "previous_status": before.value, "action": action,
        "reason": reason, "order": order or used_order, "product": _code(product or used_product),
        "reference": reference, "changed_by": getattr(actor, "username", "system"),
        "signed_by": signature.signer_username if signature is not None else None,
        "changed_at": logbook.iso(now),
    }
    logbook.record(actor, equipment, kind=log_kind, action=action, details=details or {"reason": reason},
                   status_before=before.value, status_after=target, reference=reference or order or used_order,
                   changes=changes, reason=reason, signature=signature, event=STATUS_CHANGED, payload=payload)
    return equipment


def _code(material: Material | None) -> str | None:
    return material.code if material is not None else None


# --- use -------------------------------------------------------------------------------------------

def start_use(*, actor: Any, equipment_id: int, order: str, product: Material | str) -> Equipment:
    """Clean → in use for a production order and its product. The one usability check decides
    (EQ-02, EQ-03): qualified, calibrated, clean-hold not expired, and a product change only after a
    major clean."""
    authorize(actor, OPERATE)
    order = (order or "").strip()
    ensure(order, InvalidInput(_("The order is required."), field="order"))
    ensure(len(order) <= 40, InvalidInput(_("At most {limit} characters."), field="order", limit=40))
    material = product_of(product)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure_active(equipment)
        assert_usable(equipment, for_=Use.PRODUCTION, product=material)
        return change_status(actor, equipment, S.IN_USE, action="start_use", order=order, product=material,
                             details={"order": order, "product": material.code}, log_kind=LogKind.USE)


def end_use(*, actor: Any, equipment_id: int, remarks: str = "") -> Equipment:
    """In use → dirty: the product becomes the last product, the dirty-hold time starts."""
    authorize(actor, OPERATE)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        details = {"order": equipment.current_order, "product": _code(equipment.current_product)}
        return change_status(actor, equipment, S.DIRTY, action="end_use", reason=(remarks or "").strip(),
                             details=details, log_kind=LogKind.USE)


# --- out of use and back -----------------------------------------------------------------------------

TAKE_OUT_PERMISSION: dict[str, str] = {S.MAINTENANCE: OPERATE, S.OUT_OF_SERVICE: OPERATE, S.QUARANTINED: RELEASE}


def take_out_of_use(*, actor: Any, equipment_id: int, status: str, reason: str) -> Equipment:
    """Into maintenance, out of service (equipment.operate) or quarantine (equipment.release), with a
    reason. Equipment in use stops being in use (the product stays as its last product); a cleaning
    in progress is interrupted and must be done again."""
    ensure(status in TAKE_OUT_PERMISSION, InvalidInput(
        _("Choose maintenance, out of service or quarantined."), field="status"))
    authorize(actor, TAKE_OUT_PERMISSION[status])
    reason = require_reason(reason)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        return change_status(actor, equipment, status, action="take_out_of_use", reason=reason,
                             details={"status": status, "reason": reason},
                             log_kind=LogKind.MAINTENANCE if status == S.MAINTENANCE else LogKind.STATUS)


def _interrupt_cleanings(actor: Any, equipment: Equipment, reason: str) -> None:
    open_states = (CleaningState.IN_PROGRESS, CleaningState.DONE)
    for cleaning in CleaningRecord.objects.select_for_update().filter(equipment=equipment, state__in=open_states):
        before = cleaning.state
        cleaning.state = CleaningState.REJECTED
        cleaning.remarks = f"{cleaning.remarks}\n{reason}".strip()
        cleaning.save(update_fields=["state", "remarks"])
        logbook.record(actor, equipment, kind=LogKind.CLEANING, action="interrupt_cleaning",
                       details={"clean_type": cleaning.clean_type, "reason": reason}, reference=f"C{cleaning.pk}",
                       audit_record=cleaning, changes={"state": [before, cleaning.state]}, reason=reason)


def release_equipment(*, actor: Any, equipment_id: int, reason: str, signature: SignatureRequest,
                      username_required: bool = True) -> Equipment:
    """QA lifts maintenance, out of service or quarantine with an e-signature (equipment.release). The
    equipment comes back dirty and needs a major clean before use; qualification and calibration are
    still checked at every use, so a failed calibration stays in the way until a passed one is recorded."""
    authorize(actor, RELEASE)
    reason = require_reason(reason)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure_active(equipment)
        before = equipment.status
        ensure(transition(before, S.DIRTY, "release") is not None, StatusTransitionNotAllowed(
            field="status", equipment=equipment.code, before=EquipmentStatus(before).label,
            after=S.DIRTY.label))
        return change_status(actor, equipment, S.DIRTY, action="release", reason=reason, sign_request=signature,
                             username_required=username_required, details={"previous": before, "reason": reason})
