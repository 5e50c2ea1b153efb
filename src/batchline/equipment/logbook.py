"""The equipment logbook (EQ-01): written automatically by every equipment service, never by hand.

`record()` is the one way a service writes down what it did to a piece of equipment: one logbook
entry (chronological, append-only by database triggers, migration 0002) and the audit entry with
its outbox event (compliance.record_change), in the caller's transaction. Each entry keeps an
English `text` for exports and a `details` dict from which `describe()` renders the entry in the
reader's language: `details["action"]` names the message in MESSAGES, the other keys fill it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change
from batchline.compliance.models import Signature
from batchline.core import clock
from batchline.core.errors import ensure
from batchline.equipment.choices import CleaningType, EquipmentStatus, QualificationStage, Result
from batchline.equipment.errors import EquipmentNotFound
from batchline.equipment.models import Equipment, LogbookEntry

# What each action reads like in the logbook. Keys ending in _at are UTC ISO times (shown in the
# site's zone); status, clean_type, stage and result are choice values (shown by their labels).
MESSAGES: dict[str, Any] = {
    "registered": _("Registered: {name}."),
    "changed": _("Register data changed ({fields}). Reason: {reason}"),
    "retired": _("Retired. Reason: {reason}"),
    "start_use": _("Use started: order {order}, product {product}."),
    "end_use": _("Use ended: order {order}, product {product}."),
    "start_cleaning": _("Cleaning started: {clean_type}, procedure {procedure}."),
    "finish_cleaning": _("Cleaning finished; awaiting verification by a second person."),
    "verify_cleaning": _("Cleaning ({clean_type}) verified by a second person; clean-hold until "
                         "{clean_hold_until_at}."),
    "reject_cleaning": _("Cleaning ({clean_type}) not accepted: {reason}"),
    "interrupt_cleaning": _("Cleaning ({clean_type}) interrupted: {reason}"),
    "take_out_of_use": _("Taken out of use ({status}). Reason: {reason}"),
    "release": _("Released from {previous}; to be cleaned (major clean) before use. Reason: {reason}"),
    "qualification": _("{stage} performed on {performed_on}: {result}. Requalification due: {valid_until}. "
                       "Document {document}."),
    "calibration": _("Calibration performed on {performed_on} by {performed_by}: {result}. Next due {due_on}. "
                     "Certificate {certificate}."),
    "failed_record": _("Out of service: {record} failed."),
    "hold_expired": _("{hold} expired at {expired_at} (limit {hours} h)."),
    "daily_check": _("Daily check with {points} test weight(s): {result}. Failed: {failed}."),  # equipment.balances
}

_HOLDS: dict[str, Any] = {"clean": _("Clean-hold time"), "dirty": _("Dirty-hold time")}
_CHOICES: dict[str, Any] = {"status": EquipmentStatus, "previous": EquipmentStatus, "clean_type": CleaningType,
                            "stage": QualificationStage, "result": Result}


def lock(equipment_id: int) -> Equipment:
    """The equipment row, locked until the transaction ends (one row: no ordering question)."""
    if not connection.in_atomic_block:
        raise RuntimeError("equipment rows are locked inside the business transaction only")
    equipment = Equipment.objects.select_for_update().filter(pk=equipment_id).first()
    ensure(equipment is not None, EquipmentNotFound(field="equipment", equipment=equipment_id))
    assert equipment is not None
    return equipment


def record(actor: Any, equipment: Equipment, *, kind: str, action: str, details: dict[str, Any] | None = None,
           status_before: str = "", status_after: str = "", reference: str = "",
           audit_record: Any = None, changes: dict[str, list[Any]] | None = None, reason: str = "",
           signature: Signature | None = None, event: str | None = None,
           payload: dict[str, Any] | None = None) -> LogbookEntry:
    """Write the logbook entry of `action` and its audit entry (on `audit_record`, default the equipment)."""
    values = {"action": action, **(details or {})}
    entry = LogbookEntry.objects.create(
        equipment=equipment, occurred_at=clock.now(), kind=kind, details=values,
        text=_english(values), status_before=status_before, status_after=status_after,
        reference=reference[:60], actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "full_name", "Batchline")[:150])
    record_change(actor, audit_record if audit_record is not None else equipment, action=action,
                  changes=changes, reason=reason, signature=signature, event=event, payload=payload)
    return entry


def describe(entry: LogbookEntry) -> str:
    """The entry in the active language (web screens; the API gives `text` and `details` as stored)."""
    values = dict(entry.details)
    template = MESSAGES.get(values.pop("action", ""))
    if template is None:
        return entry.text
    shown = {key: _shown(key, value) for key, value in values.items()}
    try:
        return str(template).format(**shown)
    except (KeyError, IndexError):
        return entry.text


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key in _CHOICES:
        try:
            return str(_CHOICES[key](value).label)
        except ValueError:
            return str(value)
    if key == "hold":
        return str(_HOLDS.get(value, value))
    if key.endswith("_at") and isinstance(value, str):
        try:
            return clock.format_site(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _english(values: dict[str, Any]) -> str:
    with translation.override("en"):
        fake = LogbookEntry(details=values, text="")
        return describe(fake) or values["action"]


def iso(moment: datetime | None) -> str | None:
    """A time as the logbook details and the outbox payloads carry it: UTC ISO 8601."""
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
