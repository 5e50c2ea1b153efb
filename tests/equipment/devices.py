"""Fixtures for the balance, PLC and OEE tests: equipment of the register connected to the shared OPC UA
device simulator (tests/plugins/opcua.py), built through the services.

Test modules import what they use, with the plant fixtures it builds on:
`from equipment.devices import balance_fixture, checked_fixture  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from equipment.plant import BALANCE, Plant

PRESS = {"code": "TP-01", "name_zh": "高速旋转压片机", "name_en": "Rotary tablet press", "kind": "tablet_press",
         "room": "R104", "ideal_rate_per_minute": "3000"}


@pytest.fixture(name="balance")
def balance_fixture(usable: Callable[..., Any], sim: Any) -> Any:
    """BAL-01 (kg, d = 0.001 kg, minimum 0.5 kg, maximum 60 kg): qualified, calibrated, clean, and
    connected to the simulated balance BAL-01 (serial SN-BAL-01)."""
    from batchline.equipment.simulator import balance_node_id

    return usable(BALANCE, opcua_endpoint=sim.endpoint, opcua_node=balance_node_id("BAL-01"),
                  serial_number="SN-BAL-01")


@pytest.fixture(name="checked")
def checked_fixture(balance: Any, eq: Plant, sim: Any) -> Any:
    """The balance after today's daily check, read from the balance with a 2 kg test weight: passed."""
    from batchline.equipment.balances import perform_daily_check

    sim.set_weight("BAL-01", "2.000")
    perform_daily_check(actor=eq.operator, equipment_code="BAL-01",
                        points=[{"weight_id": "TW-2KG", "nominal": "2", "tolerance": "0.002"}])
    sim.set_weight("BAL-01", "0")
    return balance


@pytest.fixture(name="press")
def press_fixture(register: Callable[..., Any], qualify: Callable[..., Any], eq: Plant, sim: Any) -> Any:
    """TP-01, a qualified tablet press (ideal rate 3000 tablets/min) with its PackML state, counters and two
    process values mapped to the simulated press TP-01."""
    from batchline.equipment.simulator import press_node_ids
    from batchline.equipment.tags import save_tag

    press = register(PRESS, opcua_endpoint=sim.endpoint, opcua_node=press_node_ids("TP-01")["packml_state"])
    qualify(press)
    nodes = press_node_ids("TP-01")
    for name, kind, extra in (
            ("packml_state", "state", {}), ("good_count", "good_count", {}), ("reject_count", "reject_count", {}),
            ("compression_force", "process_value", {"low_limit": "8", "high_limit": "16"}),
            ("turret_speed", "process_value", {})):
        save_tag(actor=eq.manager, equipment_code="TP-01", name=name, kind=kind, node_id=nodes[name], **extra)
    return press
