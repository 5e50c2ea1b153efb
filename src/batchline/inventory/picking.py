"""Picking (INTERFACES.md exchange 1; WMS-04): the clerk takes what a pick task reserved, proving it
by scanning the container's label, and brings it to where the order needs it.

* The scanned container must be the task's. Anything else is refused with the reason the clerk can
  act on: another material, a lot that cannot be used, another lot, another container of the same
  lot (WrongContainer). The task's lot must still pass `usability.ensure_usable` at pick time (the
  same function allocation used): a lot that expired or became due for retest since it was
  allocated is not picked.
* Picking releases the task's whole reservation and posts the picked quantity to the destination
  (the request's, or the one scanned at the pick: a staging, dispensary or line-side location).
* The whole of a container at its location travels as it is: one PICK movement. Less than that
  splits it first, where it stands: a new container of the same lot (next container number,
  `split_from` the original, code `<lot>-<nnn>`) receives the picked quantity (SPLIT_OUT from the
  original, SPLIT_IN into the new one, both at the source location), and the new container is
  picked (PICK). The new container needs its label: the pick screen links to it.
* A short pick (less than the task asked for) needs a reason; what was not picked returns to
  available stock, and the request becomes partially allocated until `allocation.allocate()` is run
  again for the rest.

Locks (inventory.locks): the lot (FOR NO KEY UPDATE: it serialises container numbers of splits and
makes a concurrent status change wait), the request, the task, then the balance row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory import ledger
from batchline.inventory.allocation import (
    base_quantity,
    delivery_location,
    recompute,
    request_label,
    task_payload,
)
from batchline.inventory.choices import MovementType, TaskStatus
from batchline.inventory.errors import NotAtLocation, WrongContainer
from batchline.inventory.locks import lock_balances_at, lock_requests, lock_tasks
from batchline.inventory.models import Container, Lot, MaterialRequest, PickTask
from batchline.inventory.movements import check_destination
from batchline.inventory.receiving import container_code
from batchline.inventory.retry import retrying
from batchline.inventory.scanning import container_from_scan
from batchline.inventory.usability import ensure_usable, refusal

PICK_CONFIRMED = "inventory.pick.confirmed"


class TaskNotOpen(Conflict):
    code = "task_not_open"
    default_message = _("Pick task {task} is {status}; there is nothing to pick.")


@dataclass(frozen=True)
class Picked:
    """What a confirmed pick did: the task (done), the container that travelled (the new one after a
    split) and the movements posted."""

    task: PickTask
    container: Container
    split: bool
    movements: list[Any]


def load_task(task_id: int) -> PickTask:
    task = (PickTask.objects.select_related("request__material__base_unit", "request__unit", "request__to_location",
                                            "lot", "container", "from_location")
            .filter(pk=task_id).first())
    if task is not None:
        task.lot.material = task.request.material  # one material, loaded once
    ensure(task is not None, NotFound(_("There is no such pick task."), field="task"))
    assert task is not None
    return task


def check_scan(task: PickTask, scanned: str) -> Container:
    """The scanned container, if it is the task's and its lot may be used; else the refusal that says why."""
    container = container_from_scan(scanned, field="scanned")
    if container.pk != task.container_id:
        raise WrongContainer(scanned=container.code, reason=wrong_container_reason(task, container), field="scanned")
    ensure_usable(task.lot, need_by=task.request.need_by)
    return container


def wrong_container_reason(task: PickTask, container: Container) -> str:
    """Why `container` is not the one to pick, in the words the clerk needs."""
    lot = container.lot
    if lot.material_id != task.lot.material_id:
        return str(_("it holds material {material}; this task picks {expected}.")).format(
            material=lot.material.code, expected=task.lot.material.code)
    not_usable = refusal(lot, need_by=task.request.need_by)
    if not_usable is not None:
        return str(_("its lot {lot} cannot be used: {reason}")).format(lot=lot.number, reason=not_usable)
    if lot.pk != task.lot_id:
        return str(_("it is from lot {lot}; this task picks lot {expected} (FEFO: the lot that expires first)."
                     )).format(lot=lot.number, expected=task.lot.number)
    return str(_("it is another container of lot {lot}; take container {expected} from location {location}.")).format(
        lot=lot.number, expected=task.container.code, location=task.from_location.code)


