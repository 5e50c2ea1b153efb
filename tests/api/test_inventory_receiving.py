"""The receiving API (WMS-01, WMS-02, WMS-10): purchase orders, receipts with idempotency keys,
labels, scans and putaway; bad input is refused with a specific 4xx and the field, and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api.helpers import new_key
from batchline.compliance.models import AuditEntry
from batchline.inventory.models import Container, Lot, Movement, StockBalance
from batchline.inventory.usability import today

GS = "\x1d"


def _receipt(wh: Any, material: str = "API-01", **changes: Any) -> dict[str, Any]:
    body = {"purchase_order_line_id": wh.lines[material].pk, "location": "RCV-01", "containers": 2,
            "quantity_per_container": "25", "last_container_quantity": "10", "unit": "kg",
            "supplier_lot": "SUP-2026-07", "manufactured_on": (today() - timedelta(days=20)).isoformat()}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def _nothing_written() -> bool:
    return not (Lot.objects.exists() or Movement.objects.exists() or StockBalance.objects.exists())


@pytest.fixture
def clerk_api(wh: Any, session_for: Any) -> Any:
    return session_for(wh.clerk)


def test_open_purchase_orders_are_listed_with_their_lines(wh: Any, clerk_api: Any) -> None:
    response = clerk_api.get("/inventory/purchase-orders")
    assert response.status_code == 200
    (order,) = response.json()
    assert order["po_number"] == "PO-1" and order["supplier"] == "SUP-01"
    assert [(line["material"], line["open_quantity"], line["unit"]) for line in order["lines"]] == [
        ("API-01", "100000", "kg"), ("EXC-01", "100000", "kg"), ("COOL-01", "100000", "kg")]
    assert clerk_api.get(f"/inventory/purchase-orders/{order['id']}").json()["po_number"] == "PO-1"
    assert clerk_api.get("/inventory/purchase-orders/999999").status_code == 404


@pytest.mark.req("WMS-01")
def test_a_receipt_creates_a_quarantined_lot_and_a_replay_returns_it_without_a_second(wh: Any,
                                                                                      clerk_api: Any) -> None:
    key = new_key()
    first = clerk_api.post("/inventory/receipts", _receipt(wh), key=key)
    assert first.status_code == 201, first.content
    lot = first.json()
    assert lot["status"] == "quarantine" and lot["supplier_lot"] == "SUP-2026-07" and lot["inspection_required"]
    assert [(c["serial"], c["quantity"], c["locations"]) for c in lot["containers"]] == [
        (1, "25", ["RCV-01"]), (2, "10", ["RCV-01"])]
    assert lot["purchase_order"] == "PO-1/1"
    replay = clerk_api.post("/inventory/receipts", _receipt(wh), key=key)
    assert replay.status_code == 201 and replay.json() == lot and replay["Idempotent-Replayed"] == "true"
    assert Lot.objects.count() == 1
    other = clerk_api.post("/inventory/receipts", _receipt(wh, containers=3), key=key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_a_token_caller_must_send_an_idempotency_key(wh: Any, token_for: Any) -> None:
    api = token_for(wh.clerk, scopes=["inventory.*"])
    response = api.post("/inventory/receipts", _receipt(wh))
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"
    assert _nothing_written()
    assert api.post("/inventory/receipts", _receipt(wh), key=new_key()).status_code == 201


@pytest.mark.req("WMS-01")
@pytest.mark.parametrize(("changes", "status", "field", "code"), [
    ({"containers": 0}, 422, "containers", "invalid_input"),
    ({"quantity_per_container": "abc"}, 422, "quantity_per_container", "not_decimal"),
    ({"quantity_per_container": 25}, 422, "quantity_per_container", None),
    ({"quantity_per_container": "-1"}, 422, "quantity_per_container", "not_positive"),
    ({"last_container_quantity": "x"}, 422, "last_container_quantity", "not_decimal"),
    ({"unit": "L"}, 422, "unit", None),
    ({"location": "A-01"}, 409, "location", "location_not_usable"),
    ({"location": "NOWHERE"}, 404, "location", "not_found"),
    ({"supplier_lot": "  "}, 422, "supplier_lot", "invalid_input"),
    ({"purchase_order_line_id": 999999}, 404, "purchase_order_line", "not_found"),
    ({"quantity_per_container": "999999"}, 409, "quantity_per_container", "over_receipt"),
    ({"manufactured_on": "2001-01-01"}, 422, "expires_on", "invalid_input"),
    ({"expires_on": "not a date"}, 422, "expires_on", None),
    ({"created_at": "2026-01-01T00:00:00Z"}, 422, "created_at", None),
    ({"containers": ...}, 422, "containers", None),
])
def test_a_bad_receipt_is_refused_with_the_field_and_writes_nothing(wh: Any, clerk_api: Any,
                                                                    changes: dict[str, Any], status: int,
                                                                    field: str, code: str | None) -> None:
    response = clerk_api.post("/inventory/receipts", _receipt(wh, **changes), key=new_key())
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    if code:
        assert response.json()["code"] == code
    assert _nothing_written()


def test_receiving_needs_the_receive_permission(wh: Any, session_for: Any, make_user: Any) -> None:
    response = session_for(make_user("qc_analyst")).post("/inventory/receipts", _receipt(wh), key=new_key())
    assert response.status_code == 403 and _nothing_written()


@pytest.mark.req("WMS-10")
def test_a_label_is_served_as_json_svg_and_zpl(wh: Any, receive: Any, clerk_api: Any) -> None:
    container = receive("EXC-01", containers=1, each="12.5").containers.get()
    label = clerk_api.get(f"/inventory/containers/{container.code}/label").json()
    assert label["gs1"]
    assert label["element_string"].startswith("3101000125240EXC-01" + GS)
    assert label["hri"].endswith(f"(10){container.lot.number}(21)001")
    assert label["quantity"] == "12.5" and label["status"] == "quarantine" and label["svg"].startswith("<svg")
    svg = clerk_api.get(f"/inventory/containers/{container.code}/label", format="svg")
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")
    zpl = clerk_api.get(f"/inventory/containers/{container.code}/label", format="zpl")
    assert zpl["Content-Type"].startswith("text/plain") and zpl.content.startswith(b"^XA")
    missing = clerk_api.get("/inventory/containers/NOPE-001/label")
    assert missing.status_code == 404 and missing.json()["field"] == "container"


@pytest.mark.req("WMS-10")
def test_printing_labels_is_recorded_and_a_reprint_needs_a_reason(wh: Any, receive: Any,
                                                                  clerk_api: Any) -> None:
    codes = list(receive("EXC-01", containers=2).containers.values_list("code", flat=True))
    first = clerk_api.post("/inventory/labels/print", {"containers": codes}, key=new_key())
    assert first.status_code == 200 and [c["labels_printed"] for c in first.json()] == [1, 1]
    again = clerk_api.post("/inventory/labels/print", {"containers": codes[:1]}, key=new_key())
    assert again.status_code == 422 and again.json()["code"] == "reason_required"
    assert set(Container.objects.values_list("labels_printed", flat=True)) == {1}
    reprint = clerk_api.post("/inventory/labels/print", {"containers": codes[:1], "reason": "wet label"},
                             key=new_key())
    assert reprint.json() == [{"container": codes[0], "labels_printed": 2}]
    assert AuditEntry.objects.filter(action="reprint_label", reason="wet label").count() == 1


@pytest.mark.req("WMS-10")
def test_a_scan_is_resolved_to_what_it_is(wh: Any, receive: Any, clerk_api: Any) -> None:
    container = receive("EXC-01", containers=1, each="12.5").containers.get()
    label = clerk_api.get(f"/inventory/containers/{container.code}/label").json()
    scanned = clerk_api.post("/inventory/scans", {"text": "]d2" + label["element_string"]}).json()
    assert scanned["kind"] == "container" and scanned["container"] == container.code
    assert scanned["material"] == "EXC-01" and scanned["quantity"] == "12.5"
    assert clerk_api.post("/inventory/scans", {"text": "QUA-01"}).json()["kind"] == "location"
    foreign = clerk_api.post("/inventory/scans", {"text": f"0109506000134352{GS}10SUP-1"}).json()
    assert foreign["kind"] == "gs1" and foreign["lot"] == "SUP-1" and foreign["gtin"] == "09506000134352"
    broken = clerk_api.post("/inventory/scans", {"text": "]d20109506000134351"})
    assert broken.status_code == 422 and broken.json()["code"] == "bad_barcode" and broken.json()["field"] == "text"


@pytest.mark.req("WMS-02")
def test_putaway_suggests_then_refuses_a_wrong_location_and_moves_to_a_right_one(wh: Any, receive: Any,
                                                                                 clerk_api: Any) -> None:
    container = receive("COOL-01", containers=1).containers.get()
    suggested = clerk_api.get(f"/inventory/containers/{container.code}/putaway-suggestions").json()
    assert suggested["current_locations"] == ["RCV-01"]
    assert [s["location"] for s in suggested["suggestions"]] == ["QUA-C"]
    wrong = clerk_api.post("/inventory/putaways", {"container": container.code, "location": "QUA-01"},
                           key=new_key())
    assert wrong.status_code == 409 and wrong.json()["code"] == "location_not_usable"
    assert wrong.json()["field"] == "location" and "COOL-01" in wrong.json()["message"]
    assert not Movement.objects.filter(movement_type="putaway").exists()
    key = new_key()
    done = clerk_api.post("/inventory/putaways", {"container": container.code, "location": "QUA-C"}, key=key)
    assert done.status_code == 200, done.content
    assert done.json()["movements"][0]["from_location"] == "RCV-01" and done.json()["location"] == "QUA-C"
    replay = clerk_api.post("/inventory/putaways", {"container": container.code, "location": "QUA-C"}, key=key)
    assert replay.json() == done.json() and Movement.objects.filter(movement_type="putaway").count() == 1


def test_putaway_refuses_a_location_scanned_as_the_container(wh: Any, receive: Any,
                                                             clerk_api: Any) -> None:
    receive("API-01", containers=1)
    response = clerk_api.post("/inventory/putaways", {"container": "QUA-01", "location": "QUA-01"}, key=new_key())
    assert response.status_code == 422 and response.json()["code"] == "not_a_container"
    assert response.json()["field"] == "container"
