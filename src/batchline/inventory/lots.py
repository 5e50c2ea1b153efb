"""The lot status machine (WMS-03): quarantine → released / rejected / restricted, e-signed and
audited. Quality's usage decision calls `change_lot_status`; the change takes effect on every
allocation at once: open pick tasks of a lot that is no longer usable are cancelled and their
reservations released in the same transaction.

Allowed transitions: from quarantine to released, rejected or restricted; from released or
restricted back to quarantine (a complaint, a retest), to rejected, or between released and
restricted. Nothing leaves rejected: rejected material is scrapped or returned to the supplier.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.compliance.signatures import SignatureRequest, sign
from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory.allocation import refresh_request_status
from batchline.inventory.choices import LotStatus, TaskStatus
from batchline.inventory.locks import lock_balances, lock_lots, lock_requests
from batchline.inventory.models import Lot, PickTask, StockBalance

STATUS_CHANGED = "inventory.lot.status_changed"
SIGNATURE_MEANING = "lot_status"

TRANSITIONS: dict[str, set[str]] = {
    LotStatus.QUARANTINE: {LotStatus.RELEASED, LotStatus.REJECTED, LotStatus.RESTRICTED},
    LotStatus.RELEASED: {LotStatus.QUARANTINE, LotStatus.REJECTED, LotStatus.RESTRICTED},
    LotStatus.RESTRICTED: {LotStatus.QUARANTINE, LotStatus.REJECTED, LotStatus.RELEASED},
    LotStatus.REJECTED: set(),
}


def change_lot_status(*, actor: Any, lot_id: int, status: str, reason: str, signature: SignatureRequest,
                      restriction: str = "", reference: str = "") -> Lot:
    """Set the lot's status (signed). `reference`: the decision behind it (inspection lot, deviation)."""
    authorize(actor, "inventory.change_lot_status")
    reason = require_reason(reason)
    ensure(status in LotStatus.values, InvalidInput(_("Unknown lot status '{status}'."), field="status",
                                                    status=status))
    restriction = (restriction or "").strip()
    ensure(status != LotStatus.RESTRICTED or restriction,
           InvalidInput(_("A restricted lot needs the restriction: what it may be used for."), field="restriction"))
    with transaction.atomic():
        locked = lock_lots([lot_id])
        ensure(bool(locked), NotFound(_("There is no such lot."), field="lot"))
        lot = locked[0]
        before = LotStatus(lot.status)
        ensure(status in TRANSITIONS[before], Conflict(
            _("Lot {lot} is {before}; it cannot become {after}."), code="lot_status_transition", field="status",
            lot=lot.number, before=before.label, after=LotStatus(status).label))
        changes = {"status": [lot.status, status]}
        if restriction != lot.restriction:
            changes["restriction"] = [lot.restriction, restriction if status == LotStatus.RESTRICTED else ""]
        lot.status = status
        lot.restriction = restriction if status == LotStatus.RESTRICTED else ""
        lot.status_changed_at = clock.now()
        lot.save(update_fields=["status", "restriction", "status_changed_at"])
        cancelled = 0 if status == LotStatus.RELEASED else _cancel_open_picks(lot, actor)
        signed = sign(actor=actor, request=signature, record=lot)
        record_change(actor, lot, action="change_status", changes=changes, reason=reason, signature=signed,
                      event=STATUS_CHANGED, payload={
                          "lot": lot.number, "material": lot.material.code, "status": lot.status,
                          "previous_status": before.value, "restriction": lot.restriction, "reason": reason,
                          "reference": reference, "signed_by": actor.username,
                          "cancelled_pick_tasks": cancelled})
        return lot


def _cancel_open_picks(lot: Lot, actor: Any) -> int:
    """A lot that stops being usable leaves every allocation at once (WMS-03, WMS-04)."""
    open_tasks = PickTask.objects.filter(lot=lot, status=TaskStatus.OPEN)
    requests = lock_requests(open_tasks.values_list("request_id", flat=True))  # requests before tasks (locks.py)
    tasks = list(open_tasks.select_for_update().order_by("pk"))
    if not tasks:
        return 0
    rows = {(b.container_id, b.location_id): b for b in lock_balances(
        StockBalance.objects.filter(lot=lot).values_list("pk", flat=True))}
    now = clock.now()
    for task in tasks:
        row = rows[(task.container_id, task.from_location_id)]
        row.reserved -= task.quantity
        row.updated_at = now
        task.status = TaskStatus.CANCELLED
        task.done_at = now
    StockBalance.objects.bulk_update(rows.values(), ["reserved", "updated_at"])
    PickTask.objects.bulk_update(tasks, ["status", "done_at"])
    for request in requests:  # allocated quantity and status follow; the ordering system is told
        refresh_request_status(request, actor=actor, reason=f"Lot {lot.number} became {lot.status}.")
    return len(tasks)
