"""Stock movements other than receipt, putaway and picking (WMS-07): transfers, returns to stock,
scrap and sample withdrawal. Each is one business action: one transaction that posts its movements
through `ledger.post` (which refuses to take reserved stock and emits the outbox events the ERP
reads) and writes one audit entry on the lot.

Where stock may go (`check_destination`):
- storage, quarantine and rejected-goods locations: putaway's rules (inventory.putaway.refusal, WMS-02):
  the material's storage condition; a lot in quarantine to a quarantine location while quarantine is
  physical (setting BATCHLINE_PHYSICAL_QUARANTINE, default on), a rejected lot to rejected goods only,
  released and restricted lots to storage;
- dispensary, line-side, staging and shipping locations: the material's storage condition, and only
  usable stock (WMS-04: released, unexpired, not due for retest), because material goes there to be used;
- receiving locations take goods from suppliers only.

Reason codes: a return names why the material came back (surplus, order cancelled, damaged,
contaminated, other); scrap names why it is destroyed (damaged, expired, contaminated, rejected by
QC, other) and always needs a reason text; a sample is a QC sample (with the inspection number) or
a retention sample. A difference found when a returned container is re-weighed is posted as a
count gain or loss with the reason code `count_difference` and the reason text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.core.quantity import Quantity, to_decimal
from batchline.identity.authz import authorize
from batchline.inventory import ledger, putaway
from batchline.inventory.choices import LotStatus, MovementType, ReasonCode
from batchline.inventory.errors import LocationNotUsable
from batchline.inventory.models import Container, Lot, Movement, StockBalance
from batchline.inventory.retry import retrying
from batchline.inventory.usability import ensure_usable, today
from batchline.masterdata import units
from batchline.masterdata.choices import LocationType, RecordStatus, StorageCondition
from batchline.masterdata.models import Location

# Locations where material is used: only usable stock goes there (WMS-04).
USE_LOCATIONS = (LocationType.DISPENSARY, LocationType.LINE_SIDE, LocationType.STAGING, LocationType.SHIPPING)
# Where returned material comes back from (exchange 5, INTERFACES.md).
PRODUCTION_LOCATIONS = (LocationType.DISPENSARY, LocationType.LINE_SIDE, LocationType.STAGING)

RETURN_REASONS = (ReasonCode.SURPLUS, ReasonCode.ORDER_CANCELLED, ReasonCode.DAMAGED, ReasonCode.CONTAMINATED,
                  ReasonCode.OTHER)
# Damaged or contaminated material does not go back into usable storage.
SEGREGATED_RETURN_REASONS = (ReasonCode.DAMAGED, ReasonCode.CONTAMINATED)
SCRAP_REASONS = (ReasonCode.DAMAGED, ReasonCode.EXPIRED, ReasonCode.CONTAMINATED, ReasonCode.REJECTED_BY_QC,
                 ReasonCode.OTHER)
SAMPLE_REASONS = (ReasonCode.QC_SAMPLE, ReasonCode.RETENTION_SAMPLE)

DECIMAL_PLACES = 6  # what the ledger stores (base unit): 18 digits, 6 of them decimals
MAX_QUANTITY = Decimal(10) ** 12


@dataclass(frozen=True)
class Moved:
    """What a movement action did: the movements posted (gain/loss first, then the move itself)."""

    lot: Lot
    container: Container
    movements: list[Movement]


# --- resolving input --------------------------------------------------------------------------------

def resolve_container(value: Container | str, *, field: str = "container") -> Container:
    """A container by its label code (or the container itself), with lot, material and unit loaded."""
    code = value.code if isinstance(value, Container) else str(value or "").strip()
    container = (Container.objects.select_related("lot__material__base_unit").filter(code=code).first()
                 if code else None)
    ensure(container is not None, NotFound(_("There is no container '{value}'."), field=field, value=code))
    assert container is not None
    return container


def resolve_location(value: Location | str, *, field: str = "location") -> Location:
    """An approved location by code (or the location itself)."""
    code = value.code if isinstance(value, Location) else str(value or "").strip()
    location = Location.objects.select_related("warehouse").filter(code=code).first() if code else None
    ensure(location is not None and location.status == RecordStatus.APPROVED,
           NotFound(_("There is no approved location '{value}'."), field=field, value=code))
    assert location is not None
    return location


def base_quantity(value: Any, unit: str | None, container: Container, *, field: str = "quantity") -> Decimal:
    """A positive quantity in the material's base unit (converted from `unit` through the unit master)."""
    material = container.lot.material
    amount = to_decimal(value, field=field)
    ensure(amount > 0, InvalidInput(_("The quantity must be greater than zero."), field=field, code="not_positive"))
    if unit and unit != material.base_unit.code:
        amount = units.convert(Quantity(amount, unit), material.base_unit.code, material=material).amount
    ensure(amount < MAX_QUANTITY, InvalidInput(_("The quantity is too large."), field=field, code="too_large"))
    ensure(amount == amount.quantize(Decimal(1).scaleb(-DECIMAL_PLACES)), InvalidInput(
        _("The quantity has more than {places} decimal places in {unit}."), field=field, code="too_precise",
        places=DECIMAL_PLACES, unit=material.base_unit.code))
    return amount


