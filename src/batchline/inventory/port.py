"""The warehouse port: what production asks of the warehouse, as one small protocol (DESIGN.md §4).

Production (and anything else above inventory) calls `warehouse()` and talks to the `WarehousePort`
it returns, never to inventory's services directly. Two implementations are meant to exist:

* `BuiltInWarehouse` (here, the default): Batchline is the WMS. Each operation is one call into
  inventory's services: allocation (exchange 1), picking, movements (exchange 5).
* an *external-WMS adapter* (integration, later): another system is the WMS. The same operations
  send the INTERFACES.md messages through the outbox and answer from what the external WMS
  confirmed on the inbound API.

Which one runs is configuration: ``BATCHLINE_WAREHOUSE_PORT`` in the Django settings, the dotted
path of a class (or factory) whose instances satisfy `WarehousePort`; default
``batchline.inventory.port.BuiltInWarehouse``.

The port speaks in codes, decimal quantities with their unit and plain dataclasses (`RequestState`,
`TaskState`, `Issued`, `Returned`), not in inventory's models, so that an adapter can return the
same things without a Batchline stock ledger behind it. Errors are DomainErrors as everywhere.

Operations (INTERFACES.md, MES ↔ WMS):

* `request_material` — exchange 1: an order's requirement of one material; allocated FEFO at once.
* `cancel_request` — the order no longer needs it: reservations are released.
* `request_state` / `order_requests` — status, quantities, pick tasks and the containers picked.
* `confirm_consumption` — exchange 2: material charged to the batch leaves stock (an ISSUE movement
  from the staging, dispensary or line-side location it was delivered to); the lot must still be
  usable (WMS-04).
* `return_to_stock` — exchange 5: what comes back from the line, re-weighed, with a reason code
  (`inventory.movements.return_to_stock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change
from batchline.core.errors import InvalidInput, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory import allocation, ledger, movements
from batchline.inventory.allocation import DELIVERY_LOCATION_TYPES
from batchline.inventory.choices import MovementType
from batchline.inventory.models import MaterialRequest, PickTask, StockBalance
from batchline.inventory.retry import retrying
from batchline.inventory.usability import ensure_usable

SETTING = "BATCHLINE_WAREHOUSE_PORT"
DEFAULT = "batchline.inventory.port.BuiltInWarehouse"
CONSUMED = "inventory.material.consumed"  # exchange 2 (the ISSUE movement's own event goes out as well)


# --- what the port returns -------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskState:
    task_id: int
    lot: str
    container: str  # the container reserved
    from_location: str
    quantity: Decimal
    status: str  # open, done, cancelled
    picked_quantity: Decimal
    picked_container: str | None  # the container that travelled: the new one after a split, else `container`


@dataclass(frozen=True)
class RequestState:
    request_id: int
    order_ref: str
    source_system: str
    material: str
    lot: str | None
    quantity: Decimal
    unit: str
    need_by: date
    to_location: str | None
    status: str  # open, partial, allocated, picked, cancelled
    allocated_quantity: Decimal
    picked_quantity: Decimal
    tasks: tuple[TaskState, ...]
    created_at: datetime

    @property
    def picked_containers(self) -> tuple[str, ...]:
        return tuple(t.picked_container for t in self.tasks if t.status == "done" and t.picked_container)


@dataclass(frozen=True)
class Issued:
    order_ref: str
    material: str
    lot: str
    container: str
    from_location: str
    quantity: Decimal
    unit: str
    movement_id: int | None  # None from an adapter that has no ledger of its own


@dataclass(frozen=True)
class Returned:
    order_ref: str
    material: str
    lot: str
    container: str
    to_location: str
    quantity: Decimal
    unit: str
    reason_code: str


# --- the protocol ----------------------------------------------------------------------------------------

@runtime_checkable
class WarehousePort(Protocol):
    """What production needs from the warehouse. Every operation checks the actor's permission and runs
    as one business action (built in: one transaction; an adapter: one message)."""

    def request_material(self, *, actor: Any, order_ref: str, material: str, quantity: Any, unit: str,
                         need_by: date | str, lot: str | None = None, to_location: str | None = None,
                         source_system: str = allocation.DEFAULT_SOURCE_SYSTEM) -> RequestState: ...

    def cancel_request(self, *, actor: Any, request_id: int, reason: str) -> RequestState: ...

    def request_state(self, request_id: int) -> RequestState: ...

    def order_requests(self, order_ref: str, *, source_system: str | None = None) -> list[RequestState]: ...

    def confirm_consumption(self, *, actor: Any, order_ref: str, container: str, quantity: Any, unit: str,
                            location: str | None = None) -> Issued: ...

    def return_to_stock(self, *, actor: Any, order_ref: str, container: str, quantity: Any, unit: str,
                        to_location: str, reason_code: str, reason: str = "") -> Returned: ...


def warehouse() -> WarehousePort:
    """The configured warehouse (settings.BATCHLINE_WAREHOUSE_PORT, default the built-in one)."""
    factory = import_string(getattr(settings, SETTING, DEFAULT) or DEFAULT)
    port = factory()
    if not isinstance(port, WarehousePort):
        raise TypeError(f"{SETTING}: {factory!r} does not implement WarehousePort")
    return port


# --- the built-in warehouse --------------------------------------------------------------------------------

class BuiltInWarehouse:
    """Batchline as the WMS: each operation calls inventory's services."""

    def request_material(self, *, actor: Any, order_ref: str, material: str, quantity: Any, unit: str,
                         need_by: date | str, lot: str | None = None, to_location: str | None = None,
                         source_system: str = allocation.DEFAULT_SOURCE_SYSTEM) -> RequestState:
        request = allocation.request_material(
            actor=actor, order_ref=order_ref, material_code=material, quantity=quantity, unit=unit, need_by=need_by,
            lot_number=lot, to_location=to_location, source_system=source_system)
        return self.request_state(request.pk)

    def cancel_request(self, *, actor: Any, request_id: int, reason: str) -> RequestState:
        allocation.cancel_request(actor=actor, request_id=request_id, reason=reason)
        return self.request_state(request_id)

    def request_state(self, request_id: int) -> RequestState:
        request = (MaterialRequest.objects.select_related("material", "unit", "lot", "to_location")
                   .filter(pk=request_id).first())
        ensure(request is not None, NotFound(_("There is no such material request."), field="request"))
        assert request is not None
        return state_of(request, allocation.tasks_of(request))

    def order_requests(self, order_ref: str, *, source_system: str | None = None) -> list[RequestState]:
        requests = MaterialRequest.objects.select_related("material", "unit", "lot", "to_location").filter(
            order_ref=order_ref).order_by("pk")
        if source_system:
            requests = requests.filter(source_system=source_system.upper())
        return [state_of(request, allocation.tasks_of(request)) for request in requests]

    def confirm_consumption(self, *, actor: Any, order_ref: str, container: str, quantity: Any, unit: str,
                            location: str | None = None) -> Issued:
        return issue(actor=actor, order_ref=order_ref, container=container, quantity=quantity, unit=unit,
                     location=location)

    def return_to_stock(self, *, actor: Any, order_ref: str, container: str, quantity: Any, unit: str,
                        to_location: str, reason_code: str, reason: str = "") -> Returned:
        moved = movements.return_to_stock(actor=actor, container=container, to_location=to_location,
                                          reweighed_quantity=quantity, unit=unit, reason_code=reason_code,
                                          reason=reason, order_ref=order_ref)
        returned = next(m for m in reversed(moved.movements) if m.movement_type == MovementType.RETURN)
        lot = moved.lot
        return Returned(order_ref=order_ref, material=lot.material.code, lot=lot.number, container=moved.container.code,
                        to_location=to_location, quantity=returned.quantity, unit=lot.material.base_unit.code,
                        reason_code=returned.reason_code)


