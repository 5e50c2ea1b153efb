"""The stock API: stock views and lot history, the signed lot status change (WMS-03), transfers, returns,
scrap and samples (WMS-07), blind cycle counts with a signed second-person approval, alerts and policies
(WMS-08); Idempotency-Key replays, and bad input refused with a specific 4xx and field, writing nothing."""

from __future__ import annotations

import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from api.helpers import new_key
from batchline.api import warehouse_stock
from batchline.compliance.models import AuditEntry
from batchline.inventory import counting, movements
from batchline.inventory.models import Container, CycleCount, Lot, Movement, StockAlert, StockBalance, StockPolicy
from conftest import PASSWORD


def first(lot: Any) -> Container:
    return Container.objects.filter(lot=lot).order_by("serial")[0]


def signature(user: Any, meaning: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": user.username, "password": password, "meaning": meaning, "comment": ""}


@pytest.fixture
def stocked(wh: Any, receive_released: Callable[..., Any]) -> Any:
    lot = receive_released(containers=2)
    for container in Container.objects.filter(lot=lot):
        movements.transfer(actor=wh.clerk, container=container, to_location="A-01")
    return lot


@pytest.fixture
def clerk_api(wh: Any, session_for: Any) -> Any:
    return session_for(wh.clerk)


@pytest.fixture
def supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("supervisor", username="super")


def test_the_schema_literals_are_the_model_choices() -> None:
    assert set(typing.get_args(warehouse_stock.StateValue)) == warehouse_stock.MODEL_VALUES["state"]
    status = warehouse_stock.LotStatusIn.model_fields["status"].annotation
    assert set(typing.get_args(status)) == warehouse_stock.MODEL_VALUES["status"]
    kinds = set(typing.get_args(warehouse_stock.AlertQuery.model_fields["kind"].annotation)) - {""}
    assert kinds == warehouse_stock.MODEL_VALUES["alert_kind"]


# --- stock and lots -----------------------------------------------------------------------------------------

@pytest.mark.req("WMS-03")
def test_stock_is_listed_with_the_derived_status_and_filtered(wh: Any, stocked: Any, receive: Callable[..., Any],
                                                              clerk_api: Any) -> None:
    receive("EXC-01", containers=1, each="10")
    body = clerk_api.get("/inventory/stock").json()
    assert body["count"] == 3
    assert {(r["container"], r["state"], r["on_hand"]) for r in body["items"]} >= {(first(stocked).code, "released",
                                                                                     "25")}
    quarantined = clerk_api.get("/inventory/stock", status="quarantine").json()
    assert [r["material"] for r in quarantined["items"]] == ["EXC-01"]
    assert clerk_api.get("/inventory/stock", status="bogus").status_code == 422


def test_stock_by_status_and_summary_and_occupancy(wh: Any, stocked: Any, clerk_api: Any) -> None:
    by_status = clerk_api.get("/inventory/stock/by-status").json()
    assert by_status["materials"] == [{"material": "API-01", "material_name_zh": "对乙酰氨基酚",
                                       "material_name_en": "Paracetamol", "unit": "kg",
                                       "by_state": {"released": "50"}, "total": "50"}]
    assert by_status["containers"]["released"] == 2
    [group] = clerk_api.get("/inventory/stock/summary", by="lot").json()
    assert (group["lot"], group["total"], group["containers"]) == (stocked.number, "50", 2)
    cells = {c["location"]: c for c in clerk_api.get("/inventory/locations/occupancy").json()}
    assert cells["A-01"]["state"] == "released" and cells["A-01"]["containers"] == 2
    assert cells["C-01"]["state"] == "empty"


def test_a_lot_comes_with_its_containers_and_full_history(wh: Any, stocked: Any, clerk_api: Any) -> None:
    body = clerk_api.get(f"/inventory/lots/{stocked.number}").json()
    assert body["state"] == "released" and body["on_hand"] == "50"
    assert [c["stock"] for c in body["containers"]] == [[{"location": "A-01", "on_hand": "25", "reserved": "0"}]] * 2
    assert [m["movement_type"] for m in body["movements"]] == ["receipt", "receipt", "transfer", "transfer"]
    assert {m["posted_by"] for m in body["movements"]} == {"clerk"}
    assert clerk_api.get("/inventory/lots/NOPE").status_code == 404


# --- lot status ---------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-03")
def test_qa_changes_a_lot_status_with_a_signature_and_a_replay_changes_nothing(
        wh: Any, receive: Callable[..., Any], session_for: Any) -> None:
    lot = receive(containers=1)
    qa = session_for(wh.qa)
    body = {"status": "released", "reason": "conforms", "reference": "IL-1",
            "signature": signature(wh.qa, "lot_status")}
    key = new_key()
    response = qa.post(f"/inventory/lots/{lot.number}/status", body, key=key)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "released"
    again = qa.post(f"/inventory/lots/{lot.number}/status", body, key=key)
    assert again.json() == response.json() and again["Idempotent-Replayed"] == "true"
    assert AuditEntry.objects.filter(record_type="inventory.lot", record_id=str(lot.pk),
                                     action="change_status").count() == 1


@pytest.mark.req("WMS-03")
@pytest.mark.parametrize(("change", "status", "field"), [
    ({"signature": {"password": "wrong"}}, 401, None),
    ({"signature": {"meaning": "approve"}}, 422, "signature.meaning"),
    ({"status": "restricted"}, 422, "restriction"),
    ({"reason": " "}, 422, "reason"),
    ({"status": "expired"}, 422, "status"),
    ({"extra": 1}, 422, "extra"),
])
def test_a_bad_status_change_is_refused_with_the_field_and_changes_nothing(
        wh: Any, receive: Callable[..., Any], session_for: Any, change: dict[str, Any], status: int,
        field: str | None) -> None:
    lot = receive(containers=1)
    body: dict[str, Any] = {"status": "released", "reason": "conforms", "signature": signature(wh.qa, "lot_status")}
    for name, value in change.items():
        body[name] = {**body[name], **value} if isinstance(value, dict) else value
    response = session_for(wh.qa).post(f"/inventory/lots/{lot.number}/status", body, key=new_key())
    assert response.status_code == status, response.content
    if field:
        assert response.json()["field"] == field
    assert Lot.objects.get(pk=lot.pk).status == "quarantine"


@pytest.mark.req("WMS-03", "WMS-04")
def test_a_status_change_over_the_api_takes_the_lot_out_of_every_allocation(
        wh: Any, stocked: Any, request_for: Callable[..., Any], session_for: Any) -> None:
    from batchline.inventory.models import PickTask

    request_for("API-01", "30")
    assert PickTask.objects.filter(lot=stocked, status="open").exists()
    response = session_for(wh.qa).post(f"/inventory/lots/{stocked.number}/status", {
        "status": "quarantine", "reason": "customer complaint, retest", "reference": "DEV-2026-004",
        "signature": signature(wh.qa, "lot_status")}, key=new_key())
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "quarantine" and response.json()["state"] == "quarantine"
    assert not PickTask.objects.filter(lot=stocked, status="open").exists()
    assert not StockBalance.objects.filter(lot=stocked, reserved__gt=0).exists()


def test_a_clerk_may_not_change_a_lot_status(wh: Any, receive: Callable[..., Any], clerk_api: Any) -> None:
    lot = receive(containers=1)
    response = clerk_api.post(f"/inventory/lots/{lot.number}/status", {
        "status": "released", "reason": "x", "signature": signature(wh.clerk, "lot_status")}, key=new_key())
    assert response.status_code == 403


# --- movements -----------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_transfer_by_label_scan_and_its_replay(wh: Any, stocked: Any, clerk_api: Any) -> None:
    container = first(stocked)
    key = new_key()
    body = {"container": container.code, "to_location": "DSP-01", "quantity": "5"}
    response = clerk_api.post("/inventory/transfers", body, key=key)
    assert response.status_code == 200, response.content
    moved = response.json()
    assert [(m["movement_type"], m["from_location"], m["to_location"], m["quantity"]) for m in moved["movements"]] \
        == [("transfer", "A-01", "DSP-01", "5")]
    assert moved["container_stock"] == [{"location": "A-01", "on_hand": "20", "reserved": "0"},
                                        {"location": "DSP-01", "on_hand": "5", "reserved": "0"}]
    assert clerk_api.post("/inventory/transfers", body, key=key).json() == moved
    assert Movement.objects.filter(movement_type="transfer", to_location__code="DSP-01").count() == 1


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"container": "NOPE"}, 404, "container"),
    ({"to_location": "NOPE"}, 404, "to_location"),
    ({"quantity": "-1"}, 422, "quantity"),
    ({"quantity": 5}, 422, "quantity"),
    ({"quantity": "99"}, 409, None),
    ({"to_location": "REJ-01"}, 409, "to_location"),
])
def test_a_bad_transfer_is_refused_with_a_specific_status_and_field(wh: Any, stocked: Any, clerk_api: Any,
                                                                    body: dict[str, Any], status: int,
                                                                    field: str | None) -> None:
    before = Movement.objects.count()
    response = clerk_api.post("/inventory/transfers", {"container": first(stocked).code, "to_location": "A-02",
                                                       **body}, key=new_key())
    assert response.status_code == status, response.content
    if field:
        assert response.json()["field"] == field
    assert Movement.objects.count() == before