@retrying
def confirm_pick(*, actor: Any, task_id: int, scanned: str, quantity: Any = None, unit: str | None = None,
                 to_location: str | None = None, reason: str = "") -> Picked:
    """Confirm a pick task by the scanned container label. `quantity` (in `unit`, default the base unit)
    defaults to the task's; less is a short pick and needs `reason`; more than the task is refused.
    `to_location` (a staging, dispensary or line-side code) defaults to the request's."""
    authorize(actor, "inventory.pick")
    task = load_task(task_id)
    request = task.request
    ensure(task.status == TaskStatus.OPEN, TaskNotOpen(task=task.pk, status=TaskStatus(task.status).label,
                                                       field="task"))
    check_scan(task, scanned)
    amount = task.quantity if quantity in (None, "") else base_quantity(quantity, unit or request.unit.code,
                                                                        request.material)
    ensure(amount <= task.quantity, InvalidInput(
        _("Pick {quantity} {unit} at most: that is what the task reserved."), field="quantity", code="above_task",
        quantity=_plain(task.quantity), unit=request.unit.code))
    short = amount < task.quantity
    if short:
        reason = require_reason(reason)
    scanned_destination = (to_location or "").strip()
    ensure(scanned_destination or request.to_location, InvalidInput(
        _("Scan the location the material goes to."), field="to_location", code="required"))
    destination = delivery_location(scanned_destination or request.to_location or "", material=request.material)
    task.container.lot = task.lot
    check_destination(task.container, destination)

    # Locks: lot, request, task, balance (inventory.locks); then everything is checked again.
    lot = Lot.objects.select_for_update(no_key=True).get(pk=task.lot_id)  # this row only, not its material
    lot.material = request.material
    ensure_usable(lot, need_by=request.need_by)
    loaded, request = request, lock_requests([request.pk])[0]
    request.material, request.unit, request.to_location = loaded.material, loaded.unit, loaded.to_location
    loaded_task, task = task, lock_tasks([task.pk])[0]
    ensure(task.status == TaskStatus.OPEN, TaskNotOpen(task=task.pk, status=TaskStatus(task.status).label,
                                                       field="task"))
    container, source = loaded_task.container, loaded_task.from_location  # never change on a task
    container.lot = lot
    row = lock_balances_at([(container.pk, source.pk)]).get((container.pk, source.pk))
    ensure(row is not None, NotAtLocation(container=container.code, location=source.code))
    assert row is not None
    now = clock.now()
    row.reserved -= task.quantity  # the whole reservation ends; what a short pick leaves is available again
    row.updated_at = now
    row.save(update_fields=["reserved", "updated_at"])
    reference = request_label(request)[:60]
    moving = container
    if amount == row.on_hand:
        postings = [ledger.Posting(MovementType.PICK, container, amount, from_location=source,
                                   to_location=destination, reference=reference)]
    else:
        moving = _new_container(container, now)
        postings = [
            ledger.Posting(MovementType.SPLIT_OUT, container, amount, from_location=source, reference=reference),
            ledger.Posting(MovementType.SPLIT_IN, moving, amount, to_location=source, reference=reference),
            ledger.Posting(MovementType.PICK, moving, amount, from_location=source, to_location=destination,
                           reference=reference),
        ]
    movements = ledger.post(actor, postings)
    task.status = TaskStatus.DONE
    task.picked_quantity = amount
    task.picked_container = moving if moving.pk != container.pk else None
    task.done_at = now
    task.done_by = actor
    task.save(update_fields=["status", "picked_quantity", "picked_container", "done_at", "done_by"])
    recompute(request)
    task.lot, task.container, task.from_location = lot, container, source
    record_change(actor, task, action="pick", reason=reason if short else "", changes={
        "status": [TaskStatus.OPEN.value, task.status], "picked_quantity": [None, amount],
        "container": [None, moving.code], "to_location": [None, destination.code]},
        event=PICK_CONFIRMED, payload=pick_payload(task, request, moving, destination.code, short=short,
                                                   reason=reason if short else "", actor=actor))
    return Picked(task=task, container=moving, split=moving.pk != container.pk, movements=movements)


def _new_container(source: Container, now: Any) -> Container:
    """The next container number of the lot (the lot's row lock serialises this), split from `source`."""
    last = Container.objects.filter(lot_id=source.lot_id).aggregate(last=Max("serial"))["last"] or 0
    serial = last + 1
    created = Container.objects.create(lot=source.lot, serial=serial, code=container_code(source.lot, serial),
                                       split_from=source, created_at=now)
    return created


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def pick_payload(task: PickTask, request: MaterialRequest, container: Container, to_location: str, *, short: bool,
                 reason: str, actor: Any) -> dict[str, Any]:
    """What the ordering system learns from a pick (exchange 1): which container went where."""
    return {
        **task_payload(task),
        "request_id": request.pk, "order_ref": request.order_ref, "source_system": request.source_system,
        "material": task.lot.material.code, "unit": request.unit.code, "picked_container": container.code,
        "to_location": to_location, "split": container.pk != task.container_id, "short": short, "reason": reason,
        "request_status": request.status, "picked_by": getattr(actor, "username", "system"),
        "picked_at": (task.done_at or clock.now()).isoformat().replace("+00:00", "Z"),
    }
