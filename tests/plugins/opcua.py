"""One in-process OPC UA device simulator for the whole test session (equipment, api and web tests).

It is a real asyncua server on a free loopback port, loaded with the official NodeSets (DI, Machinery,
PackML, Scales) from settings.BATCHLINE_STANDARDS_DIR: loading them takes seconds, so it starts once.
`sim` hands it to a test with its devices put back to their starting values. Tests skip with a clear
reason where the standards folder is absent (a user's fresh clone).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

BALANCE_G = {"code": "BAL-01", "unit": "kg", "readability": "0.001", "max_load": "60", "weight": "0",
             "serial_number": "SN-BAL-01"}
BALANCE_MG = {"code": "BAL-02", "unit": "g", "readability": "0.0001", "max_load": "220", "weight": "0",
              "serial_number": "SN-BAL-02"}
PRESS = {"code": "TP-01", "state": "Idle"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def device_simulator() -> Iterator[Any]:
    from batchline.equipment.simulator import DeviceSimulator, SimulatorError, nodeset_paths

    try:
        nodeset_paths()
    except SimulatorError as error:
        pytest.skip(f"needs the official OPC UA NodeSets: {error}")
    simulator = DeviceSimulator(endpoint=f"opc.tcp://127.0.0.1:{free_port()}/batchline/",
                                balances=[BALANCE_G, BALANCE_MG], presses=[PRESS], seed=1).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(device_simulator: Any) -> Any:
    """The shared simulator, its devices back at their starting values: empty pans, stable, good, Idle."""
    for spec in (BALANCE_G, BALANCE_MG):
        device_simulator.set_status(spec["code"], "Good")
        device_simulator.set_unit(spec["code"], spec["unit"])
        device_simulator.set_tare(spec["code"], "0")
        device_simulator.set_weight(spec["code"], "0")
    device_simulator.set_state(PRESS["code"], "Idle")
    for name in ("CompressionForce", "TurretSpeed"):
        device_simulator.set_process_value(PRESS["code"], name, "0")
    return device_simulator
