"""Cycle counts (WMS-07): open a count of one location, count it blind, approve the variances with a
second person's signature.

1. `open_count` snapshots the book: one line per container with stock at the location, with the book
   quantity as `expected`. One count per location at a time.
2. `enter_count` records what the counter found (blind: the counting screens never show `expected`).
   Every container of the snapshot must be given (0 when it is not there); containers found that were
   not on the book at this location are added with expected 0.
3. `approve_count` (permission inventory.approve_count, signature meaning "approve", never the counter:
   four eyes) posts a COUNT_GAIN or COUNT_LOSS movement for each variance, reason code
   count_difference, referenced by the count number. `reject_count` closes a count without postings.

Stock that moved while a count was open: approval compares the count with the snapshot, so any movement
into or out of the location after the count was opened (other than the count's own) makes the count
stale. Approval is then refused; the count is rejected and the location counted again. This is the
conservative reading: adjusting against a book that changed between the snapshot and the physical
count would post the same difference twice.

Count numbers come from the number rule "count" when one is configured (master data, number rules);
otherwise CC-<site date yyyymmdd>-<id>.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.compliance.signatures import SignatureRequest, ensure_four_eyes, sign
from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.core.quantity import to_decimal
from batchline.identity.authz import authorize
from batchline.inventory import ledger
from batchline.inventory.choices import CountStatus, MovementType, ReasonCode
from batchline.inventory.models import Container, CycleCount, CycleCountLine, Lot, Movement, StockBalance
from batchline.inventory.movements import DECIMAL_PLACES, MAX_QUANTITY, resolve_location
from batchline.inventory.retry import retrying
from batchline.masterdata import numbering
from batchline.masterdata.models import Location, NumberRule

COUNT_NUMBER_RULE = "count"
APPROVE_MEANING = "approve"  # registered for inventory.cyclecount in inventory/apps.py
COUNT_APPROVED = "inventory.count.approved"
OPEN_STATES = (CountStatus.OPEN, CountStatus.COUNTED)


def _count_number(count: CycleCount) -> str:
    if NumberRule.objects.filter(key=COUNT_NUMBER_RULE).exists():
        return numbering.next_number(COUNT_NUMBER_RULE)
    day = clock.to_site(count.created_at).date()
    return f"CC-{day:%Y%m%d}-{count.pk:04d}"


def _locked_count(count_id: int) -> CycleCount:
    count = (CycleCount.objects.select_for_update(of=("self",)).select_related("location", "counted_by")
             .filter(pk=count_id).first())
    ensure(count is not None, NotFound(_("There is no such cycle count."), field="count"))
    assert count is not None
    return count


def _ensure_status(count: CycleCount, *allowed: CountStatus) -> None:
    ensure(count.status in allowed, Conflict(
        _("Count {count} is {status}; this is not possible now."), code="count_status", field="count",
        count=count.number, status=CountStatus(count.status).label))


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


# --- open --------------------------------------------------------------------------------------------------

@retrying
@transaction.atomic
def open_count(*, actor: Any, location: Location | str) -> CycleCount:
    """Open a count of `location`: the book quantity of every container there, as of now."""
    authorize(actor, "inventory.count")
    found = resolve_location(location)
    # One count per location at a time: the location row serialises concurrent openings.
    Location.objects.select_for_update().filter(pk=found.pk).first()
    running = CycleCount.objects.filter(location=found, status__in=OPEN_STATES).first()
    ensure(running is None, Conflict(_("Location {location} is already being counted ({count})."),
                                     code="count_in_progress", field="location", location=found.code,
                                     count=running.number if running else ""))
    now = clock.now()
    count = CycleCount.objects.create(number=f"CC-{uuid.uuid4().hex[:24]}", location=found, created_at=now,
                                      created_by=actor)
    count.number = _count_number(count)
    count.save(update_fields=["number"])
    rows = StockBalance.objects.filter(location=found, on_hand__gt=0).order_by("container_id")
    CycleCountLine.objects.bulk_create([
        CycleCountLine(count=count, container_id=row.container_id, expected=row.on_hand, unit_id=row.unit_id)
        for row in rows])
    record_change(actor, count, action="open", changes={
        "number": [None, count.number], "location": [None, found.code], "containers": [None, len(rows)]})
    return count


# --- enter (blind) ------------------------------------------------------------------------------------------

@retrying
@transaction.atomic
def enter_count(*, actor: Any, count_id: int, lines: dict[str, Any]) -> CycleCount:
    """Record the counted quantity of each container (by code, in the material's base unit)."""
    authorize(actor, "inventory.count")
    ensure(isinstance(lines, dict) and lines, InvalidInput(_("Enter the counted quantity of each container."),
                                                           field="lines"))
    counted = {str(code).strip(): _counted(value, f"lines.{str(code).strip()}") for code, value in lines.items()}
    count = _locked_count(count_id)
    _ensure_status(count, CountStatus.OPEN)
    existing = {line.container.code: line for line in count.lines.select_related("container")}
    missing = sorted(code for code in existing if code not in counted)
    if missing:
        raise InvalidInput(_("Enter a quantity for container {container} (0 if it is not there)."),
                           field=f"lines.{missing[0]}", code="count_incomplete", container=missing[0])
    extra_codes = [code for code in counted if code not in existing]
    extras = {c.code: c for c in Container.objects.select_related("lot__material__base_unit")
              .filter(code__in=extra_codes)}
    unknown = [code for code in extra_codes if code not in extras]
    if unknown:
        raise NotFound(_("There is no container '{value}'."), field=f"lines.{unknown[0]}", value=unknown[0])
    for code, line in existing.items():
        line.counted = counted[code]
    CycleCountLine.objects.bulk_update(existing.values(), ["counted"])
    CycleCountLine.objects.bulk_create([
        CycleCountLine(count=count, container=extras[code], expected=Decimal(0), counted=counted[code],
                       unit=extras[code].lot.material.base_unit)
        for code in extra_codes if counted[code] > 0])
    count.status = CountStatus.COUNTED
    count.counted_at = clock.now()
    count.counted_by = actor
    count.save(update_fields=["status", "counted_at", "counted_by"])
    record_change(actor, count, action="enter", changes={
        "status": [CountStatus.OPEN.value, count.status],
        "counted": [None, {code: _plain(value) for code, value in sorted(counted.items())}]})
    return count


def _counted(value: Any, field: str) -> Decimal:
    amount = to_decimal(value, field=field)
    ensure(amount >= 0, InvalidInput(_("A counted quantity cannot be negative."), field=field, code="negative"))
    ensure(amount < MAX_QUANTITY and amount == amount.quantize(Decimal(1).scaleb(-DECIMAL_PLACES)), InvalidInput(
        _("The quantity has more than {places} decimal places in {unit}."), field=field, code="too_precise",
        places=DECIMAL_PLACES, unit=_("the base unit")))
    return amount


# --- approve / reject --------------------------------------------------------------------------------------

def variances(count: CycleCount) -> list[tuple[CycleCountLine, Decimal]]:
    """(line, counted − expected) of every counted line that differs from the book."""
    lines = count.lines.select_related("container__lot__material__base_unit", "unit").order_by("id")
    return [(line, line.counted - line.expected) for line in lines
            if line.counted is not None and line.counted != line.expected]


def moved_since_opened(count: CycleCount) -> int:
    """Movements into or out of the counted location after the count was opened (not the count's own)."""
    return (Movement.objects.filter(Q(from_location=count.location) | Q(to_location=count.location),
                                    occurred_at__gte=count.created_at)
            .exclude(reference=count.number).count())


@retrying
@transaction.atomic
def approve_count(*, actor: Any, count_id: int, signature: SignatureRequest, reason: str = "") -> CycleCount:
    """Approve a counted count (signed; not by its counter) and post its variances to the ledger."""
    authorize(actor, "inventory.approve_count")
    count = _locked_count(count_id)
    _ensure_status(count, CountStatus.COUNTED)
    ensure_four_eyes(count.counted_by_id, actor, rule=str(_("Counter and approver")))
    moved = moved_since_opened(count)
    ensure(moved == 0, Conflict(
        _("Stock at {location} moved {n} time(s) since count {count} was opened: the count no longer matches "
          "the book. Reject it and count again."), code="count_stale", field="count", location=count.location.code,
        n=moved, count=count.number))
    found = variances(count)
    reason = (reason or "").strip()
    if found:
        reason = require_reason(reason)
    postings = []
    for line, difference in found:
        container = line.container
        gain = difference > 0
        postings.append(ledger.Posting(
            MovementType.COUNT_GAIN if gain else MovementType.COUNT_LOSS, container, abs(difference),
            from_location=None if gain else count.location, to_location=count.location if gain else None,
            reason_code=ReasonCode.COUNT_DIFFERENCE, reason=reason, reference=count.number))
    if postings:
        ledger.post(actor, postings)
    count.status = CountStatus.APPROVED
    count.decided_at = clock.now()
    count.decided_by = actor
    count.save(update_fields=["status", "decided_at", "decided_by"])
    signed = sign(actor=actor, request=signature, record=count)
    summary = [{"container": line.container.code, "lot": line.container.lot.number,
                "material": line.container.lot.material.code, "expected": _plain(line.expected),
                "counted": _plain(line.counted or Decimal(0)), "difference": _plain(difference),
                "unit": line.container.lot.material.base_unit.code} for line, difference in found]
    record_change(actor, count, action="approve", reason=reason, signature=signed,
                  changes={"status": [CountStatus.COUNTED.value, count.status], "variances": [None, summary]},
                  event=COUNT_APPROVED, payload={
                      "count": count.number, "location": count.location.code,
                      "counted_by": count.counted_by.username if count.counted_by else "",
                      "approved_by": actor.username, "reason": reason, "variances": summary})
    for lot_id in sorted({line.container.lot_id for line, _difference in found}):
        lot = Lot.objects.get(pk=lot_id)
        record_change(actor, lot, action="count_adjustment", reason=reason, changes={
            "count": [None, count.number],
            "variances": [None, [row for row in summary if row["lot"] == lot.number]]})
    return count


@retrying
@transaction.atomic
def reject_count(*, actor: Any, count_id: int, reason: str) -> CycleCount:
    """Close a count without posting anything (a recount follows), with the reason."""
    authorize(actor, "inventory.approve_count")
    reason = require_reason(reason)
    count = _locked_count(count_id)
    _ensure_status(count, *OPEN_STATES)
    before = count.status
    count.status = CountStatus.REJECTED
    count.decided_at = clock.now()
    count.decided_by = actor
    count.save(update_fields=["status", "decided_at", "decided_by"])
    record_change(actor, count, action="reject", reason=reason, changes={"status": [before, count.status]})
    return count