@pytest.mark.req("WMS-07")
def test_return_scrap_and_sample_over_the_api(wh: Any, stocked: Any, clerk_api: Any) -> None:
    one, two = Container.objects.filter(lot=stocked).order_by("serial")
    movements.transfer(actor=wh.clerk, container=one, to_location="LS-01")
    returned = clerk_api.post("/inventory/returns", {
        "container": one.code, "to_location": "A-02", "reweighed_quantity": "24.5", "reason_code": "surplus",
        "reason": "weighing losses", "order_ref": "MO-1"}, key=new_key())
    assert returned.status_code == 200, returned.content
    assert [m["movement_type"] for m in returned.json()["movements"]] == ["count_loss", "return"]
    sampled = clerk_api.post("/inventory/samples", {"container": two.code, "quantity": "50", "unit": "g",
                                                    "reason_code": "qc_sample", "reference": "IL-7"}, key=new_key())
    assert sampled.status_code == 200 and sampled.json()["movements"][0]["quantity"] == "0.05"
    scrapped = clerk_api.post("/inventory/scraps", {"container": two.code, "reason_code": "damaged",
                                                    "reason": "drum punctured"}, key=new_key())
    assert scrapped.status_code == 200 and scrapped.json()["container_stock"] == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/inventory/scraps", {"reason_code": "damaged", "reason": ""}, "reason"),
    ("/inventory/scraps", {"reason_code": "burnt", "reason": "x"}, "reason_code"),
    ("/inventory/samples", {"quantity": "1", "reason_code": "qc_sample"}, "reference"),
    ("/inventory/samples", {"quantity": "abc", "reason_code": "retention_sample"}, "quantity"),
    ("/inventory/returns", {"to_location": "A-02", "reweighed_quantity": "1", "reason_code": "surplus"},
     "container"),
])
def test_bad_movements_are_refused_with_the_field(wh: Any, stocked: Any, clerk_api: Any, path: str,
                                                  body: dict[str, Any], field: str) -> None:
    before = Movement.objects.count()
    response = clerk_api.post(path, {"container": first(stocked).code, **body}, key=new_key())
    assert 400 <= response.status_code < 500 and response.json()["field"] == field, response.content
    assert Movement.objects.count() == before


