"""The OPC UA client against a real asyncua server loaded with the official NodeSets (EQ-04): the Scales
model's weight, unit, stability, tare and serial number with status code and timestamps; PLC values and
PackML states; and every way a device can fail is reported as an error, never as a silent None."""

from __future__ import annotations

import socket
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from batchline.equipment import opcua, simulator
from batchline.equipment.opcua import DeviceNodeUnknown, DeviceUnreachable, DeviceValueNotGood, InvalidNodeId
from batchline.equipment.simulator import balance_node_id, press_node_ids
from plugins.opcua import free_port

BAL = balance_node_id("BAL-01")
D = Decimal("0.001")


@pytest.mark.req("EQ-04")
def test_a_stable_reading_carries_weight_unit_tare_status_and_source_time(sim: Any) -> None:
    sim.set_tare("BAL-01", "0.750")
    sim.set_weight("BAL-01", "12.345")

    reading = opcua.read_balance(sim.endpoint, BAL, readability=D)

    assert (reading.weight, reading.tare, reading.gross, reading.unit) == (
        Decimal("12.345"), Decimal("0.750"), Decimal("13.095"), "kg")
    assert reading.stable and reading.good and reading.status_code == "Good"
    assert reading.source_timestamp is not None and reading.server_timestamp is not None
    assert reading.serial_number == "SN-BAL-01"


def test_the_device_float_becomes_the_decimal_the_balance_displays(sim: Any) -> None:
    sim.set_weight("BAL-02", "0.1003")  # 0.1003 has no exact binary float

    reading = opcua.read_balance(sim.endpoint, balance_node_id("BAL-02"), readability=Decimal("0.0001"))

    assert reading.weight == Decimal("0.1003") and isinstance(reading.weight, Decimal)
    assert str(reading.weight) == "0.1003"


@pytest.mark.req("EQ-04")
@pytest.mark.parametrize("status", ["BadSensorFailure", "BadCommunicationError", "UncertainLastUsableValue",
                                    "UncertainSensorNotAccurate"])
def test_a_bad_or_uncertain_value_is_refused(sim: Any, status: str) -> None:
    sim.set_weight("BAL-01", "5.000")
    sim.set_status("BAL-01", status)

    with pytest.raises(DeviceValueNotGood) as refused:
        opcua.read_balance(sim.endpoint, BAL, readability=D)
    assert status in refused.value.render()


def test_a_bad_value_can_be_shown_with_its_status_but_never_as_good(sim: Any) -> None:
    sim.set_status("BAL-01", "BadSensorFailure")

    reading = opcua.read_balance(sim.endpoint, BAL, accept_bad=True)

    assert not reading.good and reading.status_code == "BadSensorFailure" and reading.weight is None


@pytest.mark.req("EQ-04")
def test_an_unstable_weight_is_read_as_unstable(sim: Any) -> None:
    sim.set_weight("BAL-01", "3.210", stable=False)

    reading = opcua.read_balance(sim.endpoint, BAL, readability=D)

    assert reading.weight == Decimal("3.210") and not reading.stable


def test_the_unit_comes_from_the_engineering_units_unece_code(sim: Any) -> None:
    sim.set_unit("BAL-01", "g")

    assert opcua.read_balance(sim.endpoint, BAL).unit == "g"


def test_overload_is_reported(sim: Any) -> None:
    sim.set_weight("BAL-01", "61")

    assert opcua.read_balance(sim.endpoint, BAL).overload


@pytest.mark.req("EQ-04")
def test_a_closed_port_is_reported_as_unreachable() -> None:
    with pytest.raises(DeviceUnreachable) as refused, translation.override("en"):
        opcua.read_balance(f"opc.tcp://127.0.0.1:{free_port()}/batchline/", BAL)
    with translation.override("en"):
        assert refused.value.code == "device_unreachable" and "refused" in refused.value.render()


