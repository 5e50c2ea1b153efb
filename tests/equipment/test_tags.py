"""PLC values per equipment over OPC UA (EQ-04, EQ-05, AC-06): the audited tag mapping, live process values
with quality and limits, and the PackML states and counters collected for OEE, idempotently."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from batchline.compliance.models import AuditEntry
from batchline.core.errors import InvalidInput, PermissionDenied, ReasonRequired
from batchline.core.models import OutboxEvent
from batchline.equipment import tags
from batchline.equipment.balances import DeviceNotRegistered
from batchline.equipment.errors import EquipmentRetired, NoChange
from batchline.equipment.models import CountSample, EquipmentTag, StateEvent
from batchline.equipment.opcua import DeviceUnreachable, InvalidNodeId
from batchline.equipment.register import change_equipment, retire_equipment
from batchline.equipment.simulator import press_node_ids
from batchline.equipment.tags import DeviceNotQualified, TagKindTaken, collect_states_and_counts, save_tag
from equipment.devices import PRESS, press_fixture  # noqa: F401
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

NODES = press_node_ids("TP-01")


def last_audit(tag: Any) -> Any:
    return AuditEntry.objects.filter(record_type="equipment.equipmenttag", record_id=str(tag.pk)).order_by(
        "sequence").last()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


# --- the mapping ---------------------------------------------------------------------------------

def test_a_mapping_is_created_and_changed_with_a_reason_in_the_audit_trail(eq: Any, press: Any) -> None:
    outcome, tag = save_tag(actor=eq.manager, equipment_code="TP-01", name="turret_speed", kind="process_value",
                            node_id=NODES["turret_speed"], high_limit="60", reason="Upper limit per SOP-TP-004")

    assert outcome == "updated" and tag.high_limit == Decimal("60")
    entry = last_audit(tag)
    assert entry.action == "update" and entry.reason == "Upper limit per SOP-TP-004"
    assert OutboxEvent.objects.filter(event_type=tags.TAG_SAVED).count() == 6  # five created, one updated
    with pytest.raises(ReasonRequired):
        save_tag(actor=eq.manager, equipment_code="TP-01", name="turret_speed", kind="process_value",
                 node_id=NODES["turret_speed"], high_limit="65")
    with pytest.raises(NoChange):
        save_tag(actor=eq.manager, equipment_code="TP-01", name="turret_speed", kind="process_value",
                 node_id=NODES["turret_speed"], high_limit="60", reason="again")


def test_a_mapping_is_removed_with_a_reason_and_its_values_stay_in_the_audit_trail(eq: Any, press: Any) -> None:
    tag = EquipmentTag.objects.get(equipment=press, name="turret_speed")

    tags.remove_tag(actor=eq.manager, equipment_code="TP-01", name="turret_speed", reason="Sensor removed")

    assert not EquipmentTag.objects.filter(pk=tag.pk).exists()
    entry = last_audit(tag)
    assert entry.action == "delete" and entry.reason == "Sensor removed" and NODES["turret_speed"] in entry.changes


@pytest.mark.parametrize(("data", "error", "field"), [
    ({"name": "Bad Name"}, InvalidInput, "name"),
    ({"node_id": "TP-01.Force"}, InvalidNodeId, "node_id"),
    ({"kind": "gauge"}, InvalidInput, "kind"),
    ({"low_limit": "10", "high_limit": "5"}, InvalidInput, "high_limit"),
    ({"low_limit": 1.5}, InvalidInput, "low_limit"),
])
def test_an_invalid_mapping_is_refused(eq: Any, press: Any, data: dict[str, Any], error: type, field: str) -> None:
    values = {"name": "inlet_temperature", "kind": "process_value", "node_id": "nsu=urn:plc;s=T1", **data}

    with pytest.raises(error) as refused:
        save_tag(actor=eq.manager, equipment_code="TP-01", **values)
    assert refused.value.field == field


def test_an_equipment_has_one_state_and_one_of_each_counter(eq: Any, press: Any) -> None:
    with pytest.raises(TagKindTaken):
        save_tag(actor=eq.manager, equipment_code="TP-01", name="state2", kind="state", node_id="ns=2;s=S")


def test_mapping_needs_the_manage_permission(eq: Any, press: Any) -> None:
    with pytest.raises(PermissionDenied):
        save_tag(actor=eq.operator, equipment_code="TP-01", name="x", kind="process_value", node_id="ns=2;s=X")


# --- live values ---------------------------------------------------------------------------------

@pytest.mark.req("EQ-04")
def test_process_values_carry_quality_source_time_and_their_limits(eq: Any, press: Any, sim: Any) -> None:
    sim.set_process_value("TP-01", "CompressionForce", "17.25")  # high limit 16 kN
    sim.set_process_value("TP-01", "TurretSpeed", "50", status="UncertainSensorNotAccurate")
    sim.set_state("TP-01", "Execute")

    values = {v.name: v for v in tags.read_process_values("TP-01")}

    force = values["compression_force"]
    assert (force.value, force.good, force.within_limits) == (Decimal("17.25"), True, False)
    assert force.source_timestamp is not None
    speed = values["turret_speed"]
    assert (speed.good, speed.status_code, speed.within_limits) == (False, "UncertainSensorNotAccurate", None)
    assert values["packml_state"].value == "Execute"


def test_a_value_inside_its_limits_is_within_limits(eq: Any, press: Any, sim: Any) -> None:
    sim.set_process_value("TP-01", "CompressionForce", "12.00")

    force = next(v for v in tags.read_process_values("TP-01") if v.name == "compression_force")

    assert force.within_limits is True and force.value == Decimal("12.0")


# --- states and counts ---------------------------------------------------------------------------

@pytest.mark.req("EQ-05", "EQ-04")
def test_states_and_counts_are_collected_with_their_source_time_once(eq: Any, press: Any, sim: Any) -> None:
    sim.set_state("TP-01", "Execute", at=at(1, 0))
    sim.add_counts("TP-01", good=1200, reject=12, at=at(1, 30))

    first = collect_states_and_counts("TP-01")
    again = collect_states_and_counts("TP-01")

    assert (first.state, first.states_added, first.counts_added, first.refused) == ("Execute", 1, 1, [])
    assert (again.states_added, again.counts_added) == (0, 0)
    event = StateEvent.objects.get(equipment=press)
    assert (event.state, event.source_timestamp) == ("Execute", at(1, 0))
    sample = CountSample.objects.get(equipment=press)
    assert sample.source_timestamp == at(1, 30) and sample.good_count - sample.reject_count > 0


@pytest.mark.req("EQ-05")
def test_a_state_change_adds_an_event_and_an_unchanged_state_does_not(eq: Any, press: Any, sim: Any) -> None:
    sim.set_state("TP-01", "Execute", at=at(1, 0))
    collect_states_and_counts("TP-01")
    sim.set_state("TP-01", "Execute", at=at(1, 5))  # written again, same state
    collect_states_and_counts("TP-01")
    sim.set_state("TP-01", "Held", at=at(1, 10))
    collect_states_and_counts("TP-01")

    assert list(StateEvent.objects.filter(equipment=press).values_list("state", flat=True)) == ["Execute", "Held"]


@pytest.mark.req("EQ-04", "EQ-05")
def test_a_bad_count_is_not_stored(eq: Any, press: Any, sim: Any) -> None:
    save_tag(actor=eq.manager, equipment_code="TP-01", name="reject_count", kind="reject_count",
             node_id="nsu=urn:batchline:simulator;s=TP-01.Missing", reason="Wrong node on purpose")

    result = collect_states_and_counts("TP-01")

    assert result.counts_added == 0 and result.refused == ["reject_count: BadNodeIdUnknown"]
    assert not CountSample.objects.exists()


@pytest.mark.req("AC-06")
def test_only_registered_active_qualified_equipment_delivers_data(eq: Any, press: Any, register: Any,
                                                                 sim: Any) -> None:
    with pytest.raises(DeviceNotRegistered):
        collect_states_and_counts("TP-99")
    register(PRESS, code="TP-02", opcua_endpoint=sim.endpoint)  # never qualified
    save_tag(actor=eq.manager, equipment_code="TP-02", name="packml_state", kind="state", node_id=NODES["packml_state"])
    with pytest.raises(DeviceNotQualified):
        collect_states_and_counts("TP-02")
    retire_equipment(actor=eq.manager, equipment_id=press.pk, reason="Sold")
    with pytest.raises(EquipmentRetired):
        tags.read_process_values("TP-01")


@pytest.mark.req("EQ-04")
def test_the_poller_reports_a_lost_device_and_goes_on_with_the_others(eq: Any, press: Any, register: Any,
                                                                      qualify: Any, sim: Any,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    lost = register(PRESS, code="TP-02", opcua_endpoint=f"opc.tcp://127.0.0.1:{free_port()}/")
    qualify(lost)
    save_tag(actor=eq.manager, equipment_code="TP-02", name="packml_state", kind="state", node_id=NODES["packml_state"])
    sim.set_state("TP-01", "Execute", at=at(2, 0))
    poller = tags.DevicePoller(interval=0.01)

    with caplog.at_level(logging.WARNING, logger="batchline.equipment.tags"), translation.override("en"):
        health = poller.poll_once()

    assert health["TP-01"].ok and not health["TP-02"].ok
    assert "cannot be reached" in health["TP-02"].message
    assert "TP-02" in caplog.text
    assert StateEvent.objects.filter(equipment=press, state="Execute").exists()


def test_an_unexpected_failure_of_one_device_does_not_skip_the_devices_after_it(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    collected: list[str] = []

    def collect(code: str) -> Any:
        if code == "TP-01":
            raise RuntimeError("driver bug")
        collected.append(code)
        return tags.CollectResult(equipment=code, state=None, states_added=0, counts_added=0)

    monkeypatch.setattr(tags, "collect_states_and_counts", collect)
    poller = tags.DevicePoller(interval=0.01, codes=["TP-01", "TP-02"])
    with caplog.at_level(logging.ERROR, logger="batchline.equipment.tags"):
        health = poller.poll_once()
    assert collected == ["TP-02"]
    assert not health["TP-01"].ok and "driver bug" in health["TP-01"].message
    assert health["TP-02"].ok
    assert "TP-01: polling failed unexpectedly" in caplog.text


def test_the_poller_runs_until_stopped(eq: Any, press: Any, sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    rounds: list[int] = []
    poller = tags.DevicePoller(interval=0.01, codes=["TP-01"])

    def poll_once() -> dict[str, Any]:
        rounds.append(1)
        if len(rounds) == 3:
            stop.set()
        return {}

    monkeypatch.setattr(poller, "poll_once", poll_once)
    poller.run(stop)

    assert len(rounds) == 3


def test_a_device_not_reachable_is_an_error_not_an_empty_result(eq: Any, press: Any) -> None:
    change_equipment(actor=eq.manager, equipment_id=press.pk,
                     data={"opcua_endpoint": f"opc.tcp://127.0.0.1:{free_port()}/"}, reason="PLC replaced")

    with pytest.raises(DeviceUnreachable):
        collect_states_and_counts("TP-01")
