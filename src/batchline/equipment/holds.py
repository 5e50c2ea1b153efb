"""Hold times (EQ-03): how long equipment may stay clean before use, and dirty before cleaning.

Both are derived from the register (`clean_hold_hours`, `dirty_hold_hours`) and the times the
services keep (`last_cleaned_at`: when the verified cleaning finished; `dirty_since`: when the last
use ended), so a screen or a check always sees the current state without anyone running anything:
- clean-hold expired → the equipment is no longer usable (equipment.usability) until cleaned again;
- dirty-hold expired → the next cleaning must be major (equipment.cleaning) and the due-date
  overview lists it as overdue.

`flag_expired_holds()` (command `batchline equipment_holds`, e.g. every few minutes from cron or a
systemd timer) writes the expiry into the logbook and emits `equipment.equipment.hold_expired`
once per expiry, so that people and other systems hear of it when it happens, not only when
someone next looks. Starting a cleaning after an unflagged dirty-hold expiry flags it too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from batchline.core import clock
from batchline.equipment import logbook
from batchline.equipment.choices import EquipmentStatus, LogKind
from batchline.equipment.models import Equipment, LogbookEntry
from batchline.equipment.usability import clean_hold_expires_at, dirty_hold_expires_at

HOLD_EXPIRED = "equipment.equipment.hold_expired"


def _flag(actor: Any, equipment: Equipment, hold: str, since: datetime | None, expires: datetime | None,
          hours: int | None) -> bool:
    if since is None or expires is None:
        return False
    since_text = logbook.iso(since)
    if LogbookEntry.objects.filter(equipment=equipment, kind=LogKind.HOLD, details__hold=hold,
                                   details__since_at=since_text).exists():
        return False
    payload = {"equipment": equipment.code, "hold": hold, "status": equipment.status, "since": since_text,
               "expired_at": logbook.iso(expires), "limit_hours": hours}
    logbook.record(actor, equipment, kind=LogKind.HOLD, action="hold_expired", details={
        "hold": hold, "since_at": since_text, "expired_at": logbook.iso(expires), "hours": hours},
        event=HOLD_EXPIRED, payload=payload)
    return True


def flag_dirty_hold(actor: Any, equipment: Equipment) -> bool:
    """Log the dirty-hold expiry of locked `equipment` once (inside the caller's transaction)."""
    return _flag(actor, equipment, "dirty", equipment.dirty_since, dirty_hold_expires_at(equipment),
                 equipment.dirty_hold_hours)


def flag_clean_hold(actor: Any, equipment: Equipment) -> bool:
    return _flag(actor, equipment, "clean", equipment.last_cleaned_at, clean_hold_expires_at(equipment),
                 equipment.clean_hold_hours)


def flag_expired_holds(*, actor: Any = None, at: datetime | None = None) -> int:
    """Flag every expired, not yet flagged hold of active equipment; → how many were flagged."""
    at = at or clock.now()
    candidates = Equipment.objects.filter(active=True).filter(
        status__in=(EquipmentStatus.CLEAN, EquipmentStatus.DIRTY)).values_list("pk", flat=True)
    flagged = 0
    for equipment_id in candidates:
        with transaction.atomic():
            equipment = logbook.lock(equipment_id)
            clean_expires, dirty_expires = clean_hold_expires_at(equipment), dirty_hold_expires_at(equipment)
            if clean_expires is not None and at >= clean_expires:
                flagged += flag_clean_hold(actor, equipment)
            if dirty_expires is not None and at >= dirty_expires:
                flagged += flag_dirty_hold(actor, equipment)
    return flagged