def test_token_callers_must_send_an_idempotency_key(wh: Any, stocked: Any, token_for: Any) -> None:
    api = token_for(wh.clerk, ["inventory.*"])
    response = api.post("/inventory/transfers", {"container": first(stocked).code, "to_location": "A-02"})
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"
    assert api.post("/inventory/transfers", {"container": first(stocked).code, "to_location": "A-02"},
                    key=new_key()).status_code == 200


# --- cycle counts ---------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_blind_count_approved_by_a_second_person_with_a_signature(wh: Any, stocked: Any, clerk_api: Any,
                                                                    supervisor: Any, session_for: Any) -> None:
    opened = clerk_api.post("/inventory/cycle-counts", {"location": "A-01"}, key=new_key())
    assert opened.status_code == 201, opened.content
    count = opened.json()
    assert {line["expected"] for line in count["lines"]} == {None}  # blind
    one, two = Container.objects.filter(lot=stocked).order_by("serial")
    entered = clerk_api.post(f"/inventory/cycle-counts/{count['id']}/entries",
                             {"lines": {one.code: "25", two.code: "26"}}, key=new_key())
    assert entered.status_code == 200 and entered.json()["status"] == "counted"
    assert {line["expected"] for line in entered.json()["lines"]} == {None}  # the counter still does not see it
    boss = session_for(supervisor)
    seen = boss.get(f"/inventory/cycle-counts/{count['id']}").json()
    assert {line["container"]: line["difference"] for line in seen["lines"]} == {one.code: "0", two.code: "1"}
    refused = clerk_api.post(f"/inventory/cycle-counts/{count['id']}/approve",
                             {"reason": "x", "signature": signature(wh.clerk, "approve")}, key=new_key())
    assert refused.status_code == 403
    approved = boss.post(f"/inventory/cycle-counts/{count['id']}/approve",
                         {"reason": "found an extra kilo", "signature": signature(supervisor, "approve")},
                         key=new_key())
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    gain = Movement.objects.get(reference=count["number"])
    assert (gain.movement_type, gain.quantity) == ("count_gain", Decimal("1"))


