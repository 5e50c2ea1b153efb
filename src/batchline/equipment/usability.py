"""Whether a piece of equipment may be used, now, for a given use: THE one check of EQ-02 (DESIGN.md §3.5).

Every use asks `assert_usable()`: starting production (equipment.status.start_use), weighing and the
daily check (equipment.balances, which checks the balance's daily check itself, after this). Starting
a cleaning does not: the status machine and the major-clean rules (equipment.cleaning) gate it, and
Use.CLEANING only answers screens and the API. Screens and the API ask `usability()` / `reasons()`
for the same answer as a list. The rules, each one reason:

1. active: retired equipment is never used;
2. status: production starts only on clean equipment, continues only on equipment in use (for the
   same product); weighing needs a clean or in-use balance; cleaning starts from dirty or clean;
3. qualification (all kinds): the latest performance qualification (PQ) or requalification (RQ)
   passed (an older passed one does not outweigh a newer failed one), the latest qualification
   record of any stage not failed, and the requalification date still ahead;
4. calibration (the kinds in CALIBRATED_KINDS, and any equipment that has ever been calibrated): the
   latest calibration passed and its next due date still ahead;
5. clean-hold: clean equipment stays clean for `clean_hold_hours` after the cleaning finished;
6. product change: a new product after a minor clean is refused: a major clean is required.

Dates compare as the lot rules do (inventory.usability): on the due day itself the equipment is
already due. Qualification and calibration do not matter to cleaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from batchline.core import clock
from batchline.core.errors import ensure
from batchline.equipment.choices import CleaningType, EquipmentKind, EquipmentStatus, QualificationStage, Result
from batchline.equipment.errors import EquipmentNotUsable, MaterialNotApproved
from batchline.equipment.models import Calibration, Equipment, Qualification
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Material

# Kinds that always need a valid calibration (settings.BATCHLINE_CALIBRATED_EQUIPMENT_KINDS overrides).
CALIBRATED_KINDS = (EquipmentKind.BALANCE, EquipmentKind.INSTRUMENT)
PASSED = (Result.PASS, Result.ADJUSTED)
# Stages that qualify equipment for use (IQ and OQ come before, and do not by themselves).
QUALIFYING_STAGES = (QualificationStage.PQ, QualificationStage.REQUALIFICATION)


class Use(models.TextChoices):
    PRODUCTION = "production", pgettext_lazy("equipment use", "production")
    CONTINUE = "continue", pgettext_lazy("equipment use", "continuing production")
    WEIGHING = "weighing", pgettext_lazy("equipment use", "weighing")
    CLEANING = "cleaning", pgettext_lazy("equipment use", "cleaning")


STATUSES_FOR: dict[str, tuple[str, ...]] = {
    Use.PRODUCTION: (EquipmentStatus.CLEAN,),
    Use.CONTINUE: (EquipmentStatus.IN_USE,),
    Use.WEIGHING: (EquipmentStatus.CLEAN, EquipmentStatus.IN_USE),
    Use.CLEANING: (EquipmentStatus.DIRTY, EquipmentStatus.CLEAN),
}


@dataclass(frozen=True)
class Reason:
    """One reason why not: a stable code for machines, a message rendered in the reader's language."""

    code: str
    message: Any
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.message).format(**{k: str(v) for k, v in self.params.items()})


def today(at: datetime | None = None) -> date:
    """The plant's calendar day (site time zone) at `at`: what due dates are compared with."""
    return clock.to_site(at or clock.now()).date()


def calibration_required(equipment: Equipment) -> bool:
    kinds = getattr(settings, "BATCHLINE_CALIBRATED_EQUIPMENT_KINDS", CALIBRATED_KINDS)
    return equipment.kind in kinds or bool(_calibrations(equipment))


def _qualifications(equipment: Equipment) -> list[Qualification]:
    # Newest first by the model's ordering; a prefetch (selectors) keeps the list screens to one query.
    return list(equipment.qualifications.all())


def _calibrations(equipment: Equipment) -> list[Calibration]:
    return list(equipment.calibrations.all())


def latest_qualifying(equipment: Equipment) -> Qualification | None:
    """The latest PQ or RQ record, passed or not (IQ and OQ do not qualify for use)."""
    return next((r for r in _qualifications(equipment) if r.stage in QUALIFYING_STAGES), None)


def qualified_until(equipment: Equipment) -> date | None:
    """The requalification due date of the latest PQ or RQ when it passed (None: never qualified for
    use, or the latest PQ/RQ failed)."""
    latest = latest_qualifying(equipment)
    return latest.valid_until if latest is not None and latest.result in PASSED else None


def calibrated_until(equipment: Equipment) -> date | None:
    """The next calibration due date of the latest calibration when it passed (None otherwise)."""
    records = _calibrations(equipment)
    return records[0].due_on if records and records[0].result in PASSED else None


def clean_hold_expires_at(equipment: Equipment) -> datetime | None:
    if equipment.status != EquipmentStatus.CLEAN or not equipment.clean_hold_hours or not equipment.last_cleaned_at:
        return None
    return equipment.last_cleaned_at + timedelta(hours=equipment.clean_hold_hours)


