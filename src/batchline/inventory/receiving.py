"""Goods receipt against a purchase order line (WMS-01): a new lot in quarantine, its containers,
and one receipt movement per container into a receiving (or quarantine) location.

The clerk types or scans what is on the supplier's label: supplier lot, manufacture / expiry /
retest dates, the number of containers and the quantity per container (the last one may differ).
Missing dates are derived from the material master (expiry = manufacture + shelf life; retest =
manufacture + retest interval). Material that requires incoming inspection raises the need for it
(the domain event INSPECTION_NEEDED, which quality subscribes to, and an outbox event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change
from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.core.events import DomainEvent, publish
from batchline.core.quantity import Quantity, to_decimal
from batchline.identity.authz import authorize
from batchline.inventory import ledger
from batchline.inventory.choices import LotStatus, MovementType
from batchline.inventory.errors import LocationNotUsable, MaterialNotApproved, PurchaseOrderClosed, SupplierNotUsable
from batchline.inventory.models import (
    Container,
    Lot,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockBalance,
)
from batchline.inventory.movements import DECIMAL_PLACES, MAX_QUANTITY
from batchline.inventory.retry import retrying
from batchline.inventory.usability import today
from batchline.masterdata import numbering, units
from batchline.masterdata.choices import LocationType, RecordStatus, SupplierQualification
from batchline.masterdata.models import Location

RECEIVED = "inventory.lot.received"
INSPECTION_NEEDED = "inventory.lot.inspection_needed"  # domain event and outbox event (quality consumes it)
LOT_NUMBER_RULE = "lot"
RECEIVING_LOCATION_TYPES = (LocationType.RECEIVING, LocationType.QUARANTINE)
MAX_CONTAINERS = 999


@dataclass(frozen=True)
class Receipt:
    """What the clerk enters for one delivery of one PO line. Quantities as decimal strings or Decimals."""

    purchase_order_line_id: int
    location: str  # code of the receiving or quarantine location
    containers: int
    quantity_per_container: Any
    unit: str  # unit code of the quantities
    supplier_lot: str
    manufactured_on: date | None = None
    expires_on: date | None = None
    retest_on: date | None = None
    last_container_quantity: Any = None  # when the last container holds a different quantity
    note: str = field(default="")


def over_receipt_tolerance() -> Decimal:
    """How far above the ordered quantity a PO line may be received (settings, percent; default 10)."""
    return Decimal(str(getattr(settings, "BATCHLINE_OVER_RECEIPT_PERCENT", 10))) / 100


@retrying
def receive_goods(*, actor: Any, receipt: Receipt) -> Lot:
    """Receive one delivery of one PO line: a lot in quarantine with `containers` containers."""
    authorize(actor, "inventory.receive")
    with transaction.atomic():
        line = (PurchaseOrderLine.objects.select_for_update()
                .select_related("purchase_order__supplier", "material__base_unit", "unit")
                .filter(pk=receipt.purchase_order_line_id).first())
        ensure(line is not None, NotFound(_("There is no such purchase order line."), field="purchase_order_line"))
        assert line is not None
        order, material = line.purchase_order, line.material
        ensure(order.status == PurchaseOrderStatus.OPEN,
               PurchaseOrderClosed(po_number=order.po_number, status=PurchaseOrderStatus(order.status).label))
        ensure(material.status == RecordStatus.APPROVED, MaterialNotApproved(material=material.code, field="material"))
        ensure(order.supplier.qualification != SupplierQualification.BLOCKED,
               SupplierNotUsable(supplier=order.supplier.code, state=SupplierQualification.BLOCKED.label,
                                 field="supplier"))
        location = _receiving_location(receipt.location)
        quantities = _container_quantities(receipt, material)
        total = sum(quantities, Decimal(0))
        _check_against_order(line, total, material)
        dates = _dates(receipt, material)
        now = clock.now()
        lot = Lot.objects.create(
            number=numbering.next_number(LOT_NUMBER_RULE), material=material, status=LotStatus.QUARANTINE,
            supplier=order.supplier, supplier_lot=_supplier_lot(receipt.supplier_lot), purchase_order_line=line,
            inspection_required=material.incoming_inspection_required, received_at=now, received_by=actor, **dates)
        containers = Container.objects.bulk_create([
            Container(lot=lot, serial=serial, code=container_code(lot, serial), created_at=now)
            for serial in range(1, len(quantities) + 1)])
        for container in containers:
            container.lot = lot
        ledger.post(actor, [
            ledger.Posting(MovementType.RECEIPT, container, quantity, to_location=location,
                           reference=f"{order.po_number}/{line.line_no}")
            for container, quantity in zip(containers, quantities, strict=True)])
        received = units.convert(Quantity(total, material.base_unit.code), line.unit.code, material=material)
        line.received_quantity += received.amount
        line.save(update_fields=["received_quantity"])
        summary = lot_summary(lot, containers=len(containers), total=total)
        record_change(actor, lot, action="receive", changes={k: [None, v] for k, v in summary.items()},
                      reason=receipt.note.strip(), event=RECEIVED, payload=summary)
        if lot.inspection_required:
            need = {**summary, "purchase_order": order.po_number, "supplier": order.supplier.code}
            publish(DomainEvent(INSPECTION_NEEDED, {"lot_id": lot.pk, "actor": actor, **need}))
            record_change(actor, lot, action="request_inspection", event=INSPECTION_NEEDED, payload=need)
        return lot


def container_code(lot: Lot, serial: int) -> str:
    """What the label prints and a scan resolves: the lot number and the container number."""
    return f"{lot.number}-{serial:03d}"


def lot_summary(lot: Lot, *, containers: int, total: Decimal) -> dict[str, Any]:
    return {
        "lot": lot.number, "material": lot.material.code, "status": lot.status,
        "supplier": lot.supplier.code if lot.supplier else None, "supplier_lot": lot.supplier_lot,
        "manufactured_on": _iso(lot.manufactured_on), "expires_on": _iso(lot.expires_on),
        "retest_on": _iso(lot.retest_on), "containers": containers,
        "quantity": format(total.normalize(), "f"), "unit": lot.material.base_unit.code,
        "inspection_required": lot.inspection_required,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _receiving_location(code: str) -> Location:
    location = Location.objects.filter(code=(code or "").strip()).first()
    ensure(location is not None and location.status == RecordStatus.APPROVED,
           NotFound(_("There is no approved location '{location}'."), field="location", location=code))
    assert location is not None
    ensure(location.location_type in RECEIVING_LOCATION_TYPES,
           LocationNotUsable(location=location.code, field="location",
                             reason=_("goods are received into a receiving or quarantine location only.")))
    return location


def _container_quantities(receipt: Receipt, material: Any) -> list[Decimal]:
    count = receipt.containers
    ensure(isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_CONTAINERS,
           InvalidInput(_("The number of containers must be a whole number from 1 to {max}."), field="containers",
                        max=MAX_CONTAINERS))
    each = _base_quantity(receipt.quantity_per_container, receipt.unit, material, "quantity_per_container")
    quantities = [each] * count
    if receipt.last_container_quantity not in (None, ""):
        quantities[-1] = _base_quantity(receipt.last_container_quantity, receipt.unit, material,
                                        "last_container_quantity")
    return quantities


def _base_quantity(value: Any, unit_code: str, material: Any, field: str) -> Decimal:
    amount = to_decimal(value, field=field)
    ensure(amount > 0, InvalidInput(_("The quantity must be greater than zero."), field=field, code="not_positive"))
    base = units.convert(Quantity(amount, unit_code), material.base_unit.code, material=material).amount
    # The ledger keeps 6 decimals below 10^12: refuse what it would otherwise round or overflow.
    ensure(base < MAX_QUANTITY, InvalidInput(_("The quantity is too large."), field=field, code="too_large"))
    ensure(base == base.quantize(Decimal(1).scaleb(-DECIMAL_PLACES)), InvalidInput(
        _("The quantity has more than {places} decimal places in {unit}."), field=field, code="too_precise",
        places=DECIMAL_PLACES, unit=material.base_unit.code))
    return base


def _check_against_order(line: PurchaseOrderLine, total: Decimal, material: Any) -> None:
    ordered = units.convert(Quantity(line.quantity, line.unit.code), material.base_unit.code, material=material).amount
    already = units.convert(Quantity(line.received_quantity, line.unit.code), material.base_unit.code,
                            material=material).amount
    limit = ordered * (1 + over_receipt_tolerance())
    ensure(already + total <= limit, Conflict(
        _("Receiving {quantity} {unit} would bring line {line} of PO {po} to {after} {unit}; "
          "{ordered} {unit} were ordered (tolerance {tolerance}%)."),
        code="over_receipt", field="quantity_per_container", quantity=format(total.normalize(), "f"),
        unit=material.base_unit.code, line=line.line_no, po=line.purchase_order.po_number,
        after=format((already + total).normalize(), "f"), ordered=format(ordered.normalize(), "f"),
        tolerance=format((over_receipt_tolerance() * 100).normalize(), "f")))


def _dates(receipt: Receipt, material: Any) -> dict[str, date | None]:
    made, expires, retest = receipt.manufactured_on, receipt.expires_on, receipt.retest_on
    day = today()
    ensure(made is None or made <= day, InvalidInput(_("The manufacture date {date} is in the future."),
                                                     field="manufactured_on", date=made))
    if expires is None and made is not None and material.shelf_life_days:
        expires = made + timedelta(days=material.shelf_life_days)
    if retest is None and made is not None and material.retest_interval_days:
        retest = made + timedelta(days=material.retest_interval_days)
    ensure(expires is not None or not material.shelf_life_days,
           InvalidInput(_("Material {material} has a shelf life: enter the expiry date or the manufacture date."),
                        field="expires_on", material=material.code))
    ensure(expires is None or made is None or expires > made,
           InvalidInput(_("The expiry date must be after the manufacture date."), field="expires_on"))
    ensure(expires is None or expires > day,
           InvalidInput(_("The material expired on {date}; expired material is not received."), field="expires_on",
                        date=expires))
    if retest is not None and expires is not None and retest > expires:
        retest = None  # a retest date after expiry means nothing: expiry decides
    return {"manufactured_on": made, "expires_on": expires, "retest_on": retest}


def _supplier_lot(value: str) -> str:
    text = (value or "").strip()
    ensure(text, InvalidInput(_("The supplier lot is required."), field="supplier_lot"))
    ensure(len(text) <= 60, InvalidInput(_("The supplier lot is longer than {max} characters."), field="supplier_lot",
                                         max=60))
    return text


# --- reading, for the receiving screens and the API ------------------------------------------------


@dataclass(frozen=True)
class ContainerStock:
    """A container with what it holds now and where (in the material's base unit)."""

    container: Container
    quantity: Decimal
    unit: str
    locations: tuple[str, ...]


def open_purchase_orders() -> QuerySet[PurchaseOrder]:
    """Open purchase orders, the oldest expected delivery first."""
    return (PurchaseOrder.objects.filter(status=PurchaseOrderStatus.OPEN).select_related("supplier")
            .prefetch_related("lines__material", "lines__unit")
            .annotate(first_expected=Min("lines__expected_date")).order_by("first_expected", "po_number"))


def open_quantity(line: PurchaseOrderLine) -> Decimal:
    """What is still to come on a line, in the line's unit (never below zero)."""
    return max(line.quantity - line.received_quantity, Decimal(0))


def receiving_locations() -> list[Location]:
    """Where goods may be received: approved receiving locations first, then quarantine locations."""
    found = Location.objects.filter(status=RecordStatus.APPROVED, location_type__in=RECEIVING_LOCATION_TYPES)
    return sorted(found, key=lambda loc: (loc.location_type != LocationType.RECEIVING, loc.code))


def container_stock(containers: list[Container]) -> list[ContainerStock]:
    rows: dict[int, list[tuple[str, Decimal]]] = {}
    for container_id, code, on_hand in (StockBalance.objects.filter(container__in=containers, on_hand__gt=0)
                                        .order_by("location__code")
                                        .values_list("container_id", "location__code", "on_hand")):
        rows.setdefault(container_id, []).append((code, on_hand))
    return [ContainerStock(container=c, quantity=sum((q for _code, q in rows.get(c.pk, [])), Decimal(0)),
                           unit=c.lot.material.base_unit.code,
                           locations=tuple(code for code, _q in rows.get(c.pk, [])))
            for c in containers]


def container_by_code(code: str, *, field: str = "container") -> Container:
    container = (Container.objects.select_related("lot__material__base_unit", "lot__supplier")
                 .filter(code=(code or "").strip()).first())
    ensure(container is not None, NotFound(_("Unknown container {container}."), field=field, code="unknown_container",
                                           container=code))
    assert container is not None
    return container