def test_a_count_entry_must_cover_every_container(wh: Any, stocked: Any, clerk_api: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    response = clerk_api.post(f"/inventory/cycle-counts/{count.pk}/entries", {"lines": {first(stocked).code: "25"}},
                              key=new_key())
    assert response.status_code == 422 and response.json()["code"] == "count_incomplete"
    assert CycleCount.objects.get(pk=count.pk).status == "open"


def test_a_count_is_rejected_with_a_reason(wh: Any, stocked: Any, supervisor: Any, session_for: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    boss = session_for(supervisor)
    assert boss.post(f"/inventory/cycle-counts/{count.pk}/reject", {"reason": ""},
                     key=new_key()).json()["field"] == "reason"
    response = boss.post(f"/inventory/cycle-counts/{count.pk}/reject", {"reason": "wrong bay"}, key=new_key())
    assert response.json()["status"] == "rejected"
    assert boss.get("/inventory/cycle-counts", status="rejected").json()[0]["number"] == count.number
    assert boss.get("/inventory/cycle-counts/99999").status_code == 404


# --- alerts and policies ------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-08")
def test_a_policy_is_put_and_its_alert_listed(wh: Any, supervisor: Any, session_for: Any, clerk_api: Any) -> None:
    from batchline.inventory import alerts

    boss = session_for(supervisor)
    key = new_key()
    response = boss.put("/inventory/stock-policies/EXC-01", {"safety_stock": "40"}, key=key)
    assert response.status_code == 200, response.content
    assert response.json()["safety_stock"] == "40" and response.json()["expiry_warning_days"] == 90
    assert boss.put("/inventory/stock-policies/EXC-01", {"safety_stock": "40"}, key=key).json() == response.json()
    assert StockPolicy.objects.count() == 1
    changed = boss.put("/inventory/stock-policies/EXC-01", {"safety_stock": "60"}, key=new_key())
    assert changed.status_code == 422 and changed.json()["field"] == "reason"
    alerts.evaluate_alerts()
    [alert] = clerk_api.get("/inventory/alerts").json()
    assert (alert["kind"], alert["material"], alert["details"]["safety_stock"]) == ("safety_stock", "EXC-01", "40")
    assert clerk_api.get("/inventory/alerts", kind="expiry").json() == []
    assert [p["material"] for p in clerk_api.get("/inventory/stock-policies").json()] == ["EXC-01"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"safety_stock": "-3"}, 422, "safety_stock"),
    ({"expiry_warning_days": "30"}, 422, "expiry_warning_days"),
    ({"slow_moving_days": -1}, 422, "slow_moving_days"),
    ({"unit": "L", "safety_stock": "1"}, 422, "unit"),
])
def test_a_bad_policy_is_refused_with_the_field(wh: Any, supervisor: Any, session_for: Any, body: dict[str, Any],
                                                status: int, field: str) -> None:
    response = session_for(supervisor).put("/inventory/stock-policies/EXC-01", body, key=new_key())
    assert (response.status_code, response.json()["field"]) == (status, field), response.content
    assert not StockPolicy.objects.exists()


