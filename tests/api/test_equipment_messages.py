"""Real equipment events conform to their published message models (the data dictionary's source)."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from batchline.api import messages_equipment
from batchline.api.messages import message, messages
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope
from batchline.equipment import cleaning, holds, qualification, register, status
from batchline.equipment.choices import CleaningType, EquipmentStatus, Result
from conftest import sig
from equipment.plant import (  # noqa: F401
    BALANCE,
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)

EVENTS = (register.REGISTERED, register.CHANGED, register.RETIRED, status.STATUS_CHANGED, holds.HOLD_EXPIRED,
          qualification.QUALIFICATION_RECORDED, qualification.CALIBRATION_RECORDED, cleaning.VERIFIED)


def conforms(event_type: str) -> int:
    events = list(OutboxEvent.objects.filter(event_type=event_type))
    for event in events:
        message(event_type).model.model_validate(envelope(event))
    return len(events)


def test_the_message_literals_are_the_model_choices() -> None:
    assert set(typing.get_args(messages_equipment.EquipmentStatusValue)) == set(EquipmentStatus.values)
    assert set(typing.get_args(messages_equipment.ResultValue)) == set(Result.values)
    assert set(typing.get_args(messages_equipment.CleanTypeValue)) == set(CleaningType.values)
    assert set(typing.get_args(messages_equipment.StatusActionValue)) == {t.action for t in status.TRANSITIONS}


def test_every_equipment_event_has_a_message() -> None:
    names = {m.name for m in messages()}
    assert set(EVENTS) <= names


@pytest.mark.req("INT-06")
def test_equipment_events_conform_to_their_schemas(eq: Any, usable: Any, calibrate: Any, at: Any) -> None:
    balance = usable(BALANCE)
    register.change_equipment(actor=eq.manager, equipment_id=balance.pk, data={"clean_hold_hours": 4}, reason="VR-1")
    calibrate(balance, measurements=[{"nominal": "1", "reading": "1.001", "tolerance": "0.002", "unit": "kg"}])
    status.start_use(actor=eq.operator, equipment_id=balance.pk, order="MO-1", product="P-PARA")
    status.end_use(actor=eq.operator, equipment_id=balance.pk)
    granulator = usable()
    at.advance(hours=80)
    holds.flag_expired_holds()
    status.take_out_of_use(actor=eq.qa, equipment_id=granulator.pk, status="quarantined", reason="DV-1")
    status.release_equipment(actor=eq.qa, equipment_id=granulator.pk, reason="closed", signature=sig(eq.qa, "release"))
    calibrate(granulator, result="fail")
    register.retire_equipment(actor=eq.manager, equipment_id=balance.pk, reason="replaced")
    for event_type in EVENTS:
        assert conforms(event_type) >= 1, event_type
