"""Reading purchase orders (expected receipts)."""

from __future__ import annotations

from django.db.models import QuerySet

from batchline.inventory.models import PurchaseOrder


def purchase_orders(*, source_system: str = "", status: str = "", supplier: str = "") -> QuerySet[PurchaseOrder]:
    qs = PurchaseOrder.objects.select_related("supplier").prefetch_related("lines__material", "lines__unit")
    if source_system:
        qs = qs.filter(source_system=source_system.upper())
    if status:
        qs = qs.filter(status=status)
    if supplier:
        qs = qs.filter(supplier__code=supplier)
    return qs


def purchase_order(source_system: str, po_number: str) -> PurchaseOrder | None:
    return purchase_orders(source_system=source_system).filter(po_number=po_number).first()
