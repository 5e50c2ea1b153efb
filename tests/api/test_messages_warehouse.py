"""Real warehouse events conform to their published message models (the data dictionary's source)."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from batchline.api import messages_warehouse
from batchline.api.messages import message
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope
from batchline.inventory.choices import LotStatus, ReasonCode


def conforms(event_type: str) -> int:
    events = list(OutboxEvent.objects.filter(event_type=event_type))
    for event in events:
        message(event_type).model.model_validate(envelope(event))
    return len(events)


def test_the_message_literals_are_the_model_choices() -> None:
    assert set(typing.get_args(messages_warehouse.LotStatusValue)) == set(LotStatus.values)
    assert set(typing.get_args(messages_warehouse.ReasonValue)) == set(ReasonCode.values) | {""}


@pytest.mark.req("INT-06")
def test_receipt_and_status_events_conform_to_their_schemas(wh: Any, receive: Any, release: Any) -> None:
    release(receive("API-01", containers=2))
    for event_type in ("inventory.movement.receipt", "inventory.lot.received", "inventory.lot.inspection_needed",
                       "inventory.lot.status_changed"):
        assert conforms(event_type) >= 1, event_type
