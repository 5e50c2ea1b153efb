"""`batchline demo`: the demo plant's warehouse holds stock, decisions, pick work and alerts, loaded
through the services, once."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from batchline.compliance.models import AuditEntry, Signature
from batchline.core.models import OutboxEvent
from batchline.demo import plant
from batchline.demo import warehouse as demo_warehouse
from batchline.inventory.choices import AlertKind, LotStatus, MovementType, RequestStatus, TaskStatus
from batchline.inventory.models import (
    Container,
    Lot,
    MaterialRequest,
    Movement,
    PickTask,
    PurchaseOrder,
    PurchaseOrderLine,
    StockAlert,
    StockBalance,
    StockPolicy,
)
from batchline.inventory.usability import lot_state, today

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {"purchase_orders": PurchaseOrder.objects.count(), "lines": PurchaseOrderLine.objects.count(),
            "lots": Lot.objects.count(), "containers": Container.objects.count(),
            "movements": Movement.objects.count(), "balances": StockBalance.objects.count(),
            "requests": MaterialRequest.objects.count(), "tasks": PickTask.objects.count(),
            "policies": StockPolicy.objects.count(), "alerts": StockAlert.objects.count(),
            "audit_entries": AuditEntry.objects.count(), "signatures": Signature.objects.count(),
            "outbox": OutboxEvent.objects.count()}


@pytest.fixture
def demo_plant() -> str:
    return run_demo()


def stock_at(lot: Lot) -> set[str]:
    return set(StockBalance.objects.filter(lot=lot, on_hand__gt=0).values_list("location__code", flat=True))


def test_purchase_orders_come_from_the_erp_and_one_is_still_to_be_delivered(demo_plant: str) -> None:
    orders = PurchaseOrder.objects.filter(source_system=demo_warehouse.SOURCE_SYSTEM)
    assert orders.count() == len(demo_warehouse.PURCHASE_ORDERS)
    created = AuditEntry.objects.filter(record_type="inventory.purchaseorder", action="create")
    assert set(created.values_list("actor_username", flat=True)) == {"sap-prd"}
    # ERP codes went through the code maps
    assert orders.get(po_number="4500012001").supplier.code == "SUP-0001"
    open_lines = PurchaseOrderLine.objects.filter(received_quantity=0)
    assert [line.material.code for line in open_lines] == ["PM-0204"]
    lactose = PurchaseOrderLine.objects.get(material__code="RM-EXC-0102")
    assert lactose.received_quantity == Decimal(100)  # half delivered: still open on the receiving screen


def test_released_stock_stands_in_fitting_storage_locations(demo_plant: str) -> None:
    released = Lot.objects.filter(status=LotStatus.RELEASED)
    assert released.count() == len([spec for spec in demo_warehouse.LOTS if spec.decision == LotStatus.RELEASED])
    for lot in released:
        assert lot.containers.count() >= 2
        locations = stock_at(lot)
        assert locations, lot.number
        assert all(code.startswith(("WH01-A-", "WH01-C-", "WH01-P-")) for code in locations), (lot.number, locations)
    pancreatin = released.get(material__code="RM-API-0005")
    assert stock_at(pancreatin) == {"WH01-C-01-01"}
    film = released.get(material__code="PM-0201")
    assert StockBalance.objects.filter(lot=film).aggregate(total=Sum("on_hand"))["total"] == Decimal(112)
    signed = Signature.objects.filter(meaning="lot_status", signer__username="qa").count()
    assert signed == len([spec for spec in demo_warehouse.LOTS if spec.decision])
    assert not StockBalance.objects.filter(on_hand__gt=0, location__code="WH01-RCV-01").exists()


def test_one_lot_waits_in_quarantine_and_one_was_rejected(demo_plant: str) -> None:
    quarantined = Lot.objects.get(status=LotStatus.QUARANTINE)
    assert quarantined.material.code == "RM-API-0004"
    assert stock_at(quarantined) == {"WH01-QUA-01"}
    rejected = Lot.objects.get(status=LotStatus.REJECTED)
    assert rejected.material.code == "RM-API-0003"
    assert stock_at(rejected) == {"WH01-REJ-01"}


def test_a_material_request_waits_for_picking_first_expiry_first(demo_plant: str) -> None:
    request = MaterialRequest.objects.get()
    assert (request.status, request.quantity, request.allocated_quantity) == (
        RequestStatus.ALLOCATED, Decimal(60), Decimal(60))
    assert request.to_location is not None and request.to_location.code == "WH01-DSP-01"
    tasks = list(PickTask.objects.filter(request=request, status=TaskStatus.OPEN).select_related("lot"))
    assert len(tasks) == 3
    paracetamol = Lot.objects.filter(material__code="RM-API-0001").order_by("expires_on")
    older, newer = paracetamol
    assert sorted(task.quantity for task in tasks if task.lot == older) == [Decimal(25), Decimal(25)]
    assert [task.quantity for task in tasks if task.lot == newer] == [Decimal(10)]
    reserved = StockBalance.objects.aggregate(total=Sum("reserved"))["total"]
    assert reserved == Decimal(60)


def test_alerts_show_expiry_retest_and_safety_stock(demo_plant: str) -> None:
    open_alerts = StockAlert.objects.filter(cleared_at__isnull=True)
    kinds = {(a.kind, a.material.code) for a in open_alerts}
    assert kinds == {(AlertKind.EXPIRY, "RM-EXC-0104"), (AlertKind.RETEST, "RM-API-0002"),
                     (AlertKind.SAFETY_STOCK, "RM-EXC-0102")}
    day = today()
    expiring = Lot.objects.get(material__code="RM-EXC-0104")
    assert expiring.expires_on is not None and expiring.expires_on <= day + timedelta(days=45)
    retest = Lot.objects.get(material__code="RM-API-0002")
    assert retest.retest_on is not None and retest.retest_on <= day + timedelta(days=30)
    # both still usable today: on the stock screens they show as released, with an alert
    assert {lot_state(expiring), lot_state(retest)} == {"released"}


def test_demo_warehouse_moves_stock_through_the_ledger_only(demo_plant: str) -> None:
    for row in StockBalance.objects.all():
        moved_in = Movement.objects.filter(container=row.container, to_location=row.location).aggregate(
            total=Sum("quantity"))["total"] or Decimal(0)
        moved_out = Movement.objects.filter(container=row.container, from_location=row.location).aggregate(
            total=Sum("quantity"))["total"] or Decimal(0)
        assert row.on_hand == moved_in - moved_out
    containers = Container.objects.count()
    assert Movement.objects.filter(movement_type=MovementType.RECEIPT).count() == containers
    assert Movement.objects.filter(movement_type=MovementType.PUTAWAY).count() == containers


def test_loading_the_demo_warehouse_twice_changes_nothing(demo_plant: str) -> None:
    assert "purchase order" in demo_plant and "lot" in demo_plant
    before = counts()
    second = run_demo()
    assert "already loaded; nothing changed" in second
    assert counts() == before


def test_audit_trail_verifies_with_the_demo_warehouse(demo_plant: str) -> None:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("OK, ")


def test_the_warehouse_screens_show_the_demo_stock_to_the_clerk(demo_plant: str) -> None:
    client = Client()
    assert client.login(username="warehouse", password=plant.DEMO_PASSWORD)
    paracetamol = Lot.objects.filter(material__code="RM-API-0001").order_by("expires_on").first()
    assert paracetamol is not None
    pages = {
        "web:warehouse": [],
        "web:warehouse_stock": [paracetamol.number, "WH01-C-01-01"],
        "web:warehouse_location_map": ["WH01-REJ-01", "WH01-QUA-01"],
        "web:warehouse_picking": [paracetamol.number, "WH01-DSP-01"],
        "web:warehouse_requests": ["1000101"],
        "web:warehouse_receiving": ["4500012006"],
        "web:warehouse_alerts": ["RM-EXC-0102", "RM-EXC-0104", "RM-API-0002"],
    }
    for name, texts in pages.items():
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        page = response.content.decode()
        for text in texts:
            assert text in page, (name, text)
    lot_page = client.get(reverse("web:warehouse_lot", args=[paracetamol.pk]))
    assert lot_page.status_code == 200
