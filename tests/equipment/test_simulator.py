"""The device simulator is a real OPC UA server built from the official NodeSets (EQ-04): the balance is a
Scales LaboratoryScaleType object, a new load settles from unstable to stable, and the press serves the
nested PackML state machines."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client, ua

from batchline.equipment import opcua
from batchline.equipment.simulator import SIM_NS, SimulatorError, balance_node_id, nodeset_paths, press_node_ids


def browse(endpoint: str, work: Any) -> Any:
    async def run() -> Any:
        async with Client(endpoint) as client:
            return await work(client)

    return asyncio.run(run())


def wait_for(condition: Any, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.req("EQ-04")
def test_the_official_nodesets_are_loaded_in_order_from_the_standards_folder(sim: Any) -> None:
    namespaces = browse(sim.endpoint, lambda client: client.get_namespace_array())

    official = [uri for uri in namespaces[1:] if uri.startswith("http://opcfoundation.org/UA/")]
    assert official == ["http://opcfoundation.org/UA/DI/", "http://opcfoundation.org/UA/Machinery/",
                        "http://opcfoundation.org/UA/PackML/", "http://opcfoundation.org/UA/Scales"]
    assert SIM_NS in namespaces
    assert sim.load_seconds is not None and sim.load_seconds > 0
    assert [p.name for p in nodeset_paths()] == ["Opc.Ua.Di.NodeSet2.xml", "Opc.Ua.Machinery.NodeSet2.xml",
                                                 "Opc.Ua.PackML.NodeSet2.xml", "Opc.Ua.Scales.NodeSet2.xml"]


@pytest.mark.req("EQ-04")
def test_a_simulated_balance_is_a_laboratory_scale_of_the_scales_model(sim: Any) -> None:
    async def type_of(client: Client) -> tuple[str, str]:
        namespaces = await client.get_namespace_array()
        node = client.get_node(ua.NodeId("BAL-01", namespaces.index(SIM_NS)))
        definition = client.get_node(await node.read_type_definition())
        name = await definition.read_browse_name()
        return namespaces[name.NamespaceIndex], name.Name

    assert browse(sim.endpoint, type_of) == ("http://opcfoundation.org/UA/Scales", "LaboratoryScaleType")


def test_the_standards_folder_comes_from_the_setting_and_its_absence_is_a_clear_error(
        settings: Any, tmp_path: Path) -> None:
    settings.BATCHLINE_STANDARDS_DIR = tmp_path

    with pytest.raises(SimulatorError, match="BATCHLINE_STANDARDS_DIR"):
        nodeset_paths()


def test_a_new_load_is_unstable_while_it_settles_then_stable_on_its_value(sim: Any) -> None:
    sim.place("BAL-01", "7.5", settle_seconds=1.5)

    assert not opcua.read_balance(sim.endpoint, balance_node_id("BAL-01")).stable
    settled = wait_for(lambda: (r := opcua.read_balance(sim.endpoint, balance_node_id("BAL-01"))).stable and r)
    assert settled.weight == Decimal("7.5")


def test_a_client_can_place_a_load_through_the_simulated_load_node(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def place(client: Client) -> None:
        namespaces = await client.get_namespace_array()
        node = client.get_node(ua.NodeId("BAL-02.SimulatedLoad", namespaces.index(SIM_NS)))
        await node.write_value(ua.Variant(1.25, ua.VariantType.Double))

    monkeypatch.setattr(sim.balances["BAL-02"], "settle_seconds", 0.2)
    browse(sim.endpoint, place)

    settled = wait_for(lambda: (r := opcua.read_balance(sim.endpoint, balance_node_id("BAL-02"))).stable
                       and r.weight == Decimal("1.25") and r)
    assert settled.unit == "g"


@pytest.mark.req("EQ-05")
def test_an_execute_state_runs_inside_running_inside_cleared(sim: Any) -> None:
    sim.set_state("TP-01", "Execute")
    base = press_node_ids("TP-01")["packml_state"].removesuffix("BaseStateMachine") + "BaseStateMachine"
    nodes = [f"{base}.CurrentState", f"{base}.MachineState.CurrentState",
             f"{base}.MachineState.ExecuteState.CurrentState"]

    read = opcua.read_tags(sim.endpoint, nodes)

    assert [read[n].value for n in nodes] == ["Cleared", "Running", "Execute"]


def test_a_stopped_machine_has_no_active_execute_state(sim: Any) -> None:
    sim.set_state("TP-01", "Stopped")
    node = press_node_ids("TP-01")["packml_state"] + ".MachineState.ExecuteState.CurrentState"

    assert opcua.read_tags(sim.endpoint, [node])[node].status_code == "BadStateNotActive"


def test_an_unknown_state_is_refused(sim: Any) -> None:
    with pytest.raises(SimulatorError):
        sim.set_state("TP-01", "Dancing")
