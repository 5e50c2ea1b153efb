"""Parked inbound messages: a data steward sees them, fixes the code map, re-processes or discards (MD-03)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

import batchline.api.inbound  # noqa: F401  (registers the inbound message handlers, as the URLconf does)
from batchline.compliance.models import AuditEntry
from batchline.core import inbound
from batchline.core.models import ParkedMessage
from batchline.inventory.models import PurchaseOrder
from batchline.masterdata import codemaps


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


@pytest.fixture
def parked(approved: Callable[..., Any], kg: Any, make_user: Callable[..., Any]) -> ParkedMessage:
    approved("material", code="RM-001", name_zh="乳糖", name_en="Lactose", material_type="raw", base_unit="kg")
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    erp = make_user("integration", username="erp", kind="integration")
    payload = {"po_number": "4500001234", "supplier": "SUP-01", "lines": [
        {"line_no": 10, "material": "100234", "quantity": "5", "unit": "kg", "expected_date": "2026-12-01"}]}
    with pytest.raises(inbound.MessageParked):
        inbound.process(message_type="purchase-orders", source_system="SAP-PRD", message_id=str(uuid.uuid4()),
                        payload=payload, actor=erp)
    return ParkedMessage.objects.get()


@pytest.mark.req("MD-03")
def test_the_steward_sees_the_parked_message_in_the_list(parked: ParkedMessage, steward: Any) -> None:
    response = client_for(steward).get(reverse("web:parked_messages"), {"source": "SAP-PRD"})
    assert response.status_code == 200
    assert reverse("web:parked_message", args=[parked.pk]) in response.content.decode()


def test_the_list_filters_by_status(parked: ParkedMessage, steward: Any) -> None:
    response = client_for(steward).get(reverse("web:parked_messages"), {"status": "discarded"})
    assert reverse("web:parked_message", args=[parked.pk]) not in response.content.decode()


@pytest.mark.req("MD-03")
def test_the_detail_shows_the_payload_the_error_and_its_field(parked: ParkedMessage, steward: Any) -> None:
    html = client_for(steward).get(reverse("web:parked_message", args=[parked.pk])).content.decode()
    assert "&quot;100234&quot;" in html
    assert 'data-code="unmapped_code"' in html and "payload.lines.0.material" in html
    assert 'data-testid="reprocess-form"' in html and reverse("web:code_maps") in html


@pytest.mark.req("MD-03", "AT-01")
def test_reprocessing_after_adding_the_code_map_creates_the_purchase_order(parked: ParkedMessage,
                                                                            steward: Any) -> None:
    codemaps.save_mapping(actor=steward, system="SAP-PRD", kind="material", external_code="100234",
                          internal_code="RM-001")
    response = client_for(steward).post(reverse("web:parked_reprocess", args=[parked.pk]))
    assert response.status_code == 302
    parked.refresh_from_db()
    assert parked.status == "reprocessed" and parked.resolved_by == steward
    assert PurchaseOrder.objects.get().lines.get().material.code == "RM-001"


def test_reprocessing_without_the_fix_keeps_it_parked(parked: ParkedMessage, steward: Any) -> None:
    client_for(steward).post(reverse("web:parked_reprocess", args=[parked.pk]))
    parked.refresh_from_db()
    assert parked.status == "parked" and PurchaseOrder.objects.count() == 0


@pytest.mark.req("MD-03", "AT-01")
def test_discarding_needs_a_reason(parked: ParkedMessage, steward: Any) -> None:
    client = client_for(steward)
    refused = client.post(reverse("web:parked_discard", args=[parked.pk]), {"reason": ""})
    assert refused.status_code == 422 and error_code(refused.content.decode()) == "reason_required"
    client.post(reverse("web:parked_discard", args=[parked.pk]), {"reason": "Test message from SAP QA"})
    parked.refresh_from_db()
    assert (parked.status, parked.resolution) == ("discarded", "Test message from SAP QA")
    assert AuditEntry.objects.filter(record_type="core.parkedmessage", action="discard").exists()


def test_a_viewer_without_reprocess_permission_sees_no_actions_and_cannot_act(
        parked: ParkedMessage, make_user: Callable[..., Any]) -> None:
    auditor = make_user("auditor")
    client = client_for(auditor)
    html = client.get(reverse("web:parked_message", args=[parked.pk])).content.decode()
    assert 'data-testid="reprocess-form"' not in html
    assert client.post(reverse("web:parked_reprocess", args=[parked.pk])).status_code == 403
    parked.refresh_from_db()
    assert parked.status == "parked"


def test_an_operator_cannot_see_parked_messages(parked: ParkedMessage, make_user: Callable[..., Any]) -> None:
    assert client_for(make_user("operator")).get(reverse("web:parked_messages")).status_code == 403