@retrying
def issue(*, actor: Any, order_ref: str, container: str, quantity: Any, unit: str,
          location: str | None = None) -> Issued:
    """Exchange 2 (built in): `quantity` of the container leaves stock for the order, from where it was
    delivered (a staging, dispensary or line-side location; `location` when it is at several). The lot
    must be usable today (WMS-04). One ISSUE movement and its ERP goods-issue event; an audit entry on
    the lot; the CONSUMED event for the batch record's genealogy."""
    authorize(actor, "inventory.move")
    order_ref = str(order_ref or "").strip()
    ensure(order_ref, InvalidInput(_("This field is required."), field="order_ref", code="required"))
    found = movements.resolve_container(container)
    amount = movements.base_quantity(quantity, unit, found)
    ensure_usable(found.lot)
    rows = [row for row in StockBalance.objects.select_related("location").filter(container=found, on_hand__gt=0)
            .order_by("pk") if row.location.location_type in DELIVERY_LOCATION_TYPES
            and (not location or row.location.code == location)]
    ensure(rows, NotFound(_("Container {container} has no stock at a staging, dispensary or line-side location."),
                          field="container", container=found.code))
    ensure(len(rows) == 1, InvalidInput(
        _("Container {container} has stock at several locations ({locations}): say which one."),
        field="location", code="location_ambiguous", container=found.code,
        locations=", ".join(r.location.code for r in rows)))
    source = rows[0].location
    (movement,) = ledger.post(actor, [ledger.Posting(MovementType.ISSUE, found, amount, from_location=source,
                                                     reference=order_ref[:60])])
    lot = found.lot
    result = Issued(order_ref=order_ref, material=lot.material.code, lot=lot.number, container=found.code,
                    from_location=source.code, quantity=amount, unit=lot.material.base_unit.code,
                    movement_id=movement.pk)
    record_change(actor, lot, action="issue", changes={
        "container": [None, found.code], "location": [source.code, None], "quantity": [None, amount],
        "order": [None, order_ref]}, event=CONSUMED, payload={
            "order_ref": order_ref, "material": result.material, "lot": result.lot, "container": result.container,
            "from_location": result.from_location, "quantity": format(amount.normalize(), "f"), "unit": result.unit,
            "movement_id": movement.pk, "operator": getattr(actor, "username", "system"),
            "consumed_at": movement.occurred_at.isoformat().replace("+00:00", "Z")})
    return result


def state_of(request: MaterialRequest, tasks: list[PickTask]) -> RequestState:
    return RequestState(
        request_id=request.pk, order_ref=request.order_ref, source_system=request.source_system,
        material=request.material.code, lot=request.lot.number if request.lot else None, quantity=request.quantity,
        unit=request.unit.code, need_by=request.need_by,
        to_location=request.to_location.code if request.to_location else None, status=request.status,
        allocated_quantity=request.allocated_quantity, picked_quantity=request.picked_quantity,
        created_at=request.created_at, tasks=tuple(TaskState(
            task_id=t.pk, lot=t.lot.number, container=t.container.code, from_location=t.from_location.code,
            quantity=t.quantity, status=t.status, picked_quantity=t.picked_quantity,
            picked_container=(t.picked_container.code if t.picked_container else
                              (t.container.code if t.status == "done" else None))) for t in tasks))
