"""Equipment test fixtures, built through the services: rooms, products, the people, and equipment made
usable (qualified, calibrated where needed, cleaned and verified).

Test modules import the fixtures they use: `from equipment.plant import eq_fixture  # noqa: F401` gives
them the fixture `eq` (the functions are named *_fixture so that a test's `eq` parameter shadows nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from conftest import sig

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Suzhou on Monday 2 March 2026


@dataclass
class Plant:
    manager: Any  # data steward: the register
    operator: Any
    operator2: Any
    verifier: Any  # shift lead: second-person verification
    qa: Any  # QA reviewer: qualification, calibration, release, quarantine
    products: dict[str, Any]
    made: list[Any] = field(default_factory=list)


class Clock:
    """The server clock for a test: `at.now` is the current moment; `at.set(moment)`, `at.advance(hours=8)`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
        from batchline.core import clock

        self.now = start
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    @property
    def today(self) -> date:
        from batchline.equipment.usability import today

        return today(self.now)


@pytest.fixture(name="at")
def at_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    yield Clock(monkeypatch, START)


@pytest.fixture(name="eq")
def eq_fixture(approved: Callable[..., Any], kg: Any, steward: Any, approver: Any, make_user: Callable[..., Any],
       at: Clock) -> Plant:
    approved("unit", code="g", name_zh="克", name_en="gram", dimension="mass", factor="0.001")
    approved("unit", code="L", name_zh="升", name_en="litre", dimension="volume", factor="1")
    approved("site", code="S1", name_zh="工厂", name_en="Plant")
    approved("area", code="PRD", name_zh="生产区", name_en="Production", site="S1")
    for code, zh, en in (("R101", "称量间", "Dispensing room"), ("R102", "制粒间", "Granulation room"),
                         ("R104", "压片间", "Compression room")):
        approved("room", code=code, name_zh=zh, name_en=en, area="PRD", cleanroom_grade="D")
    products = {code: approved("material", code=code, name_zh=zh, name_en=en, material_type="bulk", base_unit="kg")
                for code, zh, en in (("P-PARA", "对乙酰氨基酚颗粒", "Paracetamol granules"),
                                     ("P-IBU", "布洛芬颗粒", "Ibuprofen granules"))}
    return Plant(manager=steward, operator=make_user("operator", username="op1", full_name="张伟 Zhang Wei"),
                 operator2=make_user("operator", username="op2", full_name="王芳 Wang Fang"),
                 verifier=make_user("shift_lead", username="lead1", full_name="刘洋 Liu Yang"),
                 qa=approver, products=products)


GRANULATOR = {"code": "GR-01", "name_zh": "湿法制粒机", "name_en": "High-shear granulator", "kind": "granulator",
              "room": "R102", "capacity": "300", "capacity_unit": "L",
              "product_contact_parts": "Bowl, impeller, chopper", "clean_hold_hours": 72, "dirty_hold_hours": 24}
BALANCE = {"code": "BAL-01", "name_zh": "称量台秤", "name_en": "Floor balance", "kind": "balance", "room": "R101",
           "weighing_unit": "kg", "max_load": "60", "readability": "0.001", "minimum_weight": "0.5"}


@pytest.fixture(name="register")
def register_fixture(eq: Plant) -> Callable[..., Any]:
    """register(**overrides) → new equipment (a granulator unless told otherwise), dirty."""
    from batchline.equipment.register import register_equipment

    def make(base: dict[str, Any] | None = None, **overrides: Any) -> Any:
        equipment = register_equipment(actor=eq.manager, data={**(base or GRANULATOR), **overrides})
        eq.made.append(equipment)
        return equipment

    return make


@pytest.fixture(name="qualify")
def qualify_fixture(eq: Plant, at: Clock) -> Callable[..., Any]:
    """qualify(equipment, valid_days=365, result="pass", stage="PQ") → the signed record."""
    from batchline.equipment.qualification import record_qualification

    def make(equipment: Any, *, valid_days: int = 365, result: str = "pass", stage: str = "PQ",
             performed_on: date | None = None) -> Any:
        performed = performed_on or at.today
        return record_qualification(
            actor=eq.qa, equipment_id=equipment.pk, stage=stage, performed_on=performed, result=result,
            valid_until=performed + timedelta(days=valid_days) if valid_days else None,
            document_ref=f"{stage}-{equipment.code}-{performed:%Y%m%d}", signature=sig(eq.qa, "qualification"))

    return make


@pytest.fixture(name="calibrate")
def calibrate_fixture(eq: Plant, at: Clock) -> Callable[..., Any]:
    """calibrate(equipment, due_days=180, result="pass") → the signed record."""
    from batchline.equipment.qualification import record_calibration

    def make(equipment: Any, *, due_days: int = 180, result: str = "pass", performed_on: date | None = None,
             measurements: list[dict[str, str]] | None = None) -> Any:
        performed = performed_on or at.today
        return record_calibration(
            actor=eq.qa, equipment_id=equipment.pk, performed_on=performed, result=result,
            due_on=performed + timedelta(days=due_days), certificate_ref=f"CAL-{equipment.code}-{performed:%Y%m%d}",
            performed_by="苏州计量测试院 Suzhou Institute of Metrology", measurements=measurements or [],
            signature=sig(eq.qa, "calibration"))

    return make


@pytest.fixture(name="clean")
def clean_fixture(eq: Plant) -> Callable[..., Any]:
    """clean(equipment, "major") → started by operator, finished, verified by the shift lead: clean."""
    from batchline.equipment import cleaning

    def run(equipment: Any, clean_type: str = "major", *, next_product: Any = None) -> Any:
        record = cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type=clean_type,
                                         procedure_ref="SOP-CL-001", next_product=next_product)
        cleaning.finish_cleaning(actor=eq.operator, equipment_id=equipment.pk, cleaning_id=record.pk)
        return cleaning.verify_cleaning(actor=eq.verifier, equipment_id=equipment.pk, cleaning_id=record.pk,
                                        signature=sig(eq.verifier, "verify"))

    return run


@pytest.fixture(name="usable")
def usable_fixture(register: Callable[..., Any], qualify: Callable[..., Any], calibrate: Callable[..., Any],
           clean: Callable[..., Any]) -> Callable[..., Any]:
    """usable(**register overrides) → registered, qualified, calibrated (balances) and cleaned: clean."""
    from batchline.equipment.models import Equipment
    from batchline.equipment.usability import calibration_required

    def make(base: dict[str, Any] | None = None, **overrides: Any) -> Any:
        equipment = register(base, **overrides)
        qualify(equipment)
        if calibration_required(equipment):
            calibrate(equipment)
        clean(equipment)
        return Equipment.objects.get(pk=equipment.pk)

    return make


def fresh(equipment: Any) -> Any:
    from batchline.equipment.models import Equipment

    return Equipment.objects.select_related("current_product", "last_product").get(pk=equipment.pk)
