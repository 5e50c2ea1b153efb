"""Exchange 1 over the API: the MES posts a material requirement (code maps, Idempotency-Key), reads
requests and pick tasks; the clerk's handheld confirms picks; real events conform to their messages."""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from api.helpers import ApiClient, new_key
from batchline.api import messages_warehouse
from batchline.api.messages import message
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope
from batchline.inventory.choices import RequestStatus, TaskStatus
from batchline.inventory.models import MaterialRequest, Movement, PickTask
from batchline.inventory.usability import today
from batchline.masterdata import codemaps


@pytest.fixture
def mes(wh: Any, make_user: Callable[..., Any], token_for: Callable[..., ApiClient]) -> ApiClient:
    """The MES's integration account, calling with a token, its codes mapped for system MES-1."""
    for kind, external, internal in (("material", "100234", "API-01"), ("unit", "KGM", "kg"),
                                     ("location", "STAGE-A", "STG-01")):
        codemaps.save_mapping(actor=wh.steward, system="MES-1", kind=kind, external_code=external,
                              internal_code=internal)
    account = make_user("integration", username="mes", full_name="MES", kind="integration")
    return token_for(account, ["inventory.*"])


@pytest.fixture
def clerk(wh: Any, session_for: Callable[[Any], ApiClient]) -> ApiClient:
    return session_for(wh.clerk)


def body(**changes: Any) -> dict[str, Any]:
    return {"order_ref": "MO-2026-0042", "material": "100234", "quantity": "12.5", "unit": "KGM",
            "need_by": (today() + timedelta(days=2)).isoformat(), "to_location": "STAGE-A", "source_system": "MES-1",
            **changes}


@pytest.mark.req("WMS-05", "INT-04")
def test_the_mes_posts_a_requirement_and_gets_it_allocated_with_pick_tasks(wh: Any, stock: Callable[..., Any],
                                                                           mes: ApiClient) -> None:
    lot = stock(containers=1, each="25")
    response = mes.post("/inventory/material-requests", body(), key=new_key())
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["material"], data["unit"], data["to_location"], data["source_system"]) == (
        "API-01", "kg", "STG-01", "MES-1")
    assert (data["status"], data["quantity"], data["allocated_quantity"]) == ("allocated", "12.5", "12.5")
    assert [(t["lot"], t["from_location"], t["quantity"], t["status"]) for t in data["tasks"]] == [
        (lot.number, "A-01", "12.5", "open")]