def dirty_hold_expires_at(equipment: Equipment) -> datetime | None:
    if equipment.status != EquipmentStatus.DIRTY or not equipment.dirty_hold_hours or not equipment.dirty_since:
        return None
    return equipment.dirty_since + timedelta(hours=equipment.dirty_hold_hours)


def dirty_hold_expired(equipment: Equipment, at: datetime | None = None) -> bool:
    expires = dirty_hold_expires_at(equipment)
    return expires is not None and (at or clock.now()) >= expires


def qualification_reasons(equipment: Equipment, on: date) -> list[Reason]:
    records = _qualifications(equipment)
    if records and records[0].result not in PASSED:
        latest = records[0]
        return [Reason("qualification_failed", _("the {stage} of {performed_on} failed"),
                       {"stage": QualificationStage(latest.stage).label, "performed_on": latest.performed_on})]
    qualifying = latest_qualifying(equipment)
    if qualifying is None:
        return [Reason("not_qualified", _("it has no passed performance qualification (PQ) or requalification"))]
    if qualifying.result not in PASSED:
        # A passed IQ/OQ after a failed PQ (a repair) does not bring back the PQ from before the failure.
        return [Reason("qualification_failed", _("the {stage} of {performed_on} failed"),
                       {"stage": QualificationStage(qualifying.stage).label, "performed_on": qualifying.performed_on})]
    due = qualifying.valid_until
    if due is not None and on >= due:
        return [Reason("requalification_due", _("its requalification was due on {due}"), {"due": due})]
    return []


def calibration_reasons(equipment: Equipment, on: date) -> list[Reason]:
    if not calibration_required(equipment):
        return []
    records = _calibrations(equipment)
    if not records:
        return [Reason("not_calibrated", _("it has no calibration on record"))]
    latest = records[0]
    if latest.result not in PASSED:
        return [Reason("calibration_failed", _("its calibration of {performed_on} failed"),
                       {"performed_on": latest.performed_on})]
    if on >= latest.due_on:
        return [Reason("calibration_due", _("its calibration was due on {due}"), {"due": latest.due_on})]
    return []


def reasons(equipment: Equipment, *, for_: str, product: Material | None = None,
            at: datetime | None = None) -> list[Reason]:
    """Every reason why `equipment` cannot be used for `for_` at `at` (now); empty when it can."""
    use = Use(for_)
    at = at or clock.now()
    on = today(at)
    found: list[Reason] = []
    if not equipment.active:
        return [Reason("retired", _("it is retired"))]
    status = EquipmentStatus(equipment.status)
    if status not in STATUSES_FOR[use]:
        needed = " / ".join(str(EquipmentStatus(s).label) for s in STATUSES_FOR[use])
        found.append(Reason("status", _("it is {status}, but {use} needs it {needed}"),
                            {"status": status.label, "use": use.label, "needed": needed}))
    if use == Use.CLEANING:
        return found
    found += qualification_reasons(equipment, on)
    found += calibration_reasons(equipment, on)
    expires = clean_hold_expires_at(equipment)
    if expires is not None and at >= expires:
        found.append(Reason("clean_hold_expired", _("its clean-hold time ended at {expired_at}: clean it again"),
                            {"expired_at": clock.format_site(expires)}))
    if product is not None:
        found += _product_reasons(equipment, use, product)
    return found


def _product_reasons(equipment: Equipment, use: str, product: Material) -> list[Reason]:
    if use == Use.CONTINUE:
        current = equipment.current_product
        if current is not None and current.pk != product.pk:
            return [Reason("other_product", _("it is in use for {current}, not {product}"),
                           {"current": current.code, "product": product.code})]
        return []
    if use != Use.PRODUCTION or equipment.status != EquipmentStatus.CLEAN:
        return []
    last = equipment.last_product
    if last is not None and last.pk != product.pk and equipment.last_clean_type == CleaningType.MINOR:
        return [Reason("product_change", _("the product changes from {last} to {product} and the last clean was "
                                           "minor: a major clean is required"),
                       {"last": last.code, "product": product.code})]
    return []


def usability(equipment: Equipment, *, for_: str, product: Material | None = None,
              at: datetime | None = None) -> list[str]:
    """The reasons as text in the active language, for screens: empty when the equipment is usable."""
    return [str(reason) for reason in reasons(equipment, for_=for_, product=product, at=at)]


def assert_usable(equipment: Equipment, *, for_: str, product: Material | None = None,
                  at: datetime | None = None) -> None:
    """Refuse (EquipmentNotUsable, listing every reason) unless `equipment` may be used for `for_` now."""
    found = reasons(equipment, for_=for_, product=product, at=at)
    ensure(not found, EquipmentNotUsable(equipment=equipment.code, use=Use(for_).label, reasons=found))


def product_of(value: Material | str, *, field: str = "product") -> Material:
    """An approved material, given as itself or by its code."""
    material = value if isinstance(value, Material) else (
        Material.objects.filter(code=str(value or "").strip()).first())
    ensure(material is not None and material.status == RecordStatus.APPROVED,
           MaterialNotApproved(field=field, material=getattr(material, "code", value)))
    assert material is not None
    return material