def _reason_code(value: str, allowed: tuple[ReasonCode, ...], *, field: str = "reason_code") -> ReasonCode:
    ensure(value in [code.value for code in allowed], InvalidInput(
        _("The reason code must be one of: {allowed}."), field=field, code="bad_reason_code",
        allowed=", ".join(f"{code.value} ({code.label})" for code in allowed)))
    return ReasonCode(value)


def _stock_at(container: Container, location: Location | None, *, field: str = "from_location") -> StockBalance:
    """The container's balance row to take from: at `location`, or its only location with stock."""
    rows = list(StockBalance.objects.select_related("location").filter(container=container, on_hand__gt=0)
                .order_by("pk"))
    if location is not None:
        row = next((r for r in rows if r.location_id == location.pk), None)
        ensure(row is not None, Conflict(_("Container {container} has no stock at location {location}."),
                                         code="not_at_location", field=field, container=container.code,
                                         location=location.code))
        assert row is not None
        return row
    ensure(rows, Conflict(_("Container {container} has no stock."), code="no_stock", field="container",
                          container=container.code))
    ensure(len(rows) == 1, InvalidInput(
        _("Container {container} has stock at several locations ({locations}): say which one."), field=field,
        code="location_ambiguous", container=container.code, locations=", ".join(r.location.code for r in rows)))
    return rows[0]


def _text(value: str, limit: int, field: str) -> str:
    text = (value or "").strip()
    ensure(len(text) <= limit, InvalidInput(_("At most {n} characters."), field=field, code="too_long", n=limit))
    return text


# --- where stock may go ------------------------------------------------------------------------------

def check_destination(container: Container, location: Location, *, field: str = "to_location",
                      set_apart: bool = False) -> None:
    """Refuse (LocationNotUsable / LotNotUsable) a location this container must not be moved to.
    `set_apart`: a damaged or contaminated container goes to quarantine or rejected goods, whatever
    its lot's status, until QA decides about it."""
    lot = container.lot
    material = lot.material
    if set_apart:
        ensure(location.location_type in (LocationType.QUARANTINE, LocationType.REJECTED), LocationNotUsable(
            location=location.code, field=field,
            reason=_("damaged or contaminated material is returned into a quarantine or rejected-goods location.")))
    elif location.location_type in putaway.PUTAWAY_TYPES:
        reason = putaway.refusal(container, location)  # storage, quarantine, rejected goods: putaway's rules
        ensure(reason is None, LocationNotUsable(location=location.code, field=field, reason=reason))
        return
    ensure(location.location_type != LocationType.RECEIVING, LocationNotUsable(
        location=location.code, field=field, reason=_("goods arrive there from suppliers; stock is not moved back.")))
    ensure(location.storage_condition == material.storage_condition, LocationNotUsable(
        location=location.code, field=field, reason=_("it is {location_condition}; material {material} needs "
                                                      "{material_condition}.").format(
            location_condition=StorageCondition(location.storage_condition).label, material=material.code,
            material_condition=StorageCondition(material.storage_condition).label)))
    if location.location_type in USE_LOCATIONS:
        ensure_usable(lot)


# --- transfer ---------------------------------------------------------------------------------------------

@retrying
@transaction.atomic
def transfer(*, actor: Any, container: Container | str, to_location: Location | str, quantity: Any = None,
             unit: str | None = None, from_location: Location | str | None = None, reference: str = "") -> Moved:
    """Move a container (all of its stock at its location, or `quantity` of it) to another location:
    storage, dispensary, line-side, staging, quarantine, rejected goods."""
    authorize(actor, "inventory.move")
    found = resolve_container(container)
    target = resolve_location(to_location, field="to_location")
    source = resolve_location(from_location, field="from_location") if from_location else None
    reference = _text(reference, 60, "reference")
    row = _stock_at(found, source)
    ensure(row.location_id != target.pk, InvalidInput(
        _("Container {container} is already at {location}."), field="to_location", code="same_location",
        container=found.code, location=target.code))
    amount = row.on_hand if quantity in (None, "") else base_quantity(quantity, unit, found)
    lot = found.lot
    check_destination(found, target)
    movements = ledger.post(actor, [ledger.Posting(MovementType.TRANSFER, found, amount, from_location=row.location,
                                                   to_location=target, reference=reference)])
    record_change(actor, lot, action="transfer", changes={
        "container": [None, found.code], "location": [row.location.code, target.code],
        "quantity": [None, _plain(amount)]})
    return Moved(lot, found, movements)


