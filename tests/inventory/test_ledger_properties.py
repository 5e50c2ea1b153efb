"""Property-based tests of the stock ledger (WMS-06): whatever sequence of receipts, putaways,
allocations, picks (whole, split, short), cancellations, lot status changes, returns to stock and
count adjustments happens, every balance row equals the sum of the movements into and out of its
(container, location), nothing is negative, every reservation is exactly what the open pick tasks
hold, and every request's quantities are what its tasks say.

Each example runs inside a transaction that is rolled back at its end; each operation inside its own
savepoint, so that a refused one (a DomainError: nothing usable, not enough stock) changes nothing,
as in the application. Any other error (a CHECK constraint of the database) fails the test."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from batchline.core.errors import DomainError
from batchline.inventory import allocation, ledger, movements, picking
from batchline.inventory.choices import MovementType, ReasonCode, TaskStatus
from batchline.inventory.models import Lot, MaterialRequest, PickTask, StockBalance
from batchline.inventory.usability import today
from plugins.picking import ledger_invariants

MATERIALS = ("API-01", "EXC-01")
STORAGE = ("A-01", "A-02")
quantities = st.integers(min_value=1, max_value=80).map(lambda n: Decimal(n) / 4)  # 0.25 .. 20
index = st.integers(min_value=0, max_value=10_000)

picks = st.tuples(st.just("pick"), index, st.sampled_from(["all", "short"]))
requests = st.tuples(st.just("request"), st.sampled_from(MATERIALS), quantities)
operations = st.one_of(
    picks, requests, picks, requests,  # the flow under test, drawn more often
    st.tuples(st.just("receive"), st.sampled_from(MATERIALS), st.integers(1, 3), quantities),
    st.tuples(st.just("putaway"), index, st.sampled_from(STORAGE)),
    st.tuples(st.just("cancel"), index),
    st.tuples(st.just("allocate"), index),
    st.tuples(st.just("quarantine"), index),
    st.tuples(st.just("release"), index),
    st.tuples(st.just("return"), index, quantities),
    st.tuples(st.just("count"), index, st.sampled_from([MovementType.COUNT_GAIN, MovementType.COUNT_LOSS]),
              quantities),
)


class Nothing(Exception):
    """The operation has nothing to act on yet (no open task, no staged stock)."""


def pick_from(items: list[Any], number: int) -> Any:
    if not items:
        raise Nothing
    return items[number % len(items)]


class Runner:
    def __init__(self, wh: Any, receive: Callable[..., Any], release: Callable[..., Any]) -> None:
        self.wh, self.receive, self.release = wh, receive, release

    def run(self, op: tuple[Any, ...]) -> None:
        try:
            with transaction.atomic():
                getattr(self, f"do_{op[0]}")(*op[1:])
        except DomainError as error:  # refused: the savepoint is rolled back, nothing changed
            event(f"{op[0]}: refused ({error.code})")
        except Nothing:
            event(f"{op[0]}: nothing to do")
        else:
            event(f"{op[0]}: done")

    def do_receive(self, material: str, containers: int, each: Decimal) -> None:
        self.release(self.receive(material, containers=containers, each=str(each)))

    def do_putaway(self, number: int, location: str) -> None:
        rows = list(StockBalance.objects.filter(location__code="RCV-01", on_hand__gt=0).order_by("pk"))
        row = pick_from(rows, number)
        movements.transfer(actor=self.wh.clerk, container=row.container.code, to_location=location)

    def do_request(self, material: str, quantity: Decimal) -> None:
        allocation.request_material(actor=self.wh.clerk, order_ref="MO-P", material_code=material,
                                    quantity=str(quantity), unit="kg", need_by=today(), to_location="STG-01")

    def do_pick(self, number: int, how: str) -> None:
        task = pick_from(list(PickTask.objects.filter(status=TaskStatus.OPEN).select_related("container")
                              .order_by("pk")), number)
        if how == "short" and task.quantity > Decimal("0.25"):
            picking.confirm_pick(actor=self.wh.clerk, task_id=task.pk, scanned=task.container.code,
                                 quantity=str(task.quantity - Decimal("0.25")), reason="short")
        else:
            picking.confirm_pick(actor=self.wh.clerk, task_id=task.pk, scanned=task.container.code)

    def do_cancel(self, number: int) -> None:
        request = pick_from(list(MaterialRequest.objects.order_by("pk")), number)
        allocation.cancel_request(actor=self.wh.clerk, request_id=request.pk, reason="test")

    def do_allocate(self, number: int) -> None:
        request = pick_from(list(MaterialRequest.objects.order_by("pk")), number)
        allocation.allocate(actor=self.wh.clerk, request_id=request.pk)

    def do_quarantine(self, number: int) -> None:
        self.release(pick_from(list(Lot.objects.filter(status="released").order_by("pk")), number), "quarantine")

    def do_release(self, number: int) -> None:
        self.release(pick_from(list(Lot.objects.filter(status="quarantine").order_by("pk")), number), "released")

    def do_return(self, number: int, quantity: Decimal) -> None:
        rows = list(StockBalance.objects.filter(location__code="STG-01", on_hand__gt=0).order_by("pk"))
        row = pick_from(rows, number)
        movements.return_to_stock(actor=self.wh.clerk, container=row.container.code, to_location="A-01",
                                  reweighed_quantity=str(quantity), reason_code=ReasonCode.SURPLUS,
                                  reason="re-weighed", order_ref="MO-P")

    def do_count(self, number: int, kind: str, quantity: Decimal) -> None:
        row = pick_from(list(StockBalance.objects.filter(on_hand__gt=0).select_related(
            "container__lot__material__base_unit", "location").order_by("pk")), number)
        gain = kind == MovementType.COUNT_GAIN
        ledger.post(self.wh.clerk, [ledger.Posting(
            MovementType(kind), row.container, quantity, from_location=None if gain else row.location,
            to_location=row.location if gain else None, reason_code=ReasonCode.COUNT_DIFFERENCE, reason="count")])


@pytest.mark.req("WMS-06")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=4, max_size=20))
def test_balances_are_the_sum_of_movements_and_reservations_the_open_tasks(
        wh: Any, receive: Callable[..., Any], release: Callable[..., Any], ops: list[tuple[Any, ...]]) -> None:
    runner = Runner(wh, receive, release)
    with transaction.atomic():
        runner.run(("receive", "API-01", 2, Decimal("10")))  # something to work on from the start
        runner.run(("request", "API-01", Decimal("5")))
        for op in ops:
            runner.run(op)
            ledger_invariants()
        transaction.set_rollback(True)
