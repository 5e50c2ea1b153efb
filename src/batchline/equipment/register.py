"""The equipment register (EQ-01): register, change (with a reason), retire. Needs `equipment.manage`.

The register holds what the equipment is (id, names, type, class, room, capacity, product-contact
parts, maker), how a balance weighs (unit, maximum load, readability d, minimum weight), its hold
times, and where its values come from (OPC UA endpoint and node, ideal rate for OEE). The status
and everything that happens to the equipment belong to the status machine, cleaning and
qualification services; the register never changes them.

New equipment starts dirty and needs a major clean, and a passed qualification (and calibration, for
balances and instruments) before any use (equipment.usability).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import plain, require_reason
from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, ensure
from batchline.core.quantity import to_decimal
from batchline.equipment import logbook
from batchline.equipment.choices import EquipmentKind, EquipmentStatus, LogKind
from batchline.equipment.errors import DuplicateEquipment, EquipmentRetired, NoChange, RoomNotApproved
from batchline.equipment.models import Equipment
from batchline.identity.authz import authorize
from batchline.masterdata import units
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Room, Unit

REGISTERED = "equipment.equipment.registered"
CHANGED = "equipment.equipment.changed"
RETIRED = "equipment.equipment.retired"
MANAGE = "equipment.manage"

# The register's fields, in the order forms and payloads show them. Links (room, units) by code.
TEXT_FIELDS = {"name_zh": 200, "name_en": 200, "equipment_class": 40, "product_contact_parts": 5000,
               "manufacturer": 100, "model_number": 100, "serial_number": 100, "opcua_endpoint": 200,
               "opcua_node": 200}
DECIMAL_FIELDS = {"capacity": 6, "max_load": 6, "readability": 6, "minimum_weight": 6, "ideal_rate_per_minute": 3}
HOUR_FIELDS = ("clean_hold_hours", "dirty_hold_hours")
UNIT_FIELDS = ("capacity_unit", "weighing_unit")
FIELDS = ("code", "name_zh", "name_en", "kind", "equipment_class", "room", "capacity", "capacity_unit",
          "product_contact_parts", "manufacturer", "model_number", "serial_number", "weighing_unit", "max_load",
          "readability", "minimum_weight", "clean_hold_hours", "dirty_hold_hours", "opcua_endpoint", "opcua_node",
          "ideal_rate_per_minute")
REQUIRED = ("code", "name_zh", "name_en", "kind")
BALANCE_FIELDS = ("weighing_unit", "max_load", "readability", "minimum_weight")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse(data: dict[str, Any], *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validated register values from `data` (codes and decimal strings), over `base` (the current values).
    Refuses unknown fields; bad input names its field and changes nothing."""
    unknown = sorted(set(data) - set(FIELDS))
    ensure(not unknown, InvalidInput(_("Unknown field '{name}'."), field=unknown[0] if unknown else None,
                                     name=unknown[0] if unknown else ""))
    values = dict(base) if base is not None else {name: "" if name in TEXT_FIELDS else None for name in FIELDS}
    for name, raw in data.items():
        values[name] = _value(name, raw)
    for name in REQUIRED:
        ensure(not _empty(values.get(name)), InvalidInput(_("This field is required."), field=name, code="required"))
    if values["kind"] == EquipmentKind.BALANCE:
        for name in BALANCE_FIELDS:
            ensure(values.get(name) is not None, InvalidInput(
                _("A balance needs its weighing unit, maximum load, readability and minimum weight."), field=name,
                code="required"))
        ensure(values["readability"] <= values["minimum_weight"] < values["max_load"], InvalidInput(
            _("Readability ≤ minimum weight < maximum load is required."), field="minimum_weight"))
    ensure((values.get("capacity") is None) == (values.get("capacity_unit") is None), InvalidInput(
        _("Give the capacity together with its unit."), field="capacity_unit"))
    return values