# --- return to stock (exchange 5) -------------------------------------------------------------------

@retrying
@transaction.atomic
def return_to_stock(*, actor: Any, container: Container | str, to_location: Location | str, reweighed_quantity: Any,
                    reason_code: str, reason: str = "", order_ref: str = "", unit: str | None = None,
                    from_location: Location | str | None = None) -> Moved:
    """Material coming back from the line (INTERFACES.md exchange 5), re-weighed.

    A container still on the book at a dispensary, line-side or staging location comes back whole: a
    difference between its book quantity there and the re-weighed quantity is posted first as a count
    gain or loss (reason code count_difference, with the reason), then the re-weighed quantity is
    returned. A container that was issued to production comes back with the re-weighed quantity (at
    most what was issued and not yet returned); the original order is then required."""
    authorize(actor, "inventory.adjust")
    found = resolve_container(container)
    target = resolve_location(to_location, field="to_location")
    source = resolve_location(from_location, field="from_location") if from_location else None
    code = _reason_code(reason_code, RETURN_REASONS)
    order_ref = _text(order_ref, 60, "order_ref")
    reason = _text(reason, 2000, "reason")
    weighed = base_quantity(reweighed_quantity, unit, found, field="reweighed_quantity")
    lot = found.lot
    if code == ReasonCode.OTHER:
        reason = require_reason(reason)
    check_destination(found, target, set_apart=code in SEGREGATED_RETURN_REASONS)
    rows = [r for r in StockBalance.objects.select_related("location").filter(container=found, on_hand__gt=0)
            .order_by("pk") if source is None or r.location_id == source.pk]
    postings: list[ledger.Posting] = []
    if rows:
        at_production = [r for r in rows if r.location.location_type in PRODUCTION_LOCATIONS]
        ensure(at_production, Conflict(
            _("Container {container} is in stock at {location}; only material coming back from the dispensary "
              "or the line is returned. Move it with a transfer."), code="not_at_production", field="container",
            container=found.code, location=rows[0].location.code))
        ensure(len(at_production) == 1, InvalidInput(
            _("Container {container} has stock at several locations ({locations}): say which one."),
            field="from_location", code="location_ambiguous", container=found.code,
            locations=", ".join(r.location.code for r in at_production)))
        row = at_production[0]
        book = row.on_hand
        if weighed != book:
            reason = require_reason(reason)
            difference = weighed - book
            postings.append(ledger.Posting(
                MovementType.COUNT_GAIN if difference > 0 else MovementType.COUNT_LOSS, found, abs(difference),
                from_location=None if difference > 0 else row.location,
                to_location=row.location if difference > 0 else None,
                reason_code=ReasonCode.COUNT_DIFFERENCE, reason=reason, reference=order_ref))
        postings.append(ledger.Posting(MovementType.RETURN, found, weighed, from_location=row.location,
                                       to_location=target, reason_code=code, reason=reason, reference=order_ref))
        changes: dict[str, list[Any]] = {"container": [None, found.code], "location": [row.location.code, target.code],
                                         "quantity": [_plain(book), _plain(weighed)]}
    else:
        ensure(source is None, Conflict(_("Container {container} has no stock at location {location}."),
                                        code="not_at_location", field="from_location", container=found.code,
                                        location=source.code if source else ""))
        ensure(order_ref, InvalidInput(_("Material issued to production is returned against its order: enter the "
                                         "order."), field="order_ref"))
        outstanding = issued_not_returned(found)
        ensure(outstanding > 0, Conflict(
            _("Container {container} has no stock at a production location and nothing issued to return."),
            code="nothing_to_return", field="container", container=found.code))
        ensure(weighed <= outstanding, Conflict(
            _("Only {outstanding} {unit} of container {container} were issued and not yet returned."),
            code="return_above_issue", field="reweighed_quantity", container=found.code,
            outstanding=_plain(outstanding), unit=lot.material.base_unit.code))
        postings.append(ledger.Posting(MovementType.RETURN, found, weighed, to_location=target, reason_code=code,
                                       reason=reason, reference=order_ref))
        changes = {"container": [None, found.code], "location": [None, target.code],
                   "quantity": [None, _plain(weighed)]}
    movements = ledger.post(actor, postings)
    changes["reason_code"] = [None, code.value]
    if order_ref:
        changes["order"] = [None, order_ref]
    record_change(actor, lot, action="return_to_stock", changes=changes, reason=reason)
    return Moved(lot, found, movements)


