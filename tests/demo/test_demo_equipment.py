"""The demo plant's equipment (demo/equipment.py): usable when the demo starts, wired to the devices the
demo's OPC UA simulator serves, and loaded once."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from batchline.compliance.models import AuditEntry, Signature
from batchline.core.models import OutboxEvent
from batchline.demo import equipment as demo_equipment
from batchline.equipment.choices import CleaningState, CleaningType, EquipmentKind, EquipmentStatus, TagKind
from batchline.equipment.models import (
    Calibration,
    CleaningRecord,
    Equipment,
    EquipmentTag,
    LogbookEntry,
    Qualification,
)
from batchline.equipment.simulator import (
    DEFAULT_ENDPOINT,
    DEMO_BALANCES,
    DEMO_PRESSES,
    balance_node_id,
    press_node_ids,
)
from batchline.equipment.tags import DevicePoller
from batchline.equipment.usability import Use, reasons

pytestmark = pytest.mark.django_db

CODES = [item.code for item in demo_equipment.EQUIPMENT]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_plant() -> str:
    return run_demo()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        Equipment, LogbookEntry, Qualification, Calibration, CleaningRecord, EquipmentTag, AuditEntry, Signature,
        OutboxEvent)}


def test_each_demo_item_is_usable_after_a_signed_pq_and_a_verified_major_clean(demo_plant: str) -> None:
    assert sorted(Equipment.objects.values_list("code", flat=True)) == sorted(CODES)
    assert {"GR-R102-01", "BL-R103-01", "TP-R104-01", "CT-R105-01", "BP-R106-01"} <= set(CODES)
    for equipment in Equipment.objects.all():
        use = Use.WEIGHING if equipment.kind == EquipmentKind.BALANCE else Use.PRODUCTION
        assert reasons(equipment, for_=use) == [], equipment.code
        assert equipment.status == EquipmentStatus.CLEAN
        assert not equipment.major_clean_required
        assert equipment.room is not None and equipment.room.code.startswith("R10")
        kinds = list(equipment.logbook.values_list("kind", flat=True))
        assert kinds[0] == "registered" and "qualification" in kinds, equipment.code
        pq = equipment.qualifications.get()
        assert (pq.stage, pq.result, pq.recorded_by.username) == ("PQ", "pass", "qa")
        clean = equipment.cleanings.get()
        assert (clean.clean_type, clean.state) == (CleaningType.MAJOR, CleaningState.VERIFIED)
        assert (clean.started_by.username, clean.finished_by.username, clean.verified_by.username) == (
            "operator", "operator", "shiftlead")
        assert Signature.objects.filter(record_type="equipment.cleaningrecord", record_id=str(clean.pk),
                                        meaning="verify", signer__username="shiftlead").exists()
        assert Signature.objects.filter(record_type="equipment.qualification", record_id=str(pq.pk),
                                        meaning="qualification", signer__username="qa").exists()
    # Balances always need a calibration; the process equipment here has none on record.
    calibrated = Calibration.objects.values_list("equipment__code", flat=True)
    assert sorted(calibrated) == sorted(b["code"] for b in DEMO_BALANCES)
    assert all(c.result == "pass" and c.measurements for c in Calibration.objects.all())


def test_balances_are_the_simulated_balances_of_the_demo(demo_plant: str) -> None:
    balances = Equipment.objects.filter(kind=EquipmentKind.BALANCE)
    assert sorted(b.code for b in balances) == sorted(spec["code"] for spec in DEMO_BALANCES)
    for spec in DEMO_BALANCES:
        balance = balances.get(code=spec["code"])
        assert balance.opcua_endpoint == DEFAULT_ENDPOINT
        assert balance.opcua_node == balance_node_id(spec["code"])
        assert balance.serial_number == spec.get("serial_number", spec["code"])
        assert balance.weighing_unit is not None and balance.weighing_unit.code == spec["unit"] == "kg"
        assert balance.max_load == Decimal(spec["max_load"])
        assert balance.readability == Decimal(spec["readability"])
        assert balance.readability is not None and balance.minimum_weight is not None
        assert balance.minimum_weight >= 820 * balance.readability  # USP <41>: 2000 × 0.41 d at least
        assert balance.room is not None and balance.room.code == "R101"


def test_the_tablet_press_is_mapped_to_the_simulated_press_so_the_poller_collects_it(demo_plant: str) -> None:
    assert [spec["code"] for spec in DEMO_PRESSES] == ["TP-R104-01"]
    press = Equipment.objects.get(code="TP-R104-01")
    nodes = press_node_ids(press.code)
    assert (press.opcua_endpoint, press.opcua_node) == (DEFAULT_ENDPOINT, nodes["packml_state"])
    assert press.ideal_rate_per_minute is not None
    mapped = {tag.name: tag for tag in press.tags.all()}
    assert {name: tag.node_id for name, tag in mapped.items()} == {name: nodes[name] for name in mapped}
    assert {tag.kind for tag in mapped.values()} == set(TagKind.values)
    assert DevicePoller().equipment_codes() == ["TP-R104-01"]


def test_loading_the_demo_twice_changes_no_equipment_and_writes_no_audit_entry(demo_plant: str) -> None:
    before = counts()
    assert before["Equipment"] == len(CODES)
    second = run_demo()
    assert "already loaded; nothing changed" in second
    assert counts() == before


# --- the devices, read from a simulator serving the demo's balances and press ------------------------

@pytest.fixture(scope="module")
def demo_devices() -> Iterator[Any]:
    from batchline.equipment.simulator import DeviceSimulator, SimulatorError, nodeset_paths

    try:
        nodeset_paths()
    except SimulatorError as error:
        pytest.skip(f"needs the official OPC UA NodeSets: {error}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    presses = [{**spec, "auto": False} for spec in DEMO_PRESSES]  # steady values for the test
    simulator = DeviceSimulator(endpoint=f"opc.tcp://127.0.0.1:{port}/batchline/", balances=DEMO_BALANCES,
                                presses=presses, seed=1).start()
    yield simulator
    simulator.stop()


def test_the_demo_simulator_serves_each_registered_balance_and_press_tag(demo_plant: str, demo_devices: Any) -> None:
    from batchline.equipment.opcua import read_balance, read_tags

    for balance in Equipment.objects.filter(kind=EquipmentKind.BALANCE):
        reading = read_balance(demo_devices.endpoint, balance.opcua_node, readability=balance.readability)
        assert reading.good, balance.code
        assert reading.serial_number == balance.serial_number
        assert balance.weighing_unit is not None and reading.unit == balance.weighing_unit.code
    press = Equipment.objects.get(code="TP-R104-01")
    mapped = list(press.tags.all())
    values = read_tags(demo_devices.endpoint, [t.node_id for t in mapped],
                       states=[t.node_id for t in mapped if t.kind == TagKind.STATE])
    assert {t.name: values[t.node_id].good for t in mapped} == {t.name: True for t in mapped}
    assert values[press_node_ids(press.code)["packml_state"]].value == "Idle"