def _value(name: str, raw: Any) -> Any:
    if name == "code":
        code = str(raw or "").strip().upper()
        ensure(code and len(code) <= 40 and all(c.isalnum() or c in "-_." for c in code), InvalidInput(
            _("Use 1 to 40 letters, digits, '-', '_' or '.'."), field="code"))
        return code
    if name == "kind":
        ensure(raw in EquipmentKind.values, InvalidInput(_("Choose a type."), field="kind"))
        return raw
    if name in TEXT_FIELDS:
        text = str(raw or "").strip()
        ensure(len(text) <= TEXT_FIELDS[name], InvalidInput(_("At most {limit} characters."), field=name,
                                                            limit=TEXT_FIELDS[name]))
        return text
    if _empty(raw):
        return None
    if name == "room":
        room = Room.objects.filter(code=str(raw).strip()).first()
        ensure(room is not None and room.status == RecordStatus.APPROVED, RoomNotApproved(field="room", room=raw))
        return room
    if name in UNIT_FIELDS:
        return units.unit(str(raw).strip(), field=name)
    if name in DECIMAL_FIELDS:
        number = to_decimal(raw, field=name)
        ensure(number > 0, InvalidInput(_("Must be greater than zero."), field=name, code="not_positive"))
        exponent = number.normalize().as_tuple().exponent
        ensure(isinstance(exponent, int) and -exponent <= DECIMAL_FIELDS[name], InvalidInput(
            _("At most {places} decimal places."), field=name, places=DECIMAL_FIELDS[name]))
        ensure(number < Decimal(10) ** 9, InvalidInput(_("The number is too large."), field=name))
        return number
    # hours: a whole number (a JSON integer, or digits from a form)
    whole = (isinstance(raw, int) and not isinstance(raw, bool)) or (isinstance(raw, str) and raw.strip().isdigit())
    ensure(whole, InvalidInput(_("Expected a whole number of hours."), field=name))
    hours = int(raw)
    ensure(0 < hours <= 24 * 365, InvalidInput(_("Between 1 hour and one year."), field=name))
    return hours


def values_of(equipment: Equipment) -> dict[str, Any]:
    return {name: getattr(equipment, name) for name in FIELDS}


def portable(values: dict[str, Any]) -> dict[str, Any]:
    """Register values as payloads and the audit trail carry them: links by code, decimals as strings."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        value: Any = values.get(name)
        if isinstance(value, Room | Unit):
            value = value.code
        elif isinstance(value, Decimal):
            value = format(value.normalize(), "f") if value else "0"
        out[name] = value
    return out


def register_equipment(*, actor: Any, data: dict[str, Any]) -> Equipment:
    """Add equipment to the register. It starts dirty, and needs a major clean before first use."""
    authorize(actor, MANAGE)
    values = parse(data)
    with transaction.atomic():
        ensure(not Equipment.objects.filter(code=values["code"]).exists(),
               DuplicateEquipment(field="code", equipment=values["code"]))
        now = clock.now()
        equipment = Equipment.objects.create(
            **values, status=EquipmentStatus.DIRTY, status_changed_at=now, major_clean_required=True,
            created_at=now, created_by=actor)
        after = portable(values)
        logbook.record(actor, equipment, kind=LogKind.REGISTERED, action="registered",
                       details={"name": equipment.name_en}, status_after=equipment.status,
                       changes={k: [None, v] for k, v in after.items() if v not in (None, "")},
                       event=REGISTERED, payload=_payload(equipment, after))
        return equipment


def change_equipment(*, actor: Any, equipment_id: int, data: dict[str, Any], reason: str) -> Equipment:
    """Change register data (not the id, nor the status) with a reason; the logbook lists what changed."""
    authorize(actor, MANAGE)
    reason = require_reason(reason)
    ensure("code" not in data, InvalidInput(_("The equipment id cannot be changed."), field="code"))
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure(equipment.active, EquipmentRetired(field="equipment", equipment=equipment.code))
        before = values_of(equipment)
        after = parse(data, base=before)
        changes = {name: [plain(before[name]), plain(after[name])] for name in FIELDS
                   if portable(before)[name] != portable(after)[name]}
        ensure(changes, NoChange())
        for name in changes:
            setattr(equipment, name, after[name])
        equipment.save(update_fields=list(changes))
        logbook.record(actor, equipment, kind=LogKind.CHANGED, action="changed",
                       details={"fields": ", ".join(changes), "reason": reason},
                       changes={k: [portable(before)[k], portable(after)[k]] for k in changes}, reason=reason,
                       event=CHANGED, payload={**_payload(equipment, portable(after)), "changed": sorted(changes),
                                               "reason": reason})
        return equipment


def retire_equipment(*, actor: Any, equipment_id: int, reason: str) -> Equipment:
    """Take equipment out of the register for good: it stays, inactive, with its logbook and records."""
    authorize(actor, MANAGE)
    reason = require_reason(reason)
    with transaction.atomic():
        equipment = logbook.lock(equipment_id)
        ensure(equipment.active, EquipmentRetired(field="equipment", equipment=equipment.code))
        ensure(equipment.status not in (EquipmentStatus.IN_USE, EquipmentStatus.CLEANING), Conflict(
            _("Equipment in use or being cleaned cannot be retired; end the use or the cleaning first."),
            field="equipment", code="equipment_busy"))
        equipment.active = False
        equipment.save(update_fields=["active"])
        logbook.record(actor, equipment, kind=LogKind.CHANGED, action="retired", details={"reason": reason},
                       changes={"active": [True, False]}, reason=reason, event=RETIRED,
                       payload={**_payload(equipment, portable(values_of(equipment))), "reason": reason})
        return equipment


def _payload(equipment: Equipment, values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "status": equipment.status, "active": equipment.active}