def issued_not_returned(container: Container) -> Decimal:
    """What was issued to production from the container and has not come back (returns without a source)."""
    moved = Movement.objects.filter(container=container)
    issued = moved.filter(movement_type=MovementType.ISSUE).aggregate(total=Sum("quantity"))["total"] or Decimal(0)
    returned = (moved.filter(movement_type=MovementType.RETURN, from_location__isnull=True)
                .aggregate(total=Sum("quantity"))["total"] or Decimal(0))
    return issued - returned


# --- scrap ------------------------------------------------------------------------------------------------

@retrying
@transaction.atomic
def scrap(*, actor: Any, container: Container | str, reason_code: str, reason: str, quantity: Any = None,
          unit: str | None = None, from_location: Location | str | None = None, reference: str = "") -> Moved:
    """Destroy stock: all of the container at its location, or `quantity` of it. Reason code and
    reason text are required; `expired` needs an expired lot and `rejected_by_qc` a rejected one."""
    authorize(actor, "inventory.adjust")
    found = resolve_container(container)
    source = resolve_location(from_location, field="from_location") if from_location else None
    code = _reason_code(reason_code, SCRAP_REASONS)
    reason = require_reason(_text(reason, 2000, "reason"))
    reference = _text(reference, 60, "reference")
    lot = found.lot
    if code == ReasonCode.EXPIRED:
        ensure(lot.expires_on is not None and today() >= lot.expires_on, Conflict(
            _("Lot {lot} has not expired; choose another reason code."), code="reason_code_mismatch",
            field="reason_code", lot=lot.number))
    if code == ReasonCode.REJECTED_BY_QC:
        ensure(lot.status == LotStatus.REJECTED, Conflict(
            _("Lot {lot} is not rejected; choose another reason code."), code="reason_code_mismatch",
            field="reason_code", lot=lot.number))
    row = _stock_at(found, source)
    amount = row.on_hand if quantity in (None, "") else base_quantity(quantity, unit, found)
    movements = ledger.post(actor, [ledger.Posting(MovementType.SCRAP, found, amount, from_location=row.location,
                                                   reason_code=code, reason=reason, reference=reference)])
    record_change(actor, lot, action="scrap", reason=reason, changes={
        "container": [None, found.code], "location": [row.location.code, None], "quantity": [None, _plain(amount)],
        "reason_code": [None, code.value]})
    return Moved(lot, found, movements)


# --- sample withdrawal (exchange 4) ------------------------------------------------------------------

@retrying
@transaction.atomic
def withdraw_sample(*, actor: Any, container: Container | str, quantity: Any, reason_code: str,
                    reference: str = "", unit: str | None = None, from_location: Location | str | None = None,
                    reason: str = "") -> Moved:
    """Take a QC sample (reference: the inspection number, required) or a retention sample from a
    container. Quality calls this; the sampled container is marked by the audit entry on the lot
    (`sampled_container`) and by the sample movement itself (selectors.sampled_container_ids)."""
    authorize(actor, "inventory.sample")
    found = resolve_container(container)
    source = resolve_location(from_location, field="from_location") if from_location else None
    code = _reason_code(reason_code, SAMPLE_REASONS)
    reference = _text(reference, 60, "reference")
    reason = _text(reason, 2000, "reason")
    ensure(reference or code != ReasonCode.QC_SAMPLE, InvalidInput(
        _("A QC sample needs the inspection number."), field="reference"))
    amount = base_quantity(quantity, unit, found)
    row = _stock_at(found, source)
    lot = found.lot
    movements = ledger.post(actor, [ledger.Posting(MovementType.SAMPLE, found, amount, from_location=row.location,
                                                   reason_code=code, reason=reason, reference=reference)])
    record_change(actor, lot, action="withdraw_sample", reason=reason, changes={
        "sampled_container": [None, found.code], "location": [row.location.code, None],
        "quantity": [None, _plain(amount)], "reason_code": [None, code.value], "reference": [None, reference]})
    return Moved(lot, found, movements)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
