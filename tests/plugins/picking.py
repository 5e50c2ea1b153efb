"""Fixtures for the material-request and picking tests (inventory, api, web, browser): released stock
put away at a storage location, a supervisor, and material requests built through the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest


@pytest.fixture
def stock(wh: Any, receive_released: Callable[..., Any]) -> Callable[..., Any]:
    """stock("API-01", location="A-01", containers=2, each="25", expires_on=...) → a released lot whose
    containers were transferred from receiving to `location` (None: left at receiving)."""
    from batchline.inventory.movements import transfer

    def make(material: str = "API-01", *, location: str | None = "A-01", **kwargs: Any) -> Any:
        lot = receive_released(material, **kwargs)
        if location:
            for container in lot.containers.order_by("serial"):
                transfer(actor=wh.clerk, container=container, to_location=location)
        return lot

    return make


@pytest.fixture
def supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("supervisor", username="supervisor", full_name="周强 Zhou Qiang")


@pytest.fixture
def request_for(wh: Any) -> Callable[..., Any]:
    """request_for("API-01", "30", need_by=..., to_location="STG-01") → a material request (allocated)."""
    from batchline.inventory.allocation import request_material
    from batchline.inventory.usability import today

    def make(material: str = "API-01", quantity: str = "10", *, unit: str = "kg", need_by: date | None = None,
             order_ref: str = "PO-ORDER-1", to_location: str | None = "STG-01", **kwargs: Any) -> Any:
        return request_material(actor=wh.clerk, order_ref=order_ref, material_code=material, quantity=quantity,
                                unit=unit, need_by=need_by or today() + timedelta(days=7), to_location=to_location,
                                **kwargs)

    return make


# --- for tests with real commits (threads, the browser): no `db` fixture, built the same way -------

@dataclass
class Plant:
    clerk: Any
    qa: Any
    steward: Any
    lines: dict[str, Any]  # material code → its PO line


def person(username: str, full_name: str, *roles: str) -> Any:
    from batchline.identity import services
    from batchline.identity.models import User
    from conftest import PASSWORD

    user = services.create_user(actor=None, username=username, full_name=full_name, roles=list(roles),
                                initial_password=PASSWORD)
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    user.refresh_from_db()
    return user


def build_plant(materials: list[str]) -> Plant:
    """Units, `materials` (ambient raw materials with a shelf life), the locations of plugins/warehouse.py,
    a supplier, the lot number rule, a purchase order, a clerk, a QA reviewer and a data steward."""
    from batchline.inventory import services
    from batchline.masterdata import numbering
    from batchline.masterdata import services as masterdata
    from batchline.masterdata.registry import kind_of
    from conftest import sig
    from plugins.warehouse import LOCATIONS

    steward = person("steward", "王明 Wang Ming", "data_steward")
    qa = person("qareviewer", "李华 Li Hua", "qa_reviewer")
    clerk = person("clerk", "陈静 Chen Jing", "warehouse")

    def approved(kind_slug: str, **data: Any) -> Any:
        kind = kind_of(kind_slug)
        item = masterdata.create_item(actor=steward, kind=kind, data=data)
        return masterdata.approve_item(actor=qa, kind=kind, item_id=item.pk, signature=sig(qa))

    approved("unit", code="kg", name_zh="千克", name_en="kilogram", dimension="mass", factor="1")
    for code in materials:
        approved("material", code=code, name_zh=f"物料 {code}", name_en=f"Material {code}", material_type="raw",
                 base_unit="kg", shelf_life_days=720)
    approved("site", code="S1", name_zh="工厂", name_en="Plant")
    approved("warehouse", code="WH1", name_zh="仓库", name_en="Warehouse", site="S1")
    for code, kind, storage in LOCATIONS:
        approved("location", code=code, name_zh=code, name_en=code, warehouse="WH1", location_type=kind,
                 storage_condition=storage)
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    numbering.save_rule(actor=steward, key="lot", prefix="L", pattern="{prefix}{yy}{mm}{seq:04}", reset="monthly")
    _, order = services.register_purchase_order(actor=clerk, source_system="BATCHLINE", data={
        "po_number": "PO-1", "supplier": "SUP-01", "lines": [
            {"line_no": n, "material": code, "quantity": "1000000", "unit": "kg", "expected_date": "2026-12-01"}
            for n, code in enumerate(materials, start=1)]})
    lines = {line.material.code: line for line in order.lines.select_related("material")}
    return Plant(clerk=clerk, qa=qa, steward=steward, lines=lines)


def stock_lot(plant: Plant, material: str, *, containers: int = 2, each: str = "25", location: str = "A-01",
              expires_on: date | None = None) -> Any:
    """A released lot of `material`, its containers moved from receiving to `location`."""
    from batchline.inventory.lots import change_lot_status
    from batchline.inventory.movements import transfer
    from batchline.inventory.receiving import Receipt, receive_goods
    from batchline.inventory.usability import today
    from conftest import sig

    lot = receive_goods(actor=plant.clerk, receipt=Receipt(
        purchase_order_line_id=plant.lines[material].pk, location="RCV-01", containers=containers,
        quantity_per_container=each, unit="kg", supplier_lot="S-1", manufactured_on=today() - timedelta(days=30),
        expires_on=expires_on))
    lot = change_lot_status(actor=plant.qa, lot_id=lot.pk, status="released", reason="QC results conform",
                            signature=sig(plant.qa, "lot_status"))
    for container in lot.containers.order_by("serial"):
        transfer(actor=plant.clerk, container=container, to_location=location)
    return lot


def ledger_invariants() -> None:
    """WMS-06, checked from the tables: each balance row is the sum of the movements into and out of its
    (container, location); nothing is negative; each reservation is exactly what the open pick tasks
    of that row hold; each request's quantities are what its tasks say; a split creates no stock."""
    from django.db.models import Sum

    from batchline.inventory.choices import MovementType, TaskStatus
    from batchline.inventory.models import Container, MaterialRequest, Movement, PickTask, StockBalance

    into = {(m["container_id"], m["to_location_id"]): m["total"] for m in Movement.objects.filter(
        to_location__isnull=False).values("container_id", "to_location_id").annotate(total=Sum("quantity"))}
    out_of = {(m["container_id"], m["from_location_id"]): m["total"] for m in Movement.objects.filter(
        from_location__isnull=False).values("container_id", "from_location_id").annotate(total=Sum("quantity"))}
    held = {(t["container_id"], t["from_location_id"]): t["total"] for t in PickTask.objects.filter(
        status=TaskStatus.OPEN).values("container_id", "from_location_id").annotate(total=Sum("quantity"))}
    rows = {(b.container_id, b.location_id): b for b in StockBalance.objects.all()}
    assert set(into) | set(out_of) <= set(rows), "a movement without a balance row"
    assert set(held) <= set(rows), "an open task without a balance row"
    for key, row in rows.items():
        assert row.on_hand == into.get(key, 0) - out_of.get(key, 0), f"balance {key} is not the sum of its movements"
        assert row.on_hand >= 0 and row.reserved >= 0 and row.reserved <= row.on_hand, f"balance {key}"
        assert row.reserved == held.get(key, 0), f"reservation of {key} is not what its open tasks hold"
    for request in MaterialRequest.objects.all():
        tasks = PickTask.objects.filter(request=request)
        open_sum = tasks.filter(status=TaskStatus.OPEN).aggregate(s=Sum("quantity"))["s"] or 0
        picked = tasks.filter(status=TaskStatus.DONE).aggregate(s=Sum("picked_quantity"))["s"] or 0
        assert (request.allocated_quantity, request.picked_quantity) == (open_sum + picked, picked), request.pk
        assert request.allocated_quantity <= request.quantity, f"request {request.pk} over-allocated"
        if request.status == "cancelled":
            assert open_sum == 0
    for child in Container.objects.filter(split_from__isnull=False):
        given = Movement.objects.filter(container=child, movement_type=MovementType.SPLIT_IN).aggregate(
            s=Sum("quantity"))["s"]
        taken = Movement.objects.filter(container=child.split_from, movement_type=MovementType.SPLIT_OUT).aggregate(
            s=Sum("quantity"))["s"]
        assert given is not None and taken is not None and given <= taken, f"split {child.code} created stock"
