"""run_once(): an inbound (source, key) runs once; a replay returns the first result (INT-04)."""

from __future__ import annotations

from typing import Any

import pytest

from batchline.core.errors import InvalidInput
from batchline.core.idempotency import IdempotencyKeyReused, run_once
from batchline.core.models import InboundMessage


def _counting_action(calls: list[int]) -> Any:
    def action() -> tuple[int, Any]:
        calls.append(1)
        return 201, {"id": len(calls)}

    return action


@pytest.mark.django_db
def test_replay_with_the_same_key_returns_the_first_result_without_running_again() -> None:
    calls: list[int] = []
    first = run_once(source="erp", key="k-1", endpoint="orders", request_hash="h1",
                     action=_counting_action(calls))
    again = run_once(source="erp", key="k-1", endpoint="orders", request_hash="h1",
                     action=_counting_action(calls))
    assert first == again == (201, {"id": 1})
    assert len(calls) == 1


@pytest.mark.django_db
def test_reused_key_with_a_different_request_is_refused() -> None:
    calls: list[int] = []
    run_once(source="erp", key="k-1", endpoint="orders", request_hash="h1", action=_counting_action(calls))
    with pytest.raises(IdempotencyKeyReused):
        run_once(source="erp", key="k-1", endpoint="orders", request_hash="h2",
                 action=_counting_action(calls))
    assert len(calls) == 1


@pytest.mark.django_db
def test_same_key_from_another_source_is_a_different_request() -> None:
    calls: list[int] = []
    run_once(source="erp", key="k-1", endpoint="orders", request_hash="h1", action=_counting_action(calls))
    run_once(source="lims", key="k-1", endpoint="orders", request_hash="h1", action=_counting_action(calls))
    assert len(calls) == 2


@pytest.mark.django_db
def test_refused_request_stores_nothing_so_the_sender_can_retry_with_the_same_key() -> None:
    def refuse() -> tuple[int, Any]:
        raise InvalidInput()

    with pytest.raises(InvalidInput):
        run_once(source="erp", key="k-1", endpoint="orders", request_hash="h1", action=refuse)
    assert not InboundMessage.objects.exists()
    assert run_once(source="erp", key="k-1", endpoint="orders", request_hash="h1",
                    action=_counting_action([])) == (201, {"id": 1})
