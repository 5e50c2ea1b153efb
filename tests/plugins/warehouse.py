"""A small warehouse for the tests (inventory, api, web, browser), built through the services.

`wh` holds the people (clerk, qa), units, materials, locations and a purchase order; `receive()`
receives a lot into quarantine, `release()` gives it a signed status, `receive_released()` both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from conftest import sig

LOCATIONS = [
    # code, type, storage condition
    ("RCV-01", "receiving", "ambient"),
    ("QUA-01", "quarantine", "ambient"),
    ("QUA-C", "quarantine", "cool"),
    ("A-01", "storage", "ambient"),
    ("A-02", "storage", "ambient"),
    ("C-01", "storage", "cool"),
    ("DSP-01", "dispensary", "ambient"),
    ("LS-01", "line_side", "ambient"),
    ("STG-01", "staging", "ambient"),
    ("REJ-01", "rejected", "ambient"),
]


@dataclass
class Warehouse:
    clerk: Any
    qa: Any
    steward: Any
    materials: dict[str, Any]
    locations: dict[str, Any]
    order: Any
    lines: dict[str, Any]  # material code → its PO line
    made: list[Any] = field(default_factory=list)


@pytest.fixture
def wh(approved: Callable[..., Any], kg: Any, steward: Any, approver: Any, make_user: Callable[..., Any]) -> Warehouse:
    from batchline.inventory import services
    from batchline.masterdata import numbering

    approved("unit", code="g", name_zh="克", name_en="gram", dimension="mass", factor="0.001")
    materials = {
        "API-01": approved("material", code="API-01", name_zh="对乙酰氨基酚", name_en="Paracetamol",
                           material_type="raw", base_unit="kg", shelf_life_days=720, retest_interval_days=365),
        "EXC-01": approved("material", code="EXC-01", name_zh="乳糖", name_en="Lactose", material_type="raw",
                           base_unit="kg", incoming_inspection_required=False),
        "COOL-01": approved("material", code="COOL-01", name_zh="冷藏辅料", name_en="Cool excipient",
                            material_type="raw", base_unit="kg", storage_condition="cool", shelf_life_days=365),
    }
    approved("site", code="S1", name_zh="工厂", name_en="Plant")
    approved("warehouse", code="WH1", name_zh="仓库", name_en="Warehouse", site="S1")
    locations = {code: approved("location", code=code, name_zh=code, name_en=code, warehouse="WH1",
                                location_type=kind, storage_condition=storage)
                 for code, kind, storage in LOCATIONS}
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    numbering.save_rule(actor=steward, key="lot", prefix="L", pattern="{prefix}{yy}{mm}{seq:04}", reset="monthly")
    clerk = make_user("warehouse", username="clerk", full_name="陈静 Chen Jing")
    _, order = services.register_purchase_order(actor=clerk, source_system="BATCHLINE", data={
        "po_number": "PO-1", "supplier": "SUP-01", "lines": [
            {"line_no": n, "material": code, "quantity": "100000", "unit": "kg", "expected_date": "2026-12-01"}
            for n, code in enumerate(materials, start=1)]})
    lines = {line.material.code: line for line in order.lines.select_related("material")}
    return Warehouse(clerk=clerk, qa=approver, steward=steward, materials=materials, locations=locations,
                     order=order, lines=lines)


@pytest.fixture
def receive(wh: Warehouse) -> Callable[..., Any]:
    """receive("API-01", containers=2, each="25", expires_on=...) → a lot in quarantine at RCV-01."""
    from batchline.inventory.receiving import Receipt, receive_goods
    from batchline.inventory.usability import today

    def make(material: str = "API-01", *, containers: int = 2, each: str | Decimal = "25", unit: str = "kg",
             location: str = "RCV-01", supplier_lot: str = "S-LOT-1", manufactured_on: date | None = None,
             expires_on: date | None = None, retest_on: date | None = None, last: str | None = None) -> Any:
        made_on = manufactured_on or today() - timedelta(days=30)
        lot = receive_goods(actor=wh.clerk, receipt=Receipt(
            purchase_order_line_id=wh.lines[material].pk, location=location, containers=containers,
            quantity_per_container=each, unit=unit, supplier_lot=supplier_lot, manufactured_on=made_on,
            expires_on=expires_on, retest_on=retest_on, last_container_quantity=last))
        wh.made.append(lot)
        return lot

    return make


@pytest.fixture
def release(wh: Warehouse) -> Callable[..., Any]:
    """release(lot, status="released") → the lot with that status, signed by QA."""
    from batchline.inventory.lots import change_lot_status

    def decide(lot: Any, status: str = "released", restriction: str = "") -> Any:
        return change_lot_status(actor=wh.qa, lot_id=lot.pk, status=status, reason="QC results conform",
                                 restriction=restriction, signature=sig(wh.qa, "lot_status"))

    return decide


@pytest.fixture
def receive_released(receive: Callable[..., Any], release: Callable[..., Any]) -> Callable[..., Any]:
    def make(material: str = "API-01", **kwargs: Any) -> Any:
        return release(receive(material, **kwargs))

    return make
