"""Material preparation (INTERFACES.md exchange 1; WMS-04, WMS-05): an order's requirement of one
material becomes a material request, allocated at once from usable stock into pick tasks.

Allocation rules (docs/warehouse-picking.md):

* Only stock that `inventory.usability` calls usable today *and on the need-by day* is allocated:
  released, not expired, not due for retest (`usable_lots_q(need_by=...)`, the one rule of WMS-04).
  Stock that expires before the order needs it is never reserved for it (WMS-05).
* Only stock where stock is kept: storage, receiving and quarantine locations (a released lot may
  not have been put away yet). Stock already staged, in a dispensary, line-side, in shipping or in
  the rejected-goods area is never allocated again.
* FEFO across lots, strictly: the lot that expires first is used up before the next one is
  touched; lots without an expiry date come after those with one, oldest receipt first (FIFO).
* Within one lot, the fewest containers, and no full container opened needlessly: if one
  container (balance row) can cover what is still missing, the smallest such one is taken (an
  opened container goes before a full one); otherwise the largest one is taken whole and the rule
  is applied again to the rest.
* As much as is available: a request that cannot be covered is allocated partially (status
  `partial`) or not at all (`open`); `allocate()` tries again for what is still missing.

Each reservation raises `reserved` on a balance row (CHECK: reserved <= on_hand) and creates one
pick task. Locks follow inventory.locks: the candidate lots FOR KEY SHARE (a concurrent status
change waits, and a lot that stopped being usable drops out), then the material request, then the
candidate balance rows FOR UPDATE, all in primary-key order. Public actions run under
`inventory.retry.retrying`: a deadlock or serialization failure reported by PostgreSQL runs the
whole action again instead of reaching the user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, Sum
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.core.quantity import Quantity, to_decimal
from batchline.identity.authz import authorize
from batchline.inventory.choices import RequestStatus, TaskStatus
from batchline.inventory.errors import LocationNotUsable, MaterialNotApproved
from batchline.inventory.locks import lock_balances_at, lock_requests, lock_tasks, share_lots
from batchline.inventory.models import Lot, MaterialRequest, PickTask, StockBalance
from batchline.inventory.retry import retrying
from batchline.inventory.usability import ensure_usable, today, usable_lots_q
from batchline.masterdata import units
from batchline.masterdata.choices import LocationType, RecordStatus, StorageCondition
from batchline.masterdata.models import Location, Material

ALLOCATED = "inventory.material_request.allocated"  # created or allocated again: status, quantities, tasks
CANCELLED = "inventory.material_request.cancelled"
UPDATED = "inventory.material_request.updated"  # tasks changed by something else (a lot stopped being usable)
DEFAULT_SOURCE_SYSTEM = "BATCHLINE"

# Where allocatable stock is kept, and where picked material may be delivered.
PICKABLE_LOCATION_TYPES = (LocationType.STORAGE, LocationType.RECEIVING, LocationType.QUARANTINE)
DELIVERY_LOCATION_TYPES = (LocationType.STAGING, LocationType.DISPENSARY, LocationType.LINE_SIDE)
QUANTUM = Decimal("0.000001")  # the ledger's precision (decimal_places=6)
CLOSED_STATUSES = (RequestStatus.CANCELLED, RequestStatus.PICKED)


class RequestClosed(Conflict):
    code = "request_closed"
    default_message = _("Material request {request} is {status}; it can no longer be changed.")


# --- the public actions ------------------------------------------------------------------------------

@retrying
def request_material(*, actor: Any, order_ref: str, material_code: str, quantity: Any, unit: str, need_by: Any,
                     lot_number: str | None = None, to_location: str | None = None,
                     source_system: str = DEFAULT_SOURCE_SYSTEM) -> MaterialRequest:
    """Record an order's requirement and allocate it at once, FEFO, as far as stock allows. Codes are
    Batchline codes (the API translates a sender's codes first); `quantity` in `unit`, stored in the
    material's base unit; `need_by` a date (or ISO text); `to_location` a staging, dispensary or
    line-side location. → the request: allocated, partial or open."""
    authorize(actor, "inventory.allocate")
    order_ref = _text(order_ref, field="order_ref", limit=40)
    source_system = _text(source_system or DEFAULT_SOURCE_SYSTEM, field="source_system", limit=40).upper()
    material = _material(material_code)
    amount = base_quantity(quantity, unit, material)
    day = _need_by(need_by)
    lot = _requested_lot(lot_number, material, day)
    destination = delivery_location(to_location, material=material) if to_location else None
    plan = _reserve(material_id=material.pk, lot_id=lot.pk if lot else None, need_by=day, missing=amount)
    now = clock.now()
    allocated = sum((take for _row, take in plan), Decimal(0))
    request = MaterialRequest.objects.create(
        order_ref=order_ref, source_system=source_system, material=material, lot=lot, quantity=amount,
        unit=material.base_unit, need_by=day, to_location=destination, allocated_quantity=allocated,
        status=status_for(amount, allocated, Decimal(0)), created_at=now, created_by=actor)
    tasks = _create_tasks(request, plan, now)
    record_change(actor, request, action="create", changes={
        "order_ref": [None, order_ref], "source_system": [None, source_system], "material": [None, material.code],
        "lot": [None, lot.number if lot else None], "quantity": [None, request.quantity],
        "unit": [None, material.base_unit.code], "need_by": [None, day],
        "to_location": [None, destination.code if destination else None], "status": [None, request.status],
        "allocated_quantity": [None, allocated]},
        event=ALLOCATED, payload=request_payload(request, tasks))
    return request


@retrying
def allocate(*, actor: Any, request_id: int) -> MaterialRequest:
    """Allocate again what an open or partially allocated request still lacks (stock arrived, a lot was
    released, a short pick or a status change took some away). Nothing to add changes nothing."""
    authorize(actor, "inventory.allocate")
    request = _open_request(request_id)
    ensure(request.status not in CLOSED_STATUSES, RequestClosed(
        request=request_label(request), status=RequestStatus(request.status).label, field="request"))
    missing = request.quantity - request.allocated_quantity
    if missing <= 0:
        return request
    lot_ids = share_lots(_candidate_lots(request.material_id, request.lot_id, request.need_by))
    locked = lock_requests([request.pk])[0]
    # Checked again under the lock: a cancel that committed meanwhile must not get new reservations.
    ensure(locked.status not in CLOSED_STATUSES, RequestClosed(
        request=request_label(locked), status=RequestStatus(locked.status).label, field="request"))
    plan = _reserve_locked(lot_ids, request.material_id, request.quantity - locked.allocated_quantity)
    if not plan:
        return locked
    _create_tasks(locked, plan, clock.now())
    before = (locked.status, locked.allocated_quantity)
    recompute(locked)
    record_change(actor, locked, action="allocate", changes={
        "status": [before[0], locked.status], "allocated_quantity": [before[1], locked.allocated_quantity]},
        event=ALLOCATED, payload=request_payload(locked, tasks_of(locked)))
    return locked


@retrying
def cancel_request(*, actor: Any, request_id: int, reason: str) -> MaterialRequest:
    """Cancel a request: its open pick tasks are cancelled and their reservations released. What was
    already picked stays where it was delivered (return it to stock with a movement, exchange 5)."""
    authorize(actor, "inventory.allocate")
    reason = require_reason(reason)
    request = _open_request(request_id)
    ensure(request.status not in CLOSED_STATUSES, RequestClosed(
        request=request_label(request), status=RequestStatus(request.status).label, field="request"))
    locked = lock_requests([request.pk])[0]
    ensure(locked.status not in CLOSED_STATUSES, RequestClosed(
        request=request_label(locked), status=RequestStatus(locked.status).label, field="request"))
    tasks = lock_tasks(PickTask.objects.filter(request=locked, status=TaskStatus.OPEN).values_list("pk", flat=True))
    release_reservations(tasks, status=TaskStatus.CANCELLED)
    before = (locked.status, locked.allocated_quantity)
    recompute(locked)
    locked.status = RequestStatus.CANCELLED
    locked.save(update_fields=["status"])
    record_change(actor, locked, action="cancel", reason=reason, changes={
        "status": [before[0], locked.status], "allocated_quantity": [before[1], locked.allocated_quantity]},
        event=CANCELLED, payload={**request_payload(locked, tasks_of(locked)), "reason": reason})
    return locked


def refresh_request_status(request: MaterialRequest, *, actor: Any = None, reason: str = "") -> MaterialRequest:
    """Recompute a request's allocated and picked quantities and its status from its pick tasks, after
    something outside this module changed them (inventory.lots cancels the open picks of a lot that
    stops being usable). The caller holds the request's row lock (`locks.lock_requests`), inside its
    transaction. A change is audited and announced (UPDATED) so that the ordering system learns it."""
    before = (request.status, request.allocated_quantity, request.picked_quantity)
    recompute(request)
    after = (request.status, request.allocated_quantity, request.picked_quantity)
    if after != before:
        record_change(actor, request, action="update", reason=reason, changes={
            name: [old, new] for name, old, new in zip(("status", "allocated_quantity", "picked_quantity"),
                                                       before, after, strict=True) if old != new},
            event=UPDATED, payload={**request_payload(request, tasks_of(request)), "reason": reason})
    return request


# --- what the rules compute ---------------------------------------------------------------------------

def status_for(quantity: Decimal, allocated: Decimal, picked: Decimal) -> RequestStatus:
    """picked once all of it is picked; allocated once all of it is reserved or picked; partial while
    some is; open while none is."""
    if picked >= quantity:
        return RequestStatus.PICKED
    if allocated >= quantity:
        return RequestStatus.ALLOCATED
    if allocated > 0:
        return RequestStatus.PARTIALLY_ALLOCATED
    return RequestStatus.OPEN


def recompute(request: MaterialRequest) -> None:
    """allocated = open tasks' quantities + what was picked; picked = what done tasks picked. A
    cancelled request stays cancelled."""
    sums = PickTask.objects.filter(request=request).aggregate(
        open=Sum("quantity", filter=Q(status=TaskStatus.OPEN)),
        picked=Sum("picked_quantity", filter=Q(status=TaskStatus.DONE)))
    picked = sums["picked"] or Decimal(0)
    request.picked_quantity = picked
    request.allocated_quantity = (sums["open"] or Decimal(0)) + picked
    if request.status != RequestStatus.CANCELLED:
        request.status = status_for(request.quantity, request.allocated_quantity, picked)
    request.save(update_fields=["picked_quantity", "allocated_quantity", "status"])


def fefo_key(lot: Lot) -> tuple[bool, date, Any, int]:
    """Earliest expiry first; lots without one after them, oldest receipt first (FIFO)."""
    return (lot.expires_on is None, lot.expires_on or date.max, lot.received_at, lot.pk)


def plan_allocation(rows: Iterable[StockBalance], missing: Decimal) -> list[tuple[StockBalance, Decimal]]:
    """Which rows give how much (module docstring: FEFO strictly, then fewest containers per lot).
    Pure: `rows` carry their lot; nothing is written."""
    by_lot: dict[int, list[StockBalance]] = {}
    for row in rows:
        if row.available > 0:
            by_lot.setdefault(row.lot_id, []).append(row)
    plan: list[tuple[StockBalance, Decimal]] = []
    for lot_rows in sorted(by_lot.values(), key=lambda group: fefo_key(group[0].lot)):
        while missing > 0 and lot_rows:
            covering = [row for row in lot_rows if row.available >= missing]
            if covering:
                row = min(covering, key=lambda r: (r.available, r.pk))
            else:
                row = max(lot_rows, key=lambda r: (r.available, -r.pk))
            take = min(row.available, missing)
            plan.append((row, take))
            missing -= take
            lot_rows.remove(row)
        if missing <= 0:
            break
    return plan


# --- reserving ---------------------------------------------------------------------------------------

def _candidate_rows(material_id: int) -> Any:
    return StockBalance.objects.filter(material_id=material_id, location__location_type__in=PICKABLE_LOCATION_TYPES,
                                       on_hand__gt=F("reserved"))


def _candidate_lots(material_id: int, lot_id: int | None, need_by: date) -> Any:
    rows = _candidate_rows(material_id)
    if lot_id is not None:
        rows = rows.filter(lot_id=lot_id)
    return Lot.objects.filter(usable_lots_q(need_by=need_by), material_id=material_id,
                              pk__in=rows.values("lot_id"))


def _reserve(*, material_id: int, lot_id: int | None, need_by: date, missing: Decimal) -> list[tuple[StockBalance,
                                                                                                      Decimal]]:
    lot_ids = share_lots(_candidate_lots(material_id, lot_id, need_by))
    return _reserve_locked(lot_ids, material_id, missing)


def _reserve_locked(lot_ids: list[int], material_id: int, missing: Decimal) -> list[tuple[StockBalance, Decimal]]:
    """Lock the candidate rows of the (already locked, usable) lots in pk order, plan, raise `reserved`."""
    if not lot_ids or missing <= 0:
        return []
    rows = list(_candidate_rows(material_id).filter(lot_id__in=lot_ids)
                .select_for_update(of=("self",)).select_related("lot", "container", "location").order_by("pk"))
    plan = plan_allocation(rows, missing)
    if plan:
        now = clock.now()
        for row, take in plan:
            row.reserved += take
            row.updated_at = now
        StockBalance.objects.bulk_update([row for row, _take in plan], ["reserved", "updated_at"])
    return plan


def _create_tasks(request: MaterialRequest, plan: list[tuple[StockBalance, Decimal]], now: Any) -> list[PickTask]:
    tasks = PickTask.objects.bulk_create([
        PickTask(request=request, lot_id=row.lot_id, container_id=row.container_id, from_location_id=row.location_id,
                 quantity=take, created_at=now) for row, take in plan])
    for task, (row, _take) in zip(tasks, plan, strict=True):  # for the payload, without reading them again
        task.lot, task.container, task.from_location = row.lot, row.container, row.location
    return tasks


def release_reservations(tasks: list[PickTask], *, status: str) -> None:
    """End open tasks (cancelled): their quantities leave `reserved` on their balance rows, locked in
    pk order. The caller holds the tasks' row locks."""
    open_tasks = [task for task in tasks if task.status == TaskStatus.OPEN]
    if not open_tasks:
        return
    rows = lock_balances_at({(task.container_id, task.from_location_id) for task in open_tasks})
    now = clock.now()
    for task in open_tasks:
        row = rows[(task.container_id, task.from_location_id)]
        row.reserved -= task.quantity
        row.updated_at = now
        task.status = status
        task.done_at = now
    StockBalance.objects.bulk_update(rows.values(), ["reserved", "updated_at"])
    PickTask.objects.bulk_update(open_tasks, ["status", "done_at"])


# --- input ----------------------------------------------------------------------------------------------

def _text(value: Any, *, field: str, limit: int) -> str:
    text = str(value or "").strip()
    ensure(text, InvalidInput(_("This field is required."), field=field, code="required"))
    ensure(len(text) <= limit, InvalidInput(_("At most {max} characters."), field=field, max=limit))
    return text


def _material(code: str) -> Material:
    material = Material.objects.select_related("base_unit").filter(code=(code or "").strip()).first()
    ensure(material is not None, NotFound(_("There is no material '{material}'."), field="material", material=code))
    assert material is not None
    ensure(material.status == RecordStatus.APPROVED, MaterialNotApproved(material=material.code, field="material"))
    return material


def base_quantity(value: Any, unit: str, material: Material, *, field: str = "quantity") -> Decimal:
    """A positive quantity given in `unit`, in the material's base unit, at the ledger's precision."""
    amount = to_decimal(value, field=field)
    ensure(amount > 0, InvalidInput(_("The quantity must be greater than zero."), field=field, code="not_positive"))
    unit = (unit or "").strip()
    base = amount if unit == material.base_unit.code else units.convert(
        Quantity(amount, unit), material.base_unit.code, material=material).amount
    # The bound first: quantize() of a value beyond the decimal context's precision raises InvalidOperation.
    ensure(base < Decimal("1e12") and base == base.quantize(QUANTUM), InvalidInput(
        _("{quantity} {unit} cannot be kept exactly: at most 6 decimal places in {base_unit}, below 10^12."),
        field=field, code="precision", quantity=value, unit=unit, base_unit=material.base_unit.code))
    return base.quantize(QUANTUM)


def _need_by(value: Any) -> date:
    day = value
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    ensure(isinstance(day, date), InvalidInput(_("Expected a date, e.g. 2026-01-31."), field="need_by"))
    assert isinstance(day, date)
    ensure(day >= today(), InvalidInput(_("The need-by date {date} is in the past."), field="need_by",
                                        code="need_by_past", date=day))
    return day


def _requested_lot(number: str | None, material: Material, need_by: date) -> Lot | None:
    if not (number or "").strip():
        return None
    lot = Lot.objects.filter(number=(number or "").strip()).first()
    ensure(lot is not None, NotFound(_("There is no lot '{lot}'."), field="lot", lot=number))
    assert lot is not None
    ensure(lot.material_id == material.pk, InvalidInput(
        _("Lot {lot} is material {lot_material}, not {material}."), field="lot", code="lot_material_mismatch",
        lot=lot.number, lot_material=Material.objects.get(pk=lot.material_id).code, material=material.code))
    ensure_usable(lot, need_by=need_by)
    return lot


def delivery_location(code: str | Location, *, material: Material | None = None,
                      field: str = "to_location") -> Location:
    """An approved staging, dispensary or line-side location (where picked material goes), of the
    material's storage condition; by code, or the location itself (checked all the same)."""
    if isinstance(code, Location):
        location: Location | None = code if code.status == RecordStatus.APPROVED else None
        code = code.code
    else:
        location = Location.objects.filter(code=(code or "").strip(), status=RecordStatus.APPROVED).first()
    ensure(location is not None, NotFound(_("There is no approved location '{location}'."), field=field,
                                          location=code))
    assert location is not None
    ensure(location.location_type in DELIVERY_LOCATION_TYPES, LocationNotUsable(
        location=location.code, field=field,
        reason=_("picked material goes to a staging, dispensary or line-side location.")))
    ensure(material is None or location.storage_condition == material.storage_condition, LocationNotUsable(
        location=location.code, field=field, reason=_("it is {location_condition}; material {material} needs "
                                                      "{material_condition}.").format(
            location_condition=StorageCondition(location.storage_condition).label,
            material=material.code if material else "",
            material_condition=StorageCondition(material.storage_condition).label if material else "")))
    return location


def _open_request(request_id: int) -> MaterialRequest:
    request = MaterialRequest.objects.filter(pk=request_id).first()
    ensure(request is not None, NotFound(_("There is no such material request."), field="request"))
    assert request is not None
    return request


# --- reading and the outbound content ---------------------------------------------------------------------

def request_label(request: MaterialRequest) -> str:
    return f"{request.order_ref} #{request.pk}"


def tasks_of(request: MaterialRequest) -> list[PickTask]:
    return list(PickTask.objects.filter(request=request).select_related(
        "lot", "container", "from_location", "picked_container").order_by("pk"))


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


@dataclass(frozen=True)
class _Codes:
    material: str
    unit: str
    lot: str | None
    to_location: str | None


def _codes(request: MaterialRequest) -> _Codes:
    return _Codes(material=request.material.code, unit=request.unit.code,
                  lot=request.lot.number if request.lot_id and request.lot else None,
                  to_location=request.to_location.code if request.to_location_id and request.to_location else None)


def task_payload(task: PickTask) -> dict[str, Any]:
    return {
        "task_id": task.pk, "lot": task.lot.number, "container": task.container.code,
        "from_location": task.from_location.code, "quantity": _decimal(task.quantity), "status": task.status,
        "picked_quantity": _decimal(task.picked_quantity),
        "picked_container": _travelled(task),
    }


def _travelled(task: PickTask) -> str | None:
    """The container a done task sent on: the new one after a split, else the task's own."""
    if task.status != TaskStatus.DONE:
        return None
    return task.picked_container.code if task.picked_container_id and task.picked_container else task.container.code


def request_payload(request: MaterialRequest, tasks: list[PickTask]) -> dict[str, Any]:
    """What the ordering system learns about its request (exchange 1): status, quantities, tasks."""
    codes = _codes(request)
    return {
        "request_id": request.pk, "order_ref": request.order_ref, "source_system": request.source_system,
        "material": codes.material, "lot": codes.lot, "quantity": _decimal(request.quantity), "unit": codes.unit,
        "need_by": request.need_by.isoformat(), "to_location": codes.to_location, "status": request.status,
        "allocated_quantity": _decimal(request.allocated_quantity),
        "picked_quantity": _decimal(request.picked_quantity),
        "tasks": [task_payload(task) for task in tasks],
    }
