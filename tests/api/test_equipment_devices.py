"""The balances, PLC values and OEE over the API (EQ-04, EQ-05, AC-06, MES-14): the same rules as the
services, against the real OPC UA device simulator; device failures are 502, bad values 409."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.helpers import new_key
from batchline.api.messages import message
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope
from batchline.equipment import balances, tags
from batchline.equipment.models import BalanceCheck
from batchline.equipment.simulator import press_node_ids
from batchline.equipment.tags import collect_states_and_counts
from equipment.devices import balance_fixture, checked_fixture, press_fixture  # noqa: F401
from equipment.plant import (  # noqa: F401
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)
from plugins.opcua import free_port

TW = {"weight_id": "TW-2KG", "nominal": "2", "tolerance": "0.002"}


@pytest.mark.req("EQ-04")
def test_the_live_reading_shows_weight_stability_status_and_source_time(eq: Any, balance: Any, sim: Any,
                                                                       session_for: Any) -> None:
    sim.set_weight("BAL-01", "4.321", stable=False)

    body = session_for(eq.operator).get("/equipment/BAL-01/balance/reading").json()

    assert (body["weight"], body["unit"], body["stable"], body["status_code"], body["good"]) == (
        "4.321", "kg", False, "Good", True)
    assert body["source_timestamp"] is not None


@pytest.mark.req("EQ-04", "MES-14")
def test_a_weight_is_accepted_or_refused_by_the_same_rules_as_the_service(eq: Any, checked: Any, sim: Any,
                                                                         session_for: Any) -> None:
    api = session_for(eq.operator)
    sim.set_weight("BAL-01", "12.5")
    accepted = api.get("/equipment/BAL-01/balance/weight")
    assert accepted.status_code == 200
    assert (accepted.json()["net"], accepted.json()["unit"]) == ("12.5", "kg")

    sim.set_status("BAL-01", "BadSensorFailure")
    refused = api.get("/equipment/BAL-01/balance/weight")
    assert refused.status_code == 409 and refused.json()["code"] == "device_value_not_good"

    sim.set_status("BAL-01", "Good")
    sim.set_weight("BAL-01", "12.5", stable=False)
    assert api.get("/equipment/BAL-01/balance/weight").json()["code"] == "weight_not_stable"


@pytest.mark.req("AC-06")
def test_a_balance_that_is_not_registered_is_refused(eq: Any, session_for: Any) -> None:
    response = session_for(eq.operator).get("/equipment/BAL-09/balance/weight")

    assert response.status_code == 404 and response.json()["code"] == "device_not_registered"


@pytest.mark.req("EQ-04")
def test_an_unreachable_balance_is_a_502(eq: Any, balance: Any, session_for: Any) -> None:
    from batchline.equipment.register import change_equipment

    change_equipment(actor=eq.manager, equipment_id=balance.pk,
                     data={"opcua_endpoint": f"opc.tcp://127.0.0.1:{free_port()}/"}, reason="Moved")

    response = session_for(eq.operator).get("/equipment/BAL-01/balance/reading")

    assert response.status_code == 502 and response.json()["code"] == "device_unreachable"


@pytest.mark.req("EQ-04")
def test_a_malformed_endpoint_in_the_register_is_a_502_not_a_500(eq: Any, balance: Any, session_for: Any) -> None:
    from batchline.equipment.register import change_equipment

    change_equipment(actor=eq.manager, equipment_id=balance.pk, data={"opcua_endpoint": "opc.tcp://"},
                     reason="Typo")

    response = session_for(eq.operator).get("/equipment/BAL-01/balance/reading")

    assert response.status_code == 502 and response.json()["code"] == "device_unreachable"


@pytest.mark.req("EQ-04")
def test_the_daily_check_is_recorded_once_per_idempotency_key(eq: Any, balance: Any, sim: Any,
                                                             session_for: Any) -> None:
    api = session_for(eq.operator)
    sim.set_weight("BAL-01", "2.001")
    key = new_key()

    first = api.post("/equipment/BAL-01/balance/daily-checks", {"points": [TW]}, key=key)
    again = api.post("/equipment/BAL-01/balance/daily-checks", {"points": [TW]}, key=key)

    assert first.status_code == 201 and again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    point = first.json()["points"][0]
    assert (point["reading"], point["source"], point["status_code"], point["passed"]) == (
        "2.001", "balance", "Good", True)
    assert BalanceCheck.objects.count() == 1
    history = api.get("/equipment/BAL-01/balance/daily-checks").json()
    assert history["count"] == 1 and history["today"]["usable"] is True


def test_a_token_caller_must_send_an_idempotency_key(eq: Any, balance: Any, issue_token: Any, anonymous: Any) -> None:
    secret = issue_token(eq.operator, scopes=["equipment.*"])
    anonymous.headers["Authorization"] = f"Bearer {secret}"

    response = anonymous.post("/equipment/BAL-01/balance/daily-checks", {"points": [{**TW, "reading": "2"}]})

    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"


def test_a_float_in_a_daily_check_is_refused(eq: Any, balance: Any, session_for: Any) -> None:
    response = session_for(eq.operator).post("/equipment/BAL-01/balance/daily-checks",
                                             {"points": [{**TW, "nominal": 2.0}]})

    assert response.status_code == 422


@pytest.mark.req("EQ-04")
def test_tag_mappings_are_saved_changed_and_removed_by_a_manager_only(eq: Any, press: Any,
                                                                      session_for: Any) -> None:
    manager = session_for(eq.manager)
    body = {"kind": "process_value", "node_id": "nsu=urn:plc;s=TP-01.Temp", "unit": "kg", "low_limit": "1"}

    assert manager.put("/equipment/TP-01/tags/punch_temperature", body).status_code == 201
    assert manager.put("/equipment/TP-01/tags/punch_temperature", {**body, "high_limit": "9"}).json()["code"] == (
        "reason_required")
    changed = manager.put("/equipment/TP-01/tags/punch_temperature", {**body, "high_limit": "9", "reason": "SOP"})
    assert changed.status_code == 200 and changed.json()["high_limit"] == "9"
    assert session_for(eq.operator).put("/equipment/TP-01/tags/x", body).status_code == 403
    removed = manager.post("/equipment/TP-01/tags/punch_temperature/remove", {"reason": "Sensor removed"})
    assert removed.status_code == 204
    names = [t["name"] for t in manager.get("/equipment/TP-01/tags").json()]
    assert "punch_temperature" not in names and "packml_state" in names


@pytest.mark.req("EQ-04")
def test_process_values_come_with_status_source_time_and_limits(eq: Any, press: Any, sim: Any,
                                                                session_for: Any) -> None:
    sim.set_process_value("TP-01", "CompressionForce", "7.5")  # low limit 8 kN

    values = {v["name"]: v for v in session_for(eq.operator).get("/equipment/TP-01/process-values").json()}

    force = values["compression_force"]
    assert (force["value"], force["good"], force["within_limits"], force["status_code"]) == ("7.5", True, False,
                                                                                          "Good")
    assert values["packml_state"]["value"] == "Idle"


@pytest.mark.req("EQ-05")
def test_oee_per_shift_of_a_day(eq: Any, press: Any, sim: Any, session_for: Any, at: Any) -> None:
    sim.set_state("TP-01", "Execute", at=datetime(2026, 3, 1, 22, 0, tzinfo=UTC))  # 06:00 site
    sim.add_counts("TP-01", at=datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    collect_states_and_counts("TP-01")
    sim.add_counts("TP-01", good=297_000, reject=3_000, at=datetime(2026, 3, 1, 23, 40, tzinfo=UTC))
    collect_states_and_counts("TP-01")
    at.set(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))  # 08:00 site: two hours into the early shift

    shifts = session_for(eq.operator).get("/equipment/TP-01/oee", day="2026-03-02").json()

    early = shifts[0]
    assert (early["shift"], early["started"], early["run_seconds"], early["good"], early["reject"]) == (
        "A", True, "7200", 297_000, 3_000)
    assert (early["availability"], early["performance"], early["quality"], early["oee"]) == (
        "1.0000", "0.8333", "0.9900", "0.8250")  # 300 000 / (3000 × 120): 0.8333; × 0.99 = 0.825
    assert [s["started"] for s in shifts] == [True, False, False]


@pytest.mark.req("EQ-04")
def test_the_device_events_conform_to_their_message_schemas(eq: Any, press: Any, balance: Any) -> None:
    balances.perform_daily_check(actor=eq.operator, equipment_code="BAL-01", points=[{**TW, "reading": "2.004"}])
    tags.save_tag(actor=eq.manager, equipment_code="TP-01", name="turret_speed", kind="process_value",
                  node_id=press_node_ids("TP-01")["turret_speed"], unit="kg", high_limit="60", reason="Limit")
    tags.remove_tag(actor=eq.manager, equipment_code="TP-01", name="turret_speed", reason="Removed")

    for event_type in (balances.CHECK_RECORDED, tags.TAG_SAVED, tags.TAG_REMOVED):
        events = OutboxEvent.objects.filter(event_type=event_type)
        assert events.exists()
        for event in events:
            message(event_type).model.model_validate(envelope(event))
    assert OutboxEvent.objects.get(event_type=balances.CHECK_RECORDED).payload["result"] == "fail"


def test_the_device_message_literals_are_the_model_choices() -> None:
    import typing

    from batchline.api import equipment_devices, messages_equipment
    from batchline.equipment.choices import TagKind

    kinds = set(TagKind.values)
    assert set(typing.get_args(messages_equipment.TagPayload.model_fields["kind"].annotation)) == kinds
    assert set(typing.get_args(equipment_devices.TagKindValue)) == kinds
