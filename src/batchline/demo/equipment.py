"""The demo plant's equipment: two dispensing balances, a granulator, a blender, a tablet press, a coater
and a blister machine, each registered, qualified, calibrated where required, cleaned and verified
through the equipment services, so that all of it is usable (clean) when the demo starts.

The balances and the tablet press are the devices `batchline demo` (and `batchline simulate
balances`) serves over OPC UA from equipment.simulator.DEMO_BALANCES / DEMO_PRESSES: same codes, serial
numbers, units and ranges, nodes from balance_node_id() / press_node_ids(). The press's PackML state,
counters and process values are mapped as tags, so the device poller collects them for OEE.

Who does what, as in a plant: the data steward registers the equipment and maps the PLC tags
(equipment.manage), QA records and signs the qualification and calibration records (equipment.qualify),
an operator cleans (equipment.operate) and the shift lead verifies the cleaning with a signature
(equipment.verify, four eyes).

Loading is idempotent: equipment whose code is already registered is left alone, whatever state it
is in now. DEMO ONLY: manufacturers, models, serial numbers and document numbers are invented.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from batchline.compliance.signatures import SignatureRequest
from batchline.equipment import cleaning, qualification, register
from batchline.equipment import tags as equipment_tags
from batchline.equipment.choices import CleaningType, EquipmentKind, QualificationStage, Result, TagKind
from batchline.equipment.models import Equipment
from batchline.equipment.simulator import DEFAULT_ENDPOINT, balance_node_id, press_node_ids
from batchline.equipment.usability import today
from batchline.identity.models import User

# Where `batchline demo` serves the simulated balances and tablet press.
OPCUA_ENDPOINT = DEFAULT_ENDPOINT

PQ_DAYS_AGO = 21  # the PQ was performed three weeks before the demo plant was loaded
CALIBRATED_DAYS_AGO = 7
REQUALIFICATION_DAYS = 365
CALIBRATION_INTERVAL_DAYS = 365
CALIBRATION_LAB = "苏州示范计量检测有限公司 Suzhou Demo Metrology Co., Ltd."
# Product-contact process equipment: clean-hold and dirty-hold times as validated (hours).
CLEAN_HOLD_HOURS = 168
DIRTY_HOLD_HOURS = 48


@dataclass(frozen=True)
class DemoTag:
    name: str
    kind: str
    low_limit: str | None = None
    high_limit: str | None = None


@dataclass(frozen=True)
class DemoEquipment:
    data: dict[str, Any]  # register.register_equipment's data
    cleaning_procedure: str
    calibration_points: tuple[dict[str, str], ...] = ()  # a calibration is recorded when given
    tags: tuple[DemoTag, ...] = ()  # OPC UA nodes of press_node_ids(code), by name

    @property
    def code(self) -> str:
        return str(self.data["code"])


def _balance(code: str, zh: str, en: str, *, max_load: str, readability: str, minimum_weight: str,
             serial_number: str, model_number: str, equipment_class: str,
             points: tuple[tuple[str, str, str], ...]) -> DemoEquipment:
    """A dispensing balance in R101, weighing in kg, connected to the simulated balance of the same code."""
    return DemoEquipment(
        data={"code": code, "name_zh": zh, "name_en": en, "kind": EquipmentKind.BALANCE,
              "equipment_class": equipment_class, "room": "R101",
              "product_contact_parts": "称量盘 (不锈钢 316L) / Weighing pan (stainless steel 316L)",
              "manufacturer": "江南衡器 Jiangnan Weighing (demo)", "model_number": model_number,
              "serial_number": serial_number, "weighing_unit": "kg", "max_load": max_load,
              "readability": readability, "minimum_weight": minimum_weight,
              "opcua_endpoint": OPCUA_ENDPOINT, "opcua_node": balance_node_id(code)},
        cleaning_procedure="SOP-CL-BAL-001",
        calibration_points=tuple({"nominal": nominal, "reading": reading, "tolerance": tolerance, "unit": "kg"}
                                 for nominal, reading, tolerance in points))


def _process(code: str, zh: str, en: str, kind: str, room: str, *, equipment_class: str, contact: str,
             manufacturer: str, model_number: str, serial_number: str, procedure: str,
             capacity: tuple[str, str] | None = None, tags: tuple[DemoTag, ...] = (),
             **extra: Any) -> DemoEquipment:
    """Product-contact process equipment with validated hold times; `extra`: more register fields."""
    data = {"code": code, "name_zh": zh, "name_en": en, "kind": kind, "equipment_class": equipment_class,
            "room": room, "product_contact_parts": contact, "manufacturer": manufacturer,
            "model_number": model_number, "serial_number": serial_number,
            "clean_hold_hours": CLEAN_HOLD_HOURS, "dirty_hold_hours": DIRTY_HOLD_HOURS, **extra}
    if capacity is not None:
        data["capacity"], data["capacity_unit"] = capacity
    return DemoEquipment(data=data, cleaning_procedure=procedure, tags=tags)


PRESS_CODE = "TP-R104-01"
PRESS_TAGS = (
    DemoTag("packml_state", TagKind.STATE),
    DemoTag("good_count", TagKind.GOOD_COUNT),
    DemoTag("reject_count", TagKind.REJECT_COUNT),
    DemoTag("compression_force", TagKind.PROCESS_VALUE, low_limit="8", high_limit="16"),  # kN, main compression
    DemoTag("turret_speed", TagKind.PROCESS_VALUE),  # rpm
    DemoTag("machine_speed", TagKind.PROCESS_VALUE),  # PackML Status.CurMachSpeed
)

EQUIPMENT: tuple[DemoEquipment, ...] = (
    # Minimum weights: 820 d or more (USP <41>, Ph. Eur. 2.1.7); together the two cover 0.1 kg to 60 kg.
    _balance("BAL-R101-01", "落地秤 60 kg", "Floor balance 60 kg", max_load="60", readability="0.001",
             minimum_weight="1", serial_number="HW60-2409-0147", model_number="HW-F60",
             equipment_class="BALANCE-60KG",
             points=(("1", "1.000", "0.002"), ("20", "20.001", "0.005"), ("50", "49.998", "0.010"))),
    _balance("BAL-R101-02", "台秤 6 kg", "Bench balance 6 kg", max_load="6", readability="0.0001",
             minimum_weight="0.1", serial_number="HW6-2409-0233", model_number="HW-B6",
             equipment_class="BALANCE-6KG",
             points=(("0.1", "0.1000", "0.0002"), ("2", "2.0001", "0.0005"), ("5", "4.9999", "0.0010"))),
    _process("GR-R102-01", "湿法混合制粒机 600 L", "High-shear mixer granulator 600 L", EquipmentKind.GRANULATOR,
             "R102", equipment_class="HSG-600", capacity=("600", "L"),
             contact="混合锅、搅拌桨、切割刀、出料阀 / Bowl, impeller, chopper, discharge valve",
             manufacturer="华制装备 Huazhi Machinery (demo)", model_number="HZ-HSG600", serial_number="HSG-2311-018",
             procedure="SOP-CL-GR-001"),
    _process("BL-R103-01", "料斗混合机 1000 L", "Bin blender 1000 L", EquipmentKind.BLENDER, "R103",
             equipment_class="BIN-BLENDER-1000", capacity=("1000", "L"),
             contact="混合料斗 (IBC)、蝶阀 / Blending bin (IBC), butterfly valve",
             manufacturer="华制装备 Huazhi Machinery (demo)", model_number="HZ-HTD1000", serial_number="HTD-2311-044",
             procedure="SOP-CL-BL-001"),
    _process(PRESS_CODE, "高速旋转压片机", "High-speed rotary tablet press", EquipmentKind.TABLET_PRESS, "R104",
             equipment_class="ROTARY-PRESS",
             contact="强迫加料器、中模、上下冲、刮粉板、出片槽 / Force feeder, dies, upper and lower punches, "
                     "scraper, discharge chute",
             manufacturer="华制装备 Huazhi Machinery (demo)", model_number="HZ-GZPK55", serial_number="GZP-2402-007",
             procedure="SOP-CL-TP-001", ideal_rate_per_minute="3300", opcua_endpoint=OPCUA_ENDPOINT,
             opcua_node=press_node_ids(PRESS_CODE)["packml_state"], tags=PRESS_TAGS),
    _process("CT-R105-01", "高效薄膜包衣机 150 kg", "Perforated-pan film coater 150 kg", EquipmentKind.COATER,
             "R105", equipment_class="FILM-COATER-150", capacity=("150", "kg"),
             contact="包衣锅、喷枪、导流板 / Coating pan, spray guns, baffles",
             manufacturer="华制装备 Huazhi Machinery (demo)", model_number="HZ-BGB150", serial_number="BGB-2312-021",
             procedure="SOP-CL-CT-001"),
    _process("BP-R106-01", "铝塑泡罩包装机", "Alu/PVC blister packaging machine", EquipmentKind.BLISTER, "R106",
             equipment_class="BLISTER-ALU-PVC",
             contact="料斗、送料轨道、成型模具、加料器 / Hopper, feed tracks, forming tools, feeder",
             manufacturer="华制装备 Huazhi Machinery (demo)", model_number="HZ-DPP260", serial_number="DPP-2403-012",
             procedure="SOP-CL-BP-001"),
)


def _signature(user: User, password: str, meaning: str) -> SignatureRequest:
    return SignatureRequest(password=password, meaning=meaning, username=user.username)


def _add(item: DemoEquipment, *, steward: User, operator: User, verifier: User, qa: User, password: str,
         created: Counter[str]) -> None:
    equipment = register.register_equipment(actor=steward, data=item.data)
    created["equipment"] += 1
    on = today()
    performed = on - timedelta(days=PQ_DAYS_AGO)
    qualification.record_qualification(
        actor=qa, equipment_id=equipment.pk, stage=QualificationStage.PQ, performed_on=performed,
        result=Result.PASS, valid_until=performed + timedelta(days=REQUALIFICATION_DAYS),
        document_ref=f"PQ-{item.code}-{performed:%Y}",
        signature=_signature(qa, password, qualification.QUALIFICATION_MEANING))
    if item.calibration_points:
        calibrated = on - timedelta(days=CALIBRATED_DAYS_AGO)
        qualification.record_calibration(
            actor=qa, equipment_id=equipment.pk, performed_on=calibrated, result=Result.PASS,
            due_on=calibrated + timedelta(days=CALIBRATION_INTERVAL_DAYS),
            certificate_ref=f"CAL-{item.code}-{calibrated:%Y%m%d}", performed_by=CALIBRATION_LAB,
            measurements=[dict(point) for point in item.calibration_points],
            signature=_signature(qa, password, qualification.CALIBRATION_MEANING))
    nodes = press_node_ids(item.code) if item.tags else {}
    for tag in item.tags:
        equipment_tags.save_tag(actor=steward, equipment_code=item.code, name=tag.name, kind=tag.kind,
                                node_id=nodes[tag.name], low_limit=tag.low_limit, high_limit=tag.high_limit)
        created["equipment tag"] += 1
    # New equipment needs a major clean before its first use; a second person verifies it.
    record = cleaning.start_cleaning(actor=operator, equipment_id=equipment.pk, clean_type=CleaningType.MAJOR,
                                     procedure_ref=item.cleaning_procedure)
    cleaning.finish_cleaning(actor=operator, equipment_id=equipment.pk, cleaning_id=record.pk)
    cleaning.verify_cleaning(actor=verifier, equipment_id=equipment.pk, cleaning_id=record.pk,
                             signature=_signature(verifier, password, cleaning.VERIFY_MEANING))


def load(*, users: Mapping[str, User], created: Counter[str], password: str) -> None:
    """Register the demo equipment that is not registered yet and make it usable (run inside plant.load())."""
    people = {"steward": users["steward"], "operator": users["operator"], "verifier": users["shiftlead"],
              "qa": users["qa"]}
    registered = set(Equipment.objects.filter(code__in=[item.code for item in EQUIPMENT])
                     .values_list("code", flat=True))
    for item in EQUIPMENT:
        if item.code not in registered:
            _add(item, **people, password=password, created=created)