def test_a_policy_for_an_unknown_material_is_not_found(wh: Any, supervisor: Any, session_for: Any) -> None:
    response = session_for(supervisor).put("/inventory/stock-policies/NOPE", {}, key=new_key())
    assert (response.status_code, response.json()["field"]) == (404, "material")
    assert not StockAlert.objects.exists() and not StockBalance.objects.filter(on_hand__lt=0).exists()


# --- outbound messages ----------------------------------------------------------------------------------------

@pytest.mark.req("INT-06")
def test_movement_alert_and_count_events_conform_to_their_published_schemas(
        wh: Any, stocked: Any, supervisor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from batchline.api.messages import message
    from batchline.compliance.signatures import SignatureRequest
    from batchline.core import clock
    from batchline.core.models import OutboxEvent
    from batchline.core.outbox import envelope
    from batchline.inventory import alerts

    one, two = Container.objects.filter(lot=stocked).order_by("serial")
    movements.transfer(actor=wh.clerk, container=one, to_location="LS-01")
    movements.return_to_stock(actor=wh.clerk, container=one, to_location="A-02", reweighed_quantity="24",
                              reason_code="surplus", reason="spilt")
    movements.withdraw_sample(actor=wh.clerk, container=two, quantity="0.1", reason_code="qc_sample",
                              reference="IL-1")
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={two.code: "25"})
    counting.approve_count(actor=supervisor, count_id=count.pk, reason="found",
                           signature=SignatureRequest(password=PASSWORD, meaning="approve",
                                                      username=supervisor.username))
    movements.scrap(actor=wh.clerk, container=one, reason_code="damaged", reason="dropped")
    alerts.set_stock_policy(actor=supervisor, material="API-01", safety_stock="1000")
    alerts.evaluate_alerts()
    later = clock.now() + timedelta(days=400)
    monkeypatch.setattr(clock, "now", lambda: later)
    alerts.set_stock_policy(actor=supervisor, material="API-01", safety_stock="", reason="no longer stocked")
    alerts.evaluate_alerts()
    kinds = ["inventory.movement.transfer", "inventory.movement.return", "inventory.movement.count_loss",
             "inventory.movement.count_gain", "inventory.movement.sample", "inventory.movement.scrap",
             "inventory.count.approved", "inventory.alert.raised", "inventory.alert.cleared"]
    for event_type in kinds:
        events = list(OutboxEvent.objects.filter(event_type=event_type))
        assert events, event_type
        for event in events:
            message(event_type).model.model_validate(envelope(event))
    raised = {e.payload["kind"] for e in OutboxEvent.objects.filter(event_type="inventory.alert.raised")}
    assert {"safety_stock", "retest", "slow_moving"} <= raised