@pytest.mark.req("EQ-04")
@pytest.mark.parametrize("endpoint", ["garbage", "opc.tcp://", "opc.tcp://127.0.0.1:notaport/", "opc.tcp://[::1"])
def test_an_endpoint_that_is_not_a_url_is_reported_as_unreachable_not_as_a_crash(endpoint: str) -> None:
    with pytest.raises(DeviceUnreachable) as refused:
        opcua.read_balance(endpoint, BAL, timeout=1)
    assert refused.value.code == "device_unreachable" and refused.value.params["endpoint"] == endpoint
    with pytest.raises(DeviceUnreachable):
        opcua.read_tags(endpoint, ["i=2259"], timeout=1)


def test_a_server_that_never_answers_is_reported_as_unreachable_within_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(DeviceUnreachable) as refused:
            opcua.read_tags(f"opc.tcp://127.0.0.1:{port}/", ["i=2259"], timeout=0.5)
    assert "0.5" in refused.value.render()


def test_an_unknown_device_node_is_refused(sim: Any) -> None:
    with pytest.raises(DeviceNodeUnknown):
        opcua.read_balance(sim.endpoint, balance_node_id("BAL-99"))


def test_a_node_of_another_model_is_not_read_as_a_balance(sim: Any) -> None:
    with pytest.raises(DeviceNodeUnknown):
        opcua.read_balance(sim.endpoint, "nsu=urn:batchline:simulator;s=TP-01")


def test_a_malformed_node_id_is_refused() -> None:
    with pytest.raises(InvalidNodeId):
        opcua.parse_node_id("BAL-01")


@pytest.mark.req("EQ-04")
def test_plc_values_carry_their_status_and_source_time(sim: Any) -> None:
    nodes = press_node_ids("TP-01")
    sim.set_process_value("TP-01", "CompressionForce", "12.5")
    sim.set_process_value("TP-01", "TurretSpeed", "48.2", status="BadSensorFailure")
    sim.add_counts("TP-01", good=100, reject=3)

    read = opcua.read_tags(sim.endpoint, [nodes["compression_force"], nodes["turret_speed"], nodes["good_count"],
                                          "nsu=urn:batchline:simulator;s=NOPE"])

    force = read[nodes["compression_force"]]
    assert (force.value, force.good, force.status_code) == (Decimal("12.5"), True, "Good")
    assert force.source_timestamp is not None
    speed = read[nodes["turret_speed"]]
    assert (speed.value, speed.good, speed.status_code) == (None, False, "BadSensorFailure")
    assert read[nodes["good_count"]].value >= 100
    unknown = read["nsu=urn:batchline:simulator;s=NOPE"]
    assert not unknown.good and unknown.status_code == "BadNodeIdUnknown"


@pytest.mark.req("EQ-05")
@pytest.mark.parametrize("state", ["Idle", "Execute", "Held", "Stopped", "Aborted", "Clearing"])
def test_the_packml_state_is_followed_to_the_innermost_active_machine(sim: Any, state: str) -> None:
    machine = press_node_ids("TP-01")["packml_state"]
    sim.set_state("TP-01", state)

    read = opcua.read_tags(sim.endpoint, [], states=[machine, "nsu=urn:batchline:simulator;s=TP-01"])

    assert {v.value for v in read.values()} == {state}
    assert all(v.good and v.source_timestamp is not None for v in read.values())


def test_a_packml_state_number_is_read_by_its_name() -> None:
    assert opcua.PACKML_STATE_NUMBERS[6] == "Execute"
    assert opcua._state_text(11) == "Held"


@pytest.mark.req("EQ-04")
def test_connection_loss_is_reported_after_the_server_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare OPC UA server (no NodeSets, no devices: it starts fast) that goes away: the next read says so."""
    monkeypatch.setattr(simulator, "nodeset_paths", lambda: [])
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/batchline/"
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=simulator.run_balance_simulator,
                              kwargs={"endpoint": endpoint, "balances": [], "stop": stop, "ready": ready})
    thread.start()
    try:
        assert ready.wait(60)
        server_state = opcua.read_tags(endpoint, ["i=2259"])["i=2259"]  # Server.ServerStatus.State: Running
        assert server_state.good and server_state.value == 0
        with pytest.raises(DeviceNodeUnknown):  # no Scales model on this server
            opcua.read_balance(endpoint, BAL)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()

    with pytest.raises(DeviceUnreachable):
        opcua.read_tags(endpoint, ["i=2259"])
