"""inventory.services.register_purchase_order: expected receipts from the ERP."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError, PermissionDenied
from batchline.core.models import OutboxEvent
from batchline.inventory import selectors, services
from batchline.inventory.models import PurchaseOrder, PurchaseOrderLine
from batchline.masterdata import codemaps


def po(**changes: Any) -> dict[str, Any]:
    line = {"line_no": 1, "material": "RM-001", "quantity": "10", "unit": "kg", "expected_date": "2026-12-01"}
    line.update(changes.pop("line", {}))
    return {"po_number": "PO-1", "supplier": "SUP-01", "lines": [line], **changes}


@pytest.fixture
def warehouse(approved: Callable[..., Any], kg: Any, make_user: Callable[..., Any]) -> Any:
    approved("material", code="RM-001", name_zh="乳糖", name_en="Lactose", material_type="raw", base_unit="kg")
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    return make_user("warehouse")


@pytest.mark.req("INT-04", "AT-01")
def test_a_new_purchase_order_is_created_with_an_audit_entry_and_an_event(warehouse: Any) -> None:
    outcome, order = services.register_purchase_order(actor=warehouse, source_system="sap-prd", data=po())
    assert (outcome, order.source_system, order.status) == ("created", "SAP-PRD", "open")
    line = order.lines.get()
    assert (line.quantity, line.unit.code, line.received_quantity) == (Decimal("10"), "kg", Decimal("0"))
    assert AuditEntry.objects.filter(record_type="inventory.purchaseorder", action="create").count() == 1
    event = OutboxEvent.objects.get(event_type=services.REGISTERED)
    assert event.payload["po_number"] == "PO-1" and event.payload["lines"][0]["quantity"] == "10"


def test_codes_are_translated_through_the_code_maps(warehouse: Any, steward: Any) -> None:
    codemaps.save_mapping(actor=steward, system="SAP-PRD", kind="material", external_code="100234",
                          internal_code="RM-001")
    codemaps.save_mapping(actor=steward, system="SAP-PRD", kind="unit", external_code="KGM", internal_code="kg")
    _, order = services.register_purchase_order(actor=warehouse, source_system="SAP-PRD",
                                                data=po(line={"material": "100234", "unit": "KGM"}))
    line = order.lines.get()
    assert (line.material.code, line.unit.code) == ("RM-001", "kg")


def test_the_same_content_again_changes_nothing(warehouse: Any) -> None:
    services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po())
    outcome, _ = services.register_purchase_order(actor=warehouse, source_system="SAP-PRD",
                                                  data=po(line={"quantity": "10.000"}))
    assert outcome == "unchanged"
    assert AuditEntry.objects.filter(record_type="inventory.purchaseorder").count() == 1


def test_new_lines_replace_those_of_an_open_order_with_old_and_new_in_the_audit(warehouse: Any) -> None:
    services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po())
    outcome, order = services.register_purchase_order(actor=warehouse, source_system="SAP-PRD",
                                                      data=po(line={"line_no": 2, "quantity": "5"}))
    assert outcome == "updated"
    assert list(order.lines.values_list("line_no", "quantity")) == [(2, Decimal("5"))]
    entry = AuditEntry.objects.get(record_type="inventory.purchaseorder", action="update")
    assert '"line_no":1' in entry.changes and '"line_no":2' in entry.changes
    assert OutboxEvent.objects.filter(event_type=services.REGISTERED).count() == 2


def test_a_closed_order_cannot_be_changed(warehouse: Any) -> None:
    _, order = services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po())
    PurchaseOrder.objects.filter(pk=order.pk).update(status="closed")
    with pytest.raises(DomainError) as refused:
        services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po(line={"quantity": "5"}))
    assert (refused.value.code, refused.value.http_status) == ("purchase_order_closed", 409)


def test_an_order_with_receipts_keeps_its_lines(warehouse: Any) -> None:
    _, order = services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po())
    PurchaseOrderLine.objects.filter(purchase_order=order).update(received_quantity=Decimal("1"))
    with pytest.raises(DomainError) as refused:
        services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po(line={"quantity": "5"}))
    assert refused.value.code == "purchase_order_received"


@pytest.mark.parametrize(("data", "code", "field"), [
    (po(line={"quantity": 10.5}), "not_decimal", "lines.0.quantity"),
    (po(line={"unit": "LBX"}), "unknown_unit", "lines.0.unit"),
    (po(line={"material": "100234"}), "unmapped_code", "lines.0.material"),
    (po(lines=[]), "invalid_input", "lines"),
    ({**po(), "lines": po()["lines"] * 2}, "invalid_input", "lines"),
])
def test_bad_data_is_refused_with_the_field_and_writes_nothing(
        warehouse: Any, data: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=data)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert PurchaseOrder.objects.count() == 0


def test_a_draft_supplier_is_refused(warehouse: Any, steward: Any) -> None:
    from batchline.masterdata import services as masterdata
    from batchline.masterdata.registry import kind_of

    masterdata.create_item(actor=steward, kind=kind_of("supplier"),
                           data={"code": "SUP-02", "name_zh": "乙", "name_en": "B"})
    with pytest.raises(DomainError) as refused:
        services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po(supplier="SUP-02"))
    assert (refused.value.code, refused.value.field) == ("unmapped_code", "supplier")


def test_an_operator_cannot_register_a_purchase_order(warehouse: Any, make_user: Callable[..., Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.register_purchase_order(actor=make_user("operator"), source_system="SAP-PRD", data=po())


def test_orders_are_listed_by_source_system_and_status(warehouse: Any) -> None:
    services.register_purchase_order(actor=warehouse, source_system="SAP-PRD", data=po())
    assert [o.po_number for o in selectors.purchase_orders(source_system="sap-prd", status="open")] == ["PO-1"]
    assert selectors.purchase_orders(source_system="ORACLE").count() == 0
    assert selectors.purchase_order("SAP-PRD", "PO-1") is not None
