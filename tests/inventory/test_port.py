"""The warehouse port (DESIGN.md §4): production's one way into the warehouse, built in or external."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from batchline.core.errors import DomainError
from batchline.core.models import OutboxEvent
from batchline.inventory import picking, port
from batchline.inventory.models import Movement, StockBalance
from batchline.inventory.usability import today


class RecordingWarehouse:
    """What an external-WMS adapter looks like to production: the same operations, no ledger behind."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def request_material(self, **kwargs: Any) -> Any:
        self.calls.append("request_material")

    def cancel_request(self, **kwargs: Any) -> Any: ...

    def request_state(self, request_id: int) -> Any: ...

    def order_requests(self, order_ref: str, **kwargs: Any) -> Any: ...

    def confirm_consumption(self, **kwargs: Any) -> Any: ...

    def return_to_stock(self, **kwargs: Any) -> Any: ...


class NotAWarehouse:
    def request_material(self, **kwargs: Any) -> Any: ...


def test_the_built_in_warehouse_is_the_default() -> None:
    assert isinstance(port.warehouse(), port.BuiltInWarehouse)
    assert isinstance(port.warehouse(), port.WarehousePort)


def test_another_implementation_is_configured_by_its_dotted_path() -> None:
    with override_settings(BATCHLINE_WAREHOUSE_PORT=f"{__name__}.RecordingWarehouse"):
        chosen = port.warehouse()
    assert isinstance(chosen, RecordingWarehouse)


def test_a_class_that_is_not_a_warehouse_is_refused() -> None:
    with override_settings(BATCHLINE_WAREHOUSE_PORT=f"{__name__}.NotAWarehouse"), pytest.raises(TypeError):
        port.warehouse()


@pytest.mark.req("WMS-04", "WMS-05")
def test_request_pick_consume_and_return_through_the_port(wh: Any, stock: Callable[..., Any]) -> None:
    lot = stock(containers=1, each="25")
    warehouse = port.warehouse()
    state = warehouse.request_material(actor=wh.clerk, order_ref="MO-7", material="API-01", quantity="10", unit="kg",
                                       need_by=today(), to_location="DSP-01", source_system="mes")
    assert (state.status, state.allocated_quantity, state.source_system) == ("allocated", Decimal("10"), "MES")
    (task,) = state.tasks
    assert (task.lot, task.status, task.picked_container) == (lot.number, "open", None)

    picked = picking.confirm_pick(actor=wh.clerk, task_id=task.task_id, scanned=task.container)
    state = warehouse.request_state(state.request_id)
    assert state.status == "picked" and state.picked_containers == (picked.container.code,)
    assert [s.request_id for s in warehouse.order_requests("MO-7")] == [state.request_id]

    issued = warehouse.confirm_consumption(actor=wh.clerk, order_ref="MO-7", container=picked.container.code,
                                           quantity="8", unit="kg")
    assert (issued.from_location, issued.quantity, issued.lot) == ("DSP-01", Decimal("8"), lot.number)
    assert Movement.objects.filter(movement_type="issue", container=picked.container).count() == 1
    consumed = OutboxEvent.objects.get(event_type=port.CONSUMED)
    assert consumed.payload["order_ref"] == "MO-7" and consumed.payload["quantity"] == "8"

    returned = warehouse.return_to_stock(actor=wh.clerk, order_ref="MO-7", container=picked.container.code,
                                         quantity="2", unit="kg", to_location="A-01", reason_code="surplus")
    assert (returned.quantity, returned.to_location, returned.reason_code) == (Decimal("2"), "A-01", "surplus")
    assert StockBalance.objects.get(container=picked.container, location__code="A-01").on_hand == Decimal("2")


@pytest.mark.req("WMS-04")
def test_consuming_a_lot_that_is_no_longer_usable_is_refused(wh: Any, stock: Callable[..., Any],
                                                            release: Callable[..., Any]) -> None:
    lot = stock(containers=1, each="25")
    warehouse = port.warehouse()
    state = warehouse.request_material(actor=wh.clerk, order_ref="MO-8", material="API-01", quantity="25", unit="kg",
                                       need_by=today(), to_location="STG-01")
    picking.confirm_pick(actor=wh.clerk, task_id=state.tasks[0].task_id, scanned=state.tasks[0].container)
    release(lot, "quarantine")
    with pytest.raises(DomainError) as refused:
        warehouse.confirm_consumption(actor=wh.clerk, order_ref="MO-8", container=state.tasks[0].container,
                                      quantity="1", unit="kg")
    assert refused.value.code == "lot_not_usable"
    assert not Movement.objects.filter(movement_type="issue").exists()


def test_stock_still_in_storage_is_not_consumed(wh: Any, stock: Callable[..., Any]) -> None:
    lot = stock(containers=1, each="25")
    with pytest.raises(DomainError) as refused:
        port.warehouse().confirm_consumption(actor=wh.clerk, order_ref="MO-9", container=lot.containers.get().code,
                                             quantity="1", unit="kg")
    assert refused.value.field == "container"


def test_cancelling_through_the_port(wh: Any, stock: Callable[..., Any], supervisor: Any) -> None:
    stock()
    warehouse = port.warehouse()
    state = warehouse.request_material(actor=supervisor, order_ref="MO-10", material="API-01", quantity="5",
                                       unit="kg", need_by=today())
    cancelled = warehouse.cancel_request(actor=supervisor, request_id=state.request_id, reason="order cancelled")
    assert cancelled.status == "cancelled" and [t.status for t in cancelled.tasks] == ["cancelled"]
