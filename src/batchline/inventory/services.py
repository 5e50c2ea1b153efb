"""Purchase orders from the ERP (expected receipts): one write path, audited, with an outbox event.

Codes arrive as the sender's codes and are translated through the code maps (MD-03): an unmapped
code or an unknown unit is refused with the field at fault, and the inbound layer parks the message
for a data steward. Quantities are decimals, never floats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change
from batchline.core import clock
from batchline.core.errors import InvalidInput, ensure
from batchline.core.quantity import to_decimal
from batchline.identity.authz import authorize
from batchline.inventory.errors import (
    MaterialNotApproved,
    PurchaseOrderClosed,
    PurchaseOrderReceived,
    SupplierNotUsable,
)
from batchline.inventory.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from batchline.masterdata import units
from batchline.masterdata.choices import CodeMapKind, RecordStatus, SupplierQualification
from batchline.masterdata.codemaps import translate
from batchline.masterdata.models import Material, Supplier

REGISTERED = "inventory.purchase_order.registered"


def register_purchase_order(*, actor: Any, source_system: str, data: dict[str, Any]) -> tuple[str, PurchaseOrder]:
    """Create the PO, or replace the lines of an open one; → (outcome, purchase order) where outcome is
    created, updated or unchanged. `data`: po_number, supplier, lines [{line_no, material, quantity,
    unit, expected_date}] with the sender's codes."""
    authorize(actor, "inventory.register_purchase_order")
    source_system = source_system.strip().upper()
    po_number = str(data.get("po_number") or "").strip()
    ensure(po_number, InvalidInput(_("The PO number is required."), field="po_number"))
    supplier = _supplier(source_system, data.get("supplier"))
    lines = [_line(source_system, index, line) for index, line in enumerate(data.get("lines") or [])]
    ensure(lines, InvalidInput(_("A purchase order needs at least one line."), field="lines"))
    numbers = [line["line_no"] for line in lines]
    ensure(len(set(numbers)) == len(numbers), InvalidInput(_("Line numbers must be unique."), field="lines"))
    with transaction.atomic():
        order = (PurchaseOrder.objects.select_for_update()
                 .filter(source_system=source_system, po_number=po_number).first())
        if order is None:
            now = clock.now()
            order = PurchaseOrder.objects.create(po_number=po_number, source_system=source_system,
                                                 supplier=supplier, received_at=now, created_at=now)
            _create_lines(order, lines)
            after = _snapshot(order)
            record_change(actor, order, action="create", changes={k: [None, v] for k, v in after.items()},
                          event=REGISTERED, payload={"outcome": "created", **after})
            return "created", order
        ensure(order.status == PurchaseOrderStatus.OPEN,
               PurchaseOrderClosed(po_number=po_number, status=PurchaseOrderStatus(order.status).label))
        before = _snapshot(order)
        order.supplier = supplier
        proposed = {**before, "supplier": supplier.code, "lines": [_plain(line) for line in lines]}
        if proposed == before:
            return "unchanged", order
        ensure(not order.lines.filter(received_quantity__gt=0).exists(), PurchaseOrderReceived(po_number=po_number))
        order.lines.all().delete()
        _create_lines(order, lines)
        order.received_at = clock.now()
        order.save(update_fields=["supplier", "received_at"])
        after = _snapshot(order)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        record_change(actor, order, action="update", changes=changes, event=REGISTERED,
                      payload={"outcome": "updated", **after})
        return "updated", order


def _supplier(source_system: str, code: Any) -> Supplier:
    ensure(isinstance(code, str) and code.strip(), InvalidInput(_("The supplier is required."), field="supplier"))
    internal = translate(source_system, CodeMapKind.SUPPLIER, code.strip(), field="supplier")
    supplier = Supplier.objects.filter(code=internal).first()
    ensure(supplier is not None and supplier.status == RecordStatus.APPROVED,
           SupplierNotUsable(field="supplier", supplier=internal, state=_("not approved")))
    assert supplier is not None
    ensure(supplier.qualification != SupplierQualification.BLOCKED,
           SupplierNotUsable(field="supplier", supplier=internal, state=SupplierQualification.BLOCKED.label))
    return supplier


def _line(source_system: str, index: int, line: Any) -> dict[str, Any]:
    prefix = f"lines.{index}"
    ensure(isinstance(line, dict), InvalidInput(_("Expected a JSON object."), field=prefix))
    line_no = line.get("line_no")
    ensure(isinstance(line_no, int) and not isinstance(line_no, bool) and line_no > 0,
           InvalidInput(_("Expected a whole number of at least 1."), field=f"{prefix}.line_no"))
    material_code = translate(source_system, CodeMapKind.MATERIAL, str(line.get("material") or ""),
                              field=f"{prefix}.material")
    material = Material.objects.filter(code=material_code, status=RecordStatus.APPROVED).first()
    ensure(material is not None, MaterialNotApproved(field=f"{prefix}.material", material=material_code))
    quantity = to_decimal(line.get("quantity"), field=f"{prefix}.quantity")
    ensure(quantity > 0, InvalidInput(_("The quantity must be greater than zero."), field=f"{prefix}.quantity",
                                      code="not_positive"))
    unit_code = translate(source_system, CodeMapKind.UNIT, str(line.get("unit") or ""), field=f"{prefix}.unit")
    unit = units.unit(unit_code, field=f"{prefix}.unit")
    expected = line.get("expected_date")
    if isinstance(expected, str):
        try:
            expected = date.fromisoformat(expected)
        except ValueError:
            expected = None
    ensure(isinstance(expected, date), InvalidInput(_("Expected a date, e.g. 2026-01-31."),
                                                    field=f"{prefix}.expected_date"))
    return {"line_no": line_no, "material": material, "quantity": quantity, "unit": unit, "expected_date": expected}


def _create_lines(order: PurchaseOrder, lines: list[dict[str, Any]]) -> None:
    PurchaseOrderLine.objects.bulk_create([PurchaseOrderLine(purchase_order=order, **line) for line in lines])


def _plain(line: dict[str, Any]) -> dict[str, Any]:
    return {"line_no": line["line_no"], "material": line["material"].code, "quantity": _decimal(line["quantity"]),
            "unit": line["unit"].code, "expected_date": line["expected_date"].isoformat()}


def _decimal(value: Decimal) -> str:
    # 12.500000 and 12.5 are the same quantity: compare and record them in one form.
    return format(value.normalize(), "f")


def _snapshot(order: PurchaseOrder) -> dict[str, Any]:
    lines = order.lines.select_related("material", "unit").order_by("line_no")
    return {"po_number": order.po_number, "source_system": order.source_system, "supplier": order.supplier.code,
            "status": order.status, "lines": [_plain(_line_values(line)) for line in lines]}


def _line_values(line: PurchaseOrderLine) -> dict[str, Any]:
    return {"line_no": line.line_no, "material": line.material, "quantity": line.quantity, "unit": line.unit,
            "expected_date": line.expected_date}
