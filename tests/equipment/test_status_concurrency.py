"""Two terminals start using the same clean equipment at once (PostgreSQL): the equipment row is locked,
so exactly one wins and the other is refused with the reason (EQ-01, DESIGN.md §3.8)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from batchline.equipment.choices import EquipmentStatus
from batchline.equipment.errors import EquipmentNotUsable
from batchline.equipment.models import Equipment, LogbookEntry
from conftest import PASSWORD, requires_postgresql, sig
from equipment.plant import GRANULATOR

pytestmark = requires_postgresql
WAIT = 60  # seconds: generous, only reached when something is wrong


def person(role: str, username: str) -> Any:
    from batchline.identity import services
    from batchline.identity.models import User

    user = services.create_user(actor=None, username=username, full_name=username, roles=[role],
                                initial_password=PASSWORD)
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    return User.objects.get(pk=user.pk)


def usable_granulator() -> tuple[Any, Any, Any]:
    from batchline.equipment import cleaning, qualification, register
    from batchline.equipment.usability import today
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    steward, qa = person("data_steward", "steward"), person("qa_reviewer", "qa")
    op1, op2, lead = person("operator", "op1"), person("operator", "op2"), person("shift_lead", "lead")
    for slug, data in (("unit", {"code": "kg", "name_zh": "千克", "name_en": "kilogram", "dimension": "mass",
                                 "factor": "1"}),
                       ("material", {"code": "P-PARA", "name_zh": "颗粒", "name_en": "Granules",
                                     "material_type": "bulk", "base_unit": "kg"})):
        item = services.create_item(actor=steward, kind=kind_of(slug), data=data)
        services.approve_item(actor=qa, kind=kind_of(slug), item_id=item.pk, signature=sig(qa))
    data = {k: v for k, v in GRANULATOR.items() if k not in ("room", "capacity", "capacity_unit")}
    equipment = register.register_equipment(actor=steward, data=data)
    day = today()
    qualification.record_qualification(actor=qa, equipment_id=equipment.pk, stage="PQ", performed_on=day,
                                       result="pass", valid_until=day.replace(year=day.year + 1),
                                       document_ref="PQ-1", signature=sig(qa, "qualification"))
    record = cleaning.start_cleaning(actor=op1, equipment_id=equipment.pk, clean_type="major")
    cleaning.finish_cleaning(actor=op1, equipment_id=equipment.pk, cleaning_id=record.pk)
    cleaning.verify_cleaning(actor=lead, equipment_id=equipment.pk, cleaning_id=record.pk,
                             signature=sig(lead, "verify"))
    return equipment, op1, op2


@pytest.mark.req("EQ-01")
def test_two_terminals_cannot_both_start_using_the_same_equipment(committed_db: None) -> None:
    from batchline.equipment import status

    equipment, op1, op2 = usable_granulator()
    start = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def terminal(user: Any, order: str) -> None:
        try:
            start.wait(WAIT)
            status.start_use(actor=user, equipment_id=equipment.pk, order=order, product="P-PARA")
            outcomes.append(order)
        except EquipmentNotUsable as refusal:
            outcomes.append(f"refused: {','.join(refusal.reason_codes)}")
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=terminal, args=(user, order)) for user, order in ((op1, "MO-1"), (op2, "MO-2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not errors, errors
    assert sorted(o.startswith("refused") for o in outcomes) == [False, True], outcomes
    assert "refused: status" in outcomes
    winner = Equipment.objects.get(pk=equipment.pk)
    assert winner.status == EquipmentStatus.IN_USE and winner.current_order in outcomes
    assert LogbookEntry.objects.filter(equipment=winner, status_after=EquipmentStatus.IN_USE).count() == 1
