"""Allocation and picking under concurrency on PostgreSQL (WMS-06, DESIGN.md §3.8): 32 terminals
requesting the same material (a hot SKU) or many materials at once, and picking what they got.
Nothing is allocated twice, no balance goes negative, every reservation is what the open tasks
hold, and no deadlock or serialization error reaches a caller (inventory.retry runs it again)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from batchline.inventory import allocation, picking
from batchline.inventory.choices import TaskStatus
from batchline.inventory.models import MaterialRequest, PickTask, StockBalance
from batchline.inventory.usability import today
from conftest import requires_postgresql
from plugins.picking import build_plant, ledger_invariants, stock_lot

pytestmark = [requires_postgresql, pytest.mark.postgres]

THREADS = 32
WAIT = 180  # seconds: generous, reached only when something hangs


def run_threads(work: Callable[[int], None]) -> list[BaseException]:
    """Run work(0..THREADS-1) in THREADS threads released together; → the errors they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(number: int) -> None:
        try:
            connection.ensure_connection()
            start.wait(WAIT)
            work(number)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a terminal hung"
    return errors


def request_and_pick(plant: Any, material: str, quantity: Decimal, order: str, *, pick: bool) -> None:
    made = allocation.request_material(actor=plant.clerk, order_ref=order, material_code=material,
                                       quantity=str(quantity), unit="kg", need_by=today(), to_location="STG-01")
    if not pick:
        return
    for task in made.tasks.select_related("container").order_by("pk"):
        picking.confirm_pick(actor=plant.clerk, task_id=task.pk, scanned=task.container.code)


def supply(material: str | None = None) -> Decimal:
    """What the storage locations held before anyone picked: on hand there plus what was picked from there."""
    rows = StockBalance.objects.filter(location__code__in=["A-01", "A-02"])
    picked = PickTask.objects.filter(status=TaskStatus.DONE)
    if material:
        rows, picked = rows.filter(material__code=material), picked.filter(lot__material__code=material)
    return ((rows.aggregate(s=Sum("on_hand"))["s"] or Decimal(0))
            + (picked.aggregate(s=Sum("picked_quantity"))["s"] or Decimal(0)))


@pytest.mark.req("WMS-06", "WMS-05")
@pytest.mark.parametrize("pick", [False, True], ids=["allocate", "allocate and pick"])
def test_32_terminals_on_one_hot_material_never_allocate_twice(committed_db: None, pick: bool) -> None:
    plant = build_plant(["HOT-01"])
    for _ in range(4):
        stock_lot(plant, "HOT-01", containers=2, each="25")  # 200 kg in 8 containers
    on_shelf = supply("HOT-01")
    asked = [Decimal(random.Random(n).randint(10, 30)) / 4 for n in range(THREADS * 3)]  # 2.5 .. 7.5 kg each

    def work(number: int) -> None:
        for round_number in range(3):
            request_and_pick(plant, "HOT-01", asked[number * 3 + round_number], f"MO-{number}-{round_number}",
                             pick=pick)

    errors = run_threads(work)
    assert not errors, errors[:3]
    ledger_invariants()
    allocated = MaterialRequest.objects.aggregate(s=Sum("allocated_quantity"))["s"]
    assert on_shelf == Decimal(200)
    assert allocated == min(on_shelf, sum(asked)), "stock allocated twice, or left unallocated while asked for"
    assert MaterialRequest.objects.count() == THREADS * 3


@pytest.mark.req("WMS-06")
def test_32_terminals_over_many_materials_allocate_and_pick_without_a_surfaced_deadlock(committed_db: None) -> None:
    materials = [f"MAT-{n:02d}" for n in range(12)]
    plant = build_plant(materials)
    for material in materials:
        stock_lot(plant, material, containers=2, each="20", location=random.Random(material).choice(["A-01", "A-02"]))
    before = supply()

    def work(number: int) -> None:
        order = random.Random(number).sample(materials, 4)  # each terminal its own order of materials
        for material in order:
            request_and_pick(plant, material, Decimal(number % 5 + 1), f"MO-{number}-{material}", pick=True)

    errors = run_threads(work)
    assert not errors, errors[:3]
    ledger_invariants()
    assert supply() == before, "picking created or lost stock"
    for material in materials:
        asked = sum((r.quantity for r in MaterialRequest.objects.filter(material__code=material)), Decimal(0))
        allocated = MaterialRequest.objects.filter(material__code=material).aggregate(
            s=Sum("allocated_quantity"))["s"] or Decimal(0)
        assert allocated == min(Decimal(40), asked), material
