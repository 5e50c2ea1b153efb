"""core.inbound: handlers run once per message id; a steward-fixable refusal parks the message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core import inbound
from batchline.core.errors import DomainError, InvalidInput, NotFound
from batchline.core.models import InboundMessage, ParkedMessage
from batchline.masterdata.errors import UnknownUnit, UnmappedCode

calls: list[dict[str, Any]] = []
fixed = {"unit": False}


def _handler(actor: Any, source_system: str, payload: dict[str, Any]) -> tuple[int, Any]:
    calls.append(payload)
    if payload.get("unit") == "LBX" and not fixed["unit"]:
        raise UnknownUnit(field="unit", unit="LBX")
    if payload.get("material") == "100234":
        raise UnmappedCode(field="material", system=source_system, kind="material", external_code="100234")
    if payload.get("bad"):
        raise InvalidInput(field="bad")
    return 201, {"ok": payload}


@pytest.fixture(autouse=True)
def test_handler() -> Iterator[None]:
    calls.clear()
    fixed["unit"] = False
    inbound.register("test-message", _handler)
    yield


def send(steward: Any, payload: dict[str, Any], message_id: str | None = None) -> tuple[int, Any]:
    return inbound.process(message_type="test-message", source_system="sap-prd",
                           message_id=message_id or str(uuid.uuid4()), payload=payload, actor=steward)


@pytest.mark.req("INT-04")
def test_a_message_is_handled_once_per_source_and_message_id(steward: Any) -> None:
    message_id = str(uuid.uuid4())
    assert send(steward, {"unit": "kg"}, message_id) == (201, {"ok": {"unit": "kg"}})
    assert send(steward, {"unit": "kg"}, message_id) == (201, {"ok": {"unit": "kg"}})
    assert len(calls) == 1
    assert InboundMessage.objects.get().source == "SAP-PRD"


@pytest.mark.req("MD-03")
@pytest.mark.parametrize("payload", [{"unit": "LBX"}, {"material": "100234"}], ids=["unknown unit", "unmapped"])
def test_a_steward_fixable_refusal_parks_the_message(steward: Any, payload: dict[str, Any]) -> None:
    with pytest.raises(inbound.MessageParked) as refused:
        send(steward, payload)
    parked = ParkedMessage.objects.get()
    assert refused.value.as_dict()["parked_id"] == parked.pk
    assert refused.value.http_status == 422
    assert parked.payload == payload and parked.error_field.startswith("payload.")
    assert AuditEntry.objects.filter(record_type="core.parkedmessage", action="park").count() == 1
    assert InboundMessage.objects.count() == 0


def test_other_refusals_are_not_parked(steward: Any) -> None:
    with pytest.raises(DomainError) as refused:
        send(steward, {"bad": True})
    assert not isinstance(refused.value, inbound.MessageParked)
    assert refused.value.field == "payload.bad"
    assert ParkedMessage.objects.count() == 0


def test_an_unknown_message_type_is_refused(steward: Any) -> None:
    with pytest.raises(inbound.UnknownMessageType):
        inbound.process(message_type="nothing", source_system="SAP", message_id="1", payload={}, actor=steward)


@pytest.mark.req("MD-03", "AT-01")
def test_reprocessing_after_the_fix_marks_the_message_reprocessed(steward: Any) -> None:
    message_id = str(uuid.uuid4())
    with pytest.raises(inbound.MessageParked) as refused:
        send(steward, {"unit": "LBX"}, message_id)
    fixed["unit"] = True
    parked, result = inbound.reprocess(actor=steward, parked_id=refused.value.parked_id)
    assert result == (201, {"ok": {"unit": "LBX"}})
    assert (parked.status, parked.resolved_by) == ("reprocessed", steward)
    assert AuditEntry.objects.filter(record_type="core.parkedmessage", action="reprocess").count() == 1
    # The sender's replay now gets the re-processed result, without running the handler again.
    assert send(steward, {"unit": "LBX"}, message_id) == result
    assert len(calls) == 2


@pytest.mark.req("MD-03")
def test_reprocessing_that_fails_again_keeps_the_message_parked_with_the_new_error(steward: Any) -> None:
    with pytest.raises(inbound.MessageParked) as refused:
        send(steward, {"unit": "LBX", "material": "100234"})
    fixed["unit"] = True
    parked, result = inbound.reprocess(actor=steward, parked_id=refused.value.parked_id)
    assert result is None
    assert (parked.status, parked.error_code, parked.error_field) == ("parked", "unmapped_code", "payload.material")
    assert AuditEntry.objects.filter(record_type="core.parkedmessage", action="reprocess_failed").count() == 1


@pytest.mark.req("MD-03", "AT-01")
def test_discarding_needs_a_reason_and_is_audited(steward: Any) -> None:
    with pytest.raises(inbound.MessageParked) as refused:
        send(steward, {"unit": "LBX"})
    parked_id = refused.value.parked_id
    with pytest.raises(DomainError) as no_reason:
        inbound.discard(actor=steward, parked_id=parked_id, reason="  ")
    assert no_reason.value.code == "reason_required"
    parked = inbound.discard(actor=steward, parked_id=parked_id, reason="Duplicate from a test system")
    assert (parked.status, parked.resolution) == ("discarded", "Duplicate from a test system")
    assert AuditEntry.objects.get(record_type="core.parkedmessage", action="discard").reason.startswith("Duplicate")


def test_a_resolved_message_cannot_be_reprocessed_or_discarded(steward: Any) -> None:
    with pytest.raises(inbound.MessageParked) as refused:
        send(steward, {"unit": "LBX"})
    parked_id = refused.value.parked_id
    inbound.discard(actor=steward, parked_id=parked_id, reason="Not needed")
    with pytest.raises(inbound.NotParked):
        inbound.reprocess(actor=steward, parked_id=parked_id)
    with pytest.raises(inbound.NotParked):
        inbound.discard(actor=steward, parked_id=parked_id, reason="again")


def test_an_unknown_parked_message_is_not_found(steward: Any) -> None:
    with pytest.raises(NotFound):
        inbound.reprocess(actor=steward, parked_id=999999)
