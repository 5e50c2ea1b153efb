"""Destinations and the interface monitor over the API: permissions per role, audited changes,
no secret in any response, dead-letter replay with a reason (INT-03, INT-06, AT-01)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from api.helpers import ApiClient, new_key
from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.core.destinations import RECORD_TYPE, create_destination
from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent, OutboxStatus
from batchline.core.outbox import DELIVERY_RECORD_TYPE

SECRET = "api-secret-0123456789"
HOOK = {"code": "erp-hook", "name": "ERP", "kind": "webhook", "url": "https://erp.example/hook", "secret": SECRET,
        "event_types": ["masterdata.*"], "max_attempts": 5, "timeout_seconds": 10}


@pytest.fixture
def admin_api(admin_user: Any, session_for: Callable[[Any], ApiClient]) -> ApiClient:
    return session_for(admin_user)


@pytest.fixture
def hook(admin_user: Any) -> Destination:
    return create_destination(actor=admin_user, **HOOK)


def dead_delivery(destination: Destination, error: str = "HTTP 400 Bad Request") -> Delivery:
    now = clock.now()
    event = OutboxEvent.objects.create(event_type="masterdata.material.approved", record_type="masterdata.material",
                                       record_id="7", payload={}, occurred_at=now - timedelta(minutes=5),
                                       status=OutboxStatus.DISPATCHED)
    return Delivery.objects.create(event=event, destination=destination, record_type="masterdata.material",
                                   record_id="7", status=DeliveryStatus.DEAD, attempts=5, next_attempt_at=now,
                                   last_attempt_at=now, last_error=error)


@pytest.mark.req("INT-03", "AT-01")
def test_the_administrator_registers_a_destination_and_no_response_carries_the_secret(admin_api: ApiClient) -> None:
    created = admin_api.post("/integration/destinations", HOOK, key=new_key())
    listed = admin_api.get("/integration/destinations")
    assert created.status_code == 201, created.content
    assert created.json()["has_secret"] is True and "secret" not in created.json()
    assert SECRET not in created.content.decode() + listed.content.decode()
    entry = AuditEntry.objects.get(record_type=RECORD_TYPE)
    assert entry.action == "create" and SECRET not in entry.changes


@pytest.mark.req("INT-03")
def test_an_invalid_destination_is_refused_naming_the_field_and_nothing_is_written(admin_api: ApiClient) -> None:
    response = admin_api.post("/integration/destinations", {**HOOK, "secret": "short"})
    assert (response.status_code, response.json()["field"]) == (422, "secret")
    assert not Destination.objects.exists() and not AuditEntry.objects.filter(record_type=RECORD_TYPE).exists()


@pytest.mark.req("INT-03", "AT-01")
def test_patch_changes_settings_and_deactivates_with_the_reason(admin_api: ApiClient, hook: Destination) -> None:
    response = admin_api.patch("/integration/destinations/erp-hook",
                               {"max_attempts": 20, "active": False, "reason": "ERP maintenance"})
    assert response.status_code == 200, response.content
    assert (response.json()["max_attempts"], response.json()["active"]) == (20, False)
    trail = list(AuditEntry.objects.filter(record_type=RECORD_TYPE).order_by("id").values_list("action", "reason"))
    assert trail[1:] == [("update", "ERP maintenance"), ("deactivate", "ERP maintenance")]


def test_patch_without_a_reason_is_refused(admin_api: ApiClient, hook: Destination) -> None:
    response = admin_api.patch("/integration/destinations/erp-hook", {"name": "x", "reason": ""})
    assert (response.status_code, response.json()["code"]) == (422, "reason_required")


def test_patch_of_an_unknown_destination_is_404(admin_api: ApiClient) -> None:
    response = admin_api.patch("/integration/destinations/nope", {"active": False, "reason": "x"})
    assert response.status_code == 404


@pytest.mark.req("INT-06")
def test_the_monitor_reports_figures_per_destination(admin_api: ApiClient, hook: Destination) -> None:
    dead_delivery(hook)
    [figures] = admin_api.get("/integration/monitor").json()
    assert (figures["destination"], figures["dead"], figures["pending"]) == ("erp-hook", 1, 0)
    assert figures["last_error"] == "HTTP 400 Bad Request"


@pytest.mark.req("INT-06")
def test_deliveries_are_filtered_by_destination_and_status(admin_api: ApiClient, hook: Destination) -> None:
    dead = dead_delivery(hook)
    found = admin_api.get("/integration/deliveries", destination="erp-hook", status="dead").json()
    none = admin_api.get("/integration/deliveries", status="pending").json()
    assert [d["id"] for d in found["items"]] == [dead.pk] and found["count"] == 1
    assert found["items"][0]["message_id"] == str(dead.event.message_id)
    assert none["count"] == 0


@pytest.mark.req("INT-06", "AT-01")
def test_replay_sends_a_dead_letter_again_and_is_audited_with_the_reason(admin_api: ApiClient,
                                                                          hook: Destination) -> None:
    dead = dead_delivery(hook)
    response = admin_api.post(f"/integration/deliveries/{dead.pk}/replay", {"reason": "ERP fixed the mapping"},
                              key=new_key())
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    entry = AuditEntry.objects.get(record_type=DELIVERY_RECORD_TYPE, record_id=str(dead.pk))
    assert (entry.action, entry.reason, entry.actor_username) == ("replay", "ERP fixed the mapping", "sysadmin")
    assert json.loads(entry.changes)["status"] == ["dead", "pending"]


def test_replay_needs_a_reason(admin_api: ApiClient, hook: Destination) -> None:
    dead = dead_delivery(hook)
    response = admin_api.post(f"/integration/deliveries/{dead.pk}/replay", {"reason": " "})
    assert response.status_code == 422
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD


@pytest.mark.req("INT-06")
@pytest.mark.parametrize("role", ["data_steward", "qa_reviewer", "auditor"])
def test_viewing_roles_read_the_monitor_but_cannot_configure_or_replay(
        role: str, make_user: Callable[..., Any], session_for: Callable[[Any], ApiClient], hook: Destination) -> None:
    dead = dead_delivery(hook)
    api = session_for(make_user(role))
    assert api.get("/integration/monitor").status_code == 200
    assert api.get("/integration/destinations").status_code == 200
    assert api.post("/integration/destinations", {**HOOK, "code": "other"}).status_code == 403
    assert api.patch("/integration/destinations/erp-hook", {"active": False, "reason": "x"}).status_code == 403
    assert api.post(f"/integration/deliveries/{dead.pk}/replay", {"reason": "x"}).status_code == 403
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD and Destination.objects.get(code="erp-hook").active


@pytest.mark.req("INT-06")
def test_an_operator_sees_nothing_of_the_interfaces(make_user: Callable[..., Any],
                                                    session_for: Callable[[Any], ApiClient]) -> None:
    api = session_for(make_user("operator"))
    for path in ("/integration/monitor", "/integration/destinations", "/integration/deliveries"):
        assert api.get(path).status_code == 403


def test_the_idempotency_hash_leaves_the_webhook_secret_out() -> None:
    from django.test import RequestFactory

    from batchline.api.idempotency import request_hash

    def hashed(secret: str) -> str:
        return request_hash(RequestFactory().post("/api/v1/integration/destinations",
                                                  data=json.dumps({**HOOK, "secret": secret}),
                                                  content_type="application/json"))

    assert hashed(SECRET) == hashed("another-secret-0123456789")