def test_a_replay_returns_the_first_answer_and_allocates_nothing_more(wh: Any, stock: Callable[..., Any],
                                                                      mes: ApiClient) -> None:
    stock()
    key = new_key()
    first = mes.post("/inventory/material-requests", body(), key=key)
    again = mes.post("/inventory/material-requests", body(), key=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert MaterialRequest.objects.count() == 1 and PickTask.objects.count() == 1


def test_a_token_caller_must_send_an_idempotency_key(wh: Any, mes: ApiClient) -> None:
    response = mes.post("/inventory/material-requests", body())
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"


@pytest.mark.parametrize(("changes", "status", "code", "field"), [
    ({"material": "999999"}, 422, "unmapped_code", "material"),
    ({"unit": "LBS"}, 422, "unknown_unit", "unit"),
    ({"quantity": "-1"}, 422, "not_positive", "quantity"),
    ({"quantity": "1e30"}, 422, "precision", "quantity"),
    ({"quantity": 12.5}, 422, "invalid_input", None),
    ({"need_by": "2020-01-01"}, 422, "need_by_past", "need_by"),
    ({"to_location": "A-01"}, 409, "location_not_usable", "to_location"),
    ({"lot": "NO-SUCH-LOT"}, 404, "not_found", "lot"),
    ({"created_by": "someone"}, 422, "invalid_input", None),
])
def test_bad_input_is_refused_specifically_and_writes_nothing(wh: Any, stock: Callable[..., Any], mes: ApiClient,
                                                              changes: dict[str, Any], status: int, code: str,
                                                              field: str | None) -> None:
    stock()
    response = mes.post("/inventory/material-requests", body(**changes), key=new_key())
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    if field:
        assert response.json()["field"] == field
    assert not MaterialRequest.objects.exists() and not PickTask.objects.exists()


def test_requests_and_open_tasks_are_listed_and_read(wh: Any, stock: Callable[..., Any], mes: ApiClient) -> None:
    stock()
    made = mes.post("/inventory/material-requests", body(), key=new_key()).json()
    mes.post("/inventory/material-requests", body(order_ref="MO-OTHER", quantity="1"), key=new_key())
    page = mes.get("/inventory/material-requests", order_ref="MO-2026-0042").json()
    assert page["count"] == 1 and page["items"][0]["request_id"] == made["request_id"]
    assert mes.get(f"/inventory/material-requests/{made['request_id']}").json() == made
    tasks = mes.get("/inventory/pick-tasks").json()
    assert [t["order_ref"] for t in tasks] == ["MO-2026-0042", "MO-OTHER"]
    assert tasks[0]["material"] == "API-01" and tasks[0]["to_location"] == "STG-01"
    assert mes.get("/inventory/material-requests/99999").status_code == 404


def test_the_clerk_confirms_a_pick_by_scan_and_a_wrong_container_is_refused_with_the_reason(
        wh: Any, stock: Callable[..., Any], mes: ApiClient, clerk: ApiClient) -> None:
    lot = stock(containers=2, each="25")
    made = mes.post("/inventory/material-requests", body(), key=new_key()).json()
    task = made["tasks"][0]
    other = lot.containers.exclude(code=task["container"]).get()
    wrong = clerk.post(f"/inventory/pick-tasks/{task['task_id']}/confirm", {"scanned": other.code},
                       headers={"Accept-Language": "en"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "wrong_container"
    assert task["container"] in wrong.json()["message"]
    assert not Movement.objects.filter(movement_type="pick").exists()
    done = clerk.post(f"/inventory/pick-tasks/{task['task_id']}/confirm", {"scanned": task["container"]})
    assert done.status_code == 200, done.content
    data = done.json()
    assert data["split"] is True and data["container"] == f"{lot.number}-003"
    assert (data["task"]["status"], data["task"]["picked_container"]) == ("done", data["container"])
    assert data["request"]["status"] == "picked"


def test_the_mes_cannot_confirm_picks(wh: Any, stock: Callable[..., Any], mes: ApiClient) -> None:
    stock()
    task = mes.post("/inventory/material-requests", body(), key=new_key()).json()["tasks"][0]
    response = mes.post(f"/inventory/pick-tasks/{task['task_id']}/confirm", {"scanned": task["container"]},
                        key=new_key())
    assert response.status_code == 403


def test_cancel_and_allocate_again(wh: Any, stock: Callable[..., Any], mes: ApiClient) -> None:
    stock(containers=1, each="5")
    made = mes.post("/inventory/material-requests", body(quantity="10"), key=new_key()).json()
    assert made["status"] == "partial"
    stock(containers=1, each="25")
    again = mes.post(f"/inventory/material-requests/{made['request_id']}/allocate", key=new_key())
    assert again.status_code == 200 and again.json()["status"] == "allocated"
    no_reason = mes.post(f"/inventory/material-requests/{made['request_id']}/cancel", {"reason": ""}, key=new_key())
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    cancelled = mes.post(f"/inventory/material-requests/{made['request_id']}/cancel", {"reason": "order cancelled"},
                         key=new_key())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = mes.post(f"/inventory/material-requests/{made['request_id']}/cancel", {"reason": "again"},
                     key=new_key())
    assert twice.status_code == 409 and twice.json()["code"] == "request_closed"


def test_the_message_literals_are_the_model_choices() -> None:
    assert set(typing.get_args(messages_warehouse.RequestStatusValue)) == set(RequestStatus.values)
    assert set(typing.get_args(messages_warehouse.TaskStatusValue)) == set(TaskStatus.values)


@pytest.mark.req("INT-01", "INT-06")
def test_real_request_pick_cancel_and_consumption_events_conform_to_their_messages(
        wh: Any, stock: Callable[..., Any], release: Callable[..., Any], supervisor: Any) -> None:
    from batchline.inventory import allocation, picking, port

    stock(containers=1, each="25")
    spare = stock(containers=1, each="25")
    made = allocation.request_material(actor=wh.clerk, order_ref="MO-1", material_code="API-01", quantity="30",
                                       unit="kg", need_by=today(), to_location="STG-01")
    task = made.tasks.select_related("container").order_by("pk").first()
    assert task is not None
    done = picking.confirm_pick(actor=wh.clerk, task_id=task.pk, scanned=task.container.code, quantity="20",
                                reason="only 20 kg in the drum")
    port.warehouse().confirm_consumption(actor=wh.clerk, order_ref="MO-1", container=done.container.code,
                                         quantity="1", unit="kg")
    release(spare, "quarantine")  # takes the second lot's task away: UPDATED
    other = allocation.request_material(actor=wh.clerk, order_ref="MO-2", material_code="API-01", quantity="1",
                                        unit="kg", need_by=today())
    allocation.cancel_request(actor=supervisor, request_id=other.pk, reason="not needed")
    for event_type in (allocation.ALLOCATED, allocation.UPDATED, allocation.CANCELLED, picking.PICK_CONFIRMED,
                       port.CONSUMED, "inventory.movement.pick", "inventory.movement.split_out",
                       "inventory.movement.split_in", "inventory.movement.issue"):
        events = list(OutboxEvent.objects.filter(event_type=event_type))
        assert events, event_type
        for event in events:
            message(event_type).model.model_validate(envelope(event))
