"""emit(): outbox events are written only inside the business transaction (INT-02)."""

from __future__ import annotations

import pytest
from django.db import transaction

from batchline.core.context import correlation
from batchline.core.models import OutboxEvent
from batchline.core.outbox import emit


@pytest.mark.req("INT-02")
def test_emit_outside_a_transaction_is_refused() -> None:
    # No database fixture: the check must refuse before anything touches the database.
    with pytest.raises(RuntimeError, match="inside the business transaction"):
        emit("thing.happened", record_type="test.thing", record_id=1, payload={})


@pytest.mark.req("INT-02")
@pytest.mark.django_db
def test_emitted_event_rolls_back_with_the_business_transaction() -> None:
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        emit("thing.happened", record_type="test.thing", record_id=1, payload={})
        raise Rollback
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_emitted_event_carries_the_request_correlation_id() -> None:
    with correlation("req-42"), transaction.atomic():
        event = emit("thing.happened", record_type="test.thing", record_id=7, payload={"a": 1})
    assert (event.correlation_id, event.record_id, event.status) == ("req-42", "7", "pending")
