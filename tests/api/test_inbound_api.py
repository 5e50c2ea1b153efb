"""Inbound ERP messages in the envelope (INTERFACES.md): purchase orders, material master, parking."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from api.helpers import ApiClient
from batchline.compliance.models import AuditEntry
from batchline.core.models import InboundMessage, OutboxEvent, ParkedMessage
from batchline.inventory.models import PurchaseOrder, PurchaseOrderLine
from batchline.masterdata import codemaps

PO_URL = "/inbound/SAP-PRD/purchase-orders"
MM_URL = "/inbound/SAP-PRD/material-master"


def envelope(payload: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    return {"message_id": message_id or str(uuid.uuid4()), "occurred_at": "2026-11-20T08:00:00Z",
            "source_system": "SAP-PRD", "schema_version": "1", "payload": payload}


def po(**changes: Any) -> dict[str, Any]:
    line = {"line_no": 10, "material": "RM-001", "quantity": "120.500", "unit": "kg", "expected_date": "2026-12-01"}
    line.update(changes.pop("line", {}))
    return {"po_number": "4500001234", "supplier": "SUP-01", "lines": [line], **changes}


@pytest.fixture
def plant(approved: Callable[..., Any], kg: Any) -> None:
    approved("material", code="RM-001", name_zh="乳糖", name_en="Lactose", material_type="raw", base_unit="kg")
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    approved("supplier", code="SUP-99", name_zh="冻结供应商", name_en="Blocked supplier", qualification="blocked")


@pytest.fixture
def erp_client(plant: None, erp: Any, token_for: Callable[..., ApiClient]) -> ApiClient:
    return token_for(erp, ("masterdata.*", "inventory.*"))


def counts() -> dict[str, int]:
    return {"orders": PurchaseOrder.objects.count(), "lines": PurchaseOrderLine.objects.count(),
            "audit": AuditEntry.objects.count(), "outbox": OutboxEvent.objects.count(),
            "inbound": InboundMessage.objects.count()}


@pytest.mark.req("INT-04")
def test_a_valid_purchase_order_creates_the_order_its_lines_an_audit_entry_and_an_event(erp_client: ApiClient) -> None:
    response = erp_client.post(PO_URL, envelope(po()))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created"
    assert body["lines"][0]["quantity"] == "120.5" and body["lines"][0]["unit"] == "kg"
    order = PurchaseOrder.objects.get(source_system="SAP-PRD", po_number="4500001234")
    assert order.supplier.code == "SUP-01" and order.lines.count() == 1
    assert AuditEntry.objects.filter(record_type="inventory.purchaseorder", record_id=str(order.pk),
                                     action="create").exists()
    assert OutboxEvent.objects.filter(event_type="inventory.purchase_order.registered",
                                      record_id=str(order.pk)).count() == 1


@pytest.mark.req("INT-04")
def test_the_same_message_id_twice_returns_the_first_response_and_changes_nothing(erp_client: ApiClient) -> None:
    message = envelope(po())
    first = erp_client.post(PO_URL, message)
    before = counts()
    second = erp_client.post(PO_URL, message)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert counts() == before


@pytest.mark.req("INT-04")
def test_the_same_message_id_with_a_different_body_is_refused(erp_client: ApiClient) -> None:
    message_id = str(uuid.uuid4())
    erp_client.post(PO_URL, envelope(po(), message_id))
    response = erp_client.post(PO_URL, envelope(po(line={"quantity": "99"}), message_id))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert PurchaseOrderLine.objects.get().quantity == 120.5


def test_a_new_message_for_an_open_order_replaces_its_lines_with_an_audited_change(erp_client: ApiClient) -> None:
    erp_client.post(PO_URL, envelope(po()))
    response = erp_client.post(PO_URL, envelope(po(line={"quantity": "80"})))
    assert response.status_code == 200 and response.json()["outcome"] == "updated"
    assert [line.quantity for line in PurchaseOrderLine.objects.all()] == [80]
    entry = AuditEntry.objects.get(record_type="inventory.purchaseorder", action="update")
    assert "120.5" in entry.changes and "80" in entry.changes


@pytest.mark.req("INT-04", "MD-03")
@pytest.mark.parametrize(("payload", "status", "code", "field"), [
    (po(line={"unit": "LBX"}), 422, "unknown_unit", "payload.lines.0.unit"),
    (po(line={"material": "100234"}), 422, "unmapped_code", "payload.lines.0.material"),
    (po(supplier="V-777"), 422, "unmapped_code", "payload.supplier"),
    ({"po_number": "4500001234", "lines": po()["lines"]}, 422, "invalid_input", "payload.supplier"),
    (po(line={"line_no": "ten"}), 422, "invalid_input", "payload.lines.0.line_no"),
    (po(line={"quantity": 120.5}), 422, "invalid_input", "payload.lines.0.quantity"),
    (po(line={"quantity": "12,5"}), 422, "not_decimal", "payload.lines.0.quantity"),
    (po(line={"quantity": "0"}), 422, "not_positive", "payload.lines.0.quantity"),
    (po(po_number="4" * 41), 422, "invalid_input", "payload.po_number"),
    (po(supplier="SUP-99"), 422, "supplier_not_usable", "payload.supplier"),
    (po(line={"expected_date": "tomorrow"}), 422, "invalid_input", "payload.lines.0.expected_date"),
], ids=["unknown unit", "unmapped material", "unmapped supplier", "missing field", "wrong type",
        "float quantity", "not a decimal", "zero quantity", "oversized string", "blocked supplier", "bad date"])
def test_a_bad_purchase_order_gets_a_specific_error_and_writes_nothing(
        erp_client: ApiClient, payload: dict[str, Any], status: int, code: str, field: str) -> None:
    before = counts()
    response = erp_client.post(PO_URL, envelope(payload))
    assert response.status_code == status, response.json()
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    after = counts()
    # A parked message has its own audit entry (parking is a change); nothing else is written.
    parked = ParkedMessage.objects.count()
    assert after == {**before, "audit": before["audit"] + parked}
    assert parked == (1 if code in {"unknown_unit", "unmapped_code"} else 0)


@pytest.mark.req("INT-04")
def test_an_envelope_without_a_uuid_message_id_is_refused(erp_client: ApiClient) -> None:
    response = erp_client.post(PO_URL, envelope(po(), message_id="PO-1"))
    assert response.status_code == 422 and response.json()["field"] == "message_id"


def test_an_envelope_from_another_source_system_than_the_url_is_refused(erp_client: ApiClient) -> None:
    message = {**envelope(po()), "source_system": "ORACLE"}
    response = erp_client.post(PO_URL, message)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("source_system_mismatch", "source_system")


@pytest.mark.req("MD-03")
def test_an_unmapped_code_parks_the_message_with_its_id_in_the_error(erp_client: ApiClient) -> None:
    response = erp_client.post(PO_URL, envelope(po(line={"material": "100234"})))
    parked = ParkedMessage.objects.get()
    assert response.json()["parked_id"] == parked.pk
    assert (parked.source_system, parked.message_type, parked.status) == ("SAP-PRD", "purchase-orders", "parked")
    assert parked.error_field == "payload.lines.0.material" and "100234" in parked.error_message
    assert parked.payload["lines"][0]["material"] == "100234"
    assert AuditEntry.objects.filter(record_type="core.parkedmessage", action="park").count() == 1


@pytest.mark.req("MD-03")
def test_sending_a_parked_message_again_keeps_one_parked_message(erp_client: ApiClient) -> None:
    message = envelope(po(line={"material": "100234"}))
    erp_client.post(PO_URL, message)
    erp_client.post(PO_URL, message)
    assert ParkedMessage.objects.count() == 1


@pytest.mark.req("MD-03", "AT-01")
def test_a_steward_reprocesses_a_parked_message_after_adding_the_code_map(
        erp_client: ApiClient, steward: Any, session_for: Callable[[Any], ApiClient]) -> None:
    message = envelope(po(line={"material": "100234"}))
    parked_id = erp_client.post(PO_URL, message).json()["parked_id"]
    codemaps.save_mapping(actor=steward, system="SAP-PRD", kind="material", external_code="100234",
                          internal_code="RM-001")
    response = session_for(steward).post(f"/inbound/parked/{parked_id}/reprocess")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reprocessed"] is True and body["result_status"] == 201
    assert body["parked"]["status"] == "reprocessed" and body["parked"]["resolved_by"] == "steward"
    assert PurchaseOrder.objects.get().lines.get().material.code == "RM-001"
    assert AuditEntry.objects.filter(record_type="core.parkedmessage", action="reprocess",
                                     actor_username="steward").exists()
    # The ERP sending the message again now gets the result of the re-processing.
    replay = erp_client.post(PO_URL, message)
    assert (replay.status_code, replay.json()["outcome"]) == (201, "created")
    assert PurchaseOrder.objects.count() == 1


@pytest.mark.req("MD-03")
def test_reprocessing_without_the_fix_keeps_the_message_parked(
        erp_client: ApiClient, steward: Any, session_for: Callable[[Any], ApiClient]) -> None:
    parked_id = erp_client.post(PO_URL, envelope(po(line={"material": "100234"}))).json()["parked_id"]
    response = session_for(steward).post(f"/inbound/parked/{parked_id}/reprocess")
    assert response.status_code == 200
    assert response.json()["reprocessed"] is False and response.json()["parked"]["status"] == "parked"
    assert PurchaseOrder.objects.count() == 0


@pytest.mark.req("MD-03", "AT-01")
def test_discarding_a_parked_message_needs_a_reason(
        erp_client: ApiClient, steward: Any, session_for: Callable[[Any], ApiClient]) -> None:
    parked_id = erp_client.post(PO_URL, envelope(po(line={"unit": "LBX"}))).json()["parked_id"]
    client = session_for(steward)
    refused = client.post(f"/inbound/parked/{parked_id}/discard", {"reason": " "})
    assert (refused.status_code, refused.json()["code"]) == (422, "reason_required")
    done = client.post(f"/inbound/parked/{parked_id}/discard", {"reason": "Sent by mistake"})
    assert done.status_code == 200 and done.json()["status"] == "discarded"
    assert AuditEntry.objects.get(record_type="core.parkedmessage", action="discard").reason == "Sent by mistake"


def test_the_parked_list_filters_by_source_and_status(
        erp_client: ApiClient, steward: Any, session_for: Callable[[Any], ApiClient]) -> None:
    erp_client.post(PO_URL, envelope(po(line={"unit": "LBX"})))
    client = session_for(steward)
    assert client.get("/inbound/parked", source_system="SAP-PRD").json()["count"] == 1
    assert client.get("/inbound/parked", source_system="ORACLE").json()["count"] == 0
    assert client.get("/inbound/parked", status="discarded").json()["count"] == 0


@pytest.mark.req("INT-04")
def test_an_operator_cannot_post_a_purchase_order(
        plant: None, make_user: Callable[..., Any], session_for: Callable[[Any], ApiClient]) -> None:
    response = session_for(make_user("operator")).post(PO_URL, envelope(po()))
    assert response.status_code == 403
    assert PurchaseOrder.objects.count() == 0 and ParkedMessage.objects.count() == 0


def test_the_integration_account_cannot_reprocess_a_parked_message(erp_client: ApiClient, erp: Any) -> None:
    parked_id = erp_client.post(PO_URL, envelope(po(line={"unit": "LBX"}))).json()["parked_id"]
    erp.roles = ["integration"]
    erp.save()
    response = erp_client.post(f"/inbound/parked/{parked_id}/reprocess", key="k-1")
    assert response.status_code == 403
    assert ParkedMessage.objects.get().status == "parked"


@pytest.mark.req("INT-04", "MD-03")
def test_the_material_master_message_upserts_through_the_shared_upsert(erp_client: ApiClient) -> None:
    payload = {"code": "RM-002", "name_zh": "淀粉", "name_en": "Starch", "material_type": "raw", "base_unit": "kg"}
    response = erp_client.post(MM_URL, envelope(payload))
    assert response.status_code == 201, response.json()
    assert response.json()["outcome"] == "created" and response.json()["material"]["base_unit"] == "kg"


@pytest.mark.req("MD-03")
def test_a_material_master_with_an_unknown_unit_is_parked(erp_client: ApiClient) -> None:
    payload = {"code": "RM-002", "name_zh": "淀粉", "name_en": "Starch", "material_type": "raw", "base_unit": "KGM"}
    response = erp_client.post(MM_URL, envelope(payload))
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("unknown_unit", "payload.base_unit")
    assert ParkedMessage.objects.get().message_type == "material-master"
