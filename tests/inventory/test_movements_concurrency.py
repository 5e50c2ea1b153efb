"""Transfers, scrap, samples and cycle counts from many terminals at once on PostgreSQL (WMS-06, WMS-07):
no balance goes negative, the ledger explains every balance, a refusal is a domain error (never a
deadlock reaching the user), and one location is counted by one count at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from batchline.core.errors import DomainError
from batchline.inventory import counting, movements
from batchline.inventory.choices import CountStatus
from batchline.inventory.models import Container, CycleCount, StockBalance
from conftest import requires_postgresql
from plugins.picking import build_plant, ledger_invariants, stock_lot

pytestmark = [requires_postgresql, pytest.mark.postgres]

THREADS = 16
WAIT = 180  # seconds: generous, reached only when something hangs


def run_threads(work: Callable[[int], object]) -> tuple[int, list[BaseException]]:
    """work(0..THREADS-1) in THREADS threads released together; → (successes, non-domain errors)."""
    errors: list[BaseException] = []
    done = []
    start = threading.Barrier(THREADS)

    def run(number: int) -> None:
        try:
            connection.ensure_connection()
            start.wait(WAIT)
            work(number)
            done.append(number)
        except DomainError:
            pass  # a refusal (not enough stock, already counted): what a terminal may be told
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a terminal hung"
    return len(done), errors


@pytest.mark.req("WMS-06", "WMS-07")
def test_terminals_moving_scrapping_and_sampling_the_same_containers_keep_the_ledger_exact(
        committed_db: None) -> None:
    plant = build_plant(["MOV-01"])
    lot = stock_lot(plant, "MOV-01", containers=2, each="10")
    codes = list(Container.objects.filter(lot=lot).order_by("serial").values_list("code", flat=True))
    targets = ["A-02", "DSP-01", "LS-01", "A-01"]

    def work(number: int) -> None:
        code = codes[number % 2]
        kind = number % 4
        if kind == 0:
            movements.transfer(actor=plant.clerk, container=code, to_location=targets[number % 3],
                               quantity="3", from_location=_where(code))
        elif kind == 1:
            movements.scrap(actor=plant.clerk, container=code, quantity="2", reason_code="damaged",
                            reason=f"terminal {number}", from_location=_where(code))
        elif kind == 2:
            movements.withdraw_sample(actor=plant.clerk, container=code, quantity="1", reason_code="qc_sample",
                                      reference=f"IL-{number}", from_location=_where(code))
        else:
            movements.transfer(actor=plant.clerk, container=code, to_location="A-02", from_location=_where(code))

    succeeded, errors = run_threads(work)
    assert not errors, errors
    assert succeeded > 0
    assert not StockBalance.objects.filter(on_hand__lt=0).exists()
    ledger_invariants()
    total = sum(StockBalance.objects.filter(lot=lot).values_list("on_hand", flat=True), Decimal(0))
    assert Decimal(0) <= total <= Decimal(20)


def _where(code: str) -> str:
    """Any location where the container has stock now (another terminal may empty it first)."""
    row = StockBalance.objects.filter(container__code=code, on_hand__gt=0).order_by("pk").first()
    return row.location.code if row else "A-01"


@pytest.mark.req("WMS-07")
def test_terminals_opening_a_count_of_one_location_open_one(committed_db: None) -> None:
    plant = build_plant(["CNT-01"])
    stock_lot(plant, "CNT-01", containers=2, each="10")
    succeeded, errors = run_threads(lambda number: counting.open_count(actor=plant.clerk, location="A-01"))
    assert not errors, errors
    assert succeeded == 1
    assert CycleCount.objects.filter(location__code="A-01", status=CountStatus.OPEN).count() == 1
