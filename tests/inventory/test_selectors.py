"""Stock views: by material, lot, location and derived status (WMS-03), lot history, location occupancy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from batchline.inventory import movements, selectors
from batchline.inventory.models import Container, Lot, StockBalance
from batchline.inventory.selectors import StockFilter
from batchline.inventory.usability import lot_state, today


@pytest.fixture
def mixed(wh: Any, receive: Callable[..., Any], release: Callable[..., Any]) -> dict[str, Any]:
    """One lot in each stored status, and a released lot that is due for retest soon."""
    lots = {
        "quarantine": receive(containers=1),
        "released": release(receive("EXC-01", containers=2, each="10")),
        "rejected": release(receive(containers=1, each="5"), "rejected"),
        "restricted": release(receive(containers=1, each="7"), "restricted", restriction="R&D only"),
        "retest": release(receive(containers=1, each="3", retest_on=today() + timedelta(days=10))),
    }
    for container in Container.objects.filter(lot=lots["released"]):
        movements.transfer(actor=wh.clerk, container=container, to_location="A-01")
    return lots


@pytest.mark.req("WMS-03")
def test_the_query_form_of_the_derived_state_agrees_with_lot_state(mixed: dict[str, Any]) -> None:
    for days in (0, 10, 400, 800):
        on = today() + timedelta(days=days)
        rows = selectors.stock(on=on)
        assert rows.exists()
        for row in rows:
            assert row.state == lot_state(Lot.objects.get(pk=row.lot_id), on), (days, row.lot.number)


@pytest.mark.req("WMS-03")
def test_stock_filters_by_derived_status(mixed: dict[str, Any]) -> None:
    assert {r.lot_id for r in selectors.stock(StockFilter(status="quarantine"))} == {mixed["quarantine"].pk}
    assert {r.lot_id for r in selectors.stock(StockFilter(status="released"))} == {mixed["released"].pk,
                                                                                   mixed["retest"].pk}
    later = today() + timedelta(days=11)
    assert {r.lot_id for r in selectors.stock(StockFilter(status="retest_due"), on=later)} == {mixed["retest"].pk}


def test_stock_filters_by_material_lot_and_location(mixed: dict[str, Any]) -> None:
    assert {r.material.code for r in selectors.stock(StockFilter(material="exc-01"))} == {"EXC-01"}
    assert {r.material.code for r in selectors.stock(StockFilter(material="乳糖"))} == {"EXC-01"}
    assert {r.location.code for r in selectors.stock(StockFilter(location="A-01"))} == {"A-01"}
    number = mixed["rejected"].number
    assert {r.lot.number for r in selectors.stock(StockFilter(lot=number))} == {number}


def test_totals_by_state_keep_each_material_in_its_own_unit(mixed: dict[str, Any]) -> None:
    totals = {t.material: t for t in selectors.totals_by_state()}
    assert totals["EXC-01"].by_state == {"released": Decimal("20")}
    assert totals["API-01"].by_state == {"quarantine": Decimal("25"), "rejected": Decimal("5"),
                                         "restricted": Decimal("7"), "released": Decimal("3")}
    assert totals["API-01"].unit == "kg" and totals["API-01"].total == Decimal("40")
    assert selectors.containers_by_state() == {"rejected": 1, "expired": 0, "quarantine": 1, "retest_due": 0,
                                               "restricted": 1, "released": 3}


def test_stock_summary_groups_by_lot_and_location(mixed: dict[str, Any]) -> None:
    by_lot = {r["lot__number"]: r for r in selectors.stock_summary(by="lot")}
    assert by_lot[mixed["released"].number]["total"] == Decimal("20")
    assert by_lot[mixed["released"].number]["containers"] == 2
    by_location = selectors.stock_summary(by="location")
    assert {(r["location__code"], r["state"]) for r in by_location} >= {("A-01", "released"),
                                                                      ("RCV-01", "quarantine")}


def test_the_location_map_colours_a_location_by_its_worst_state(mixed: dict[str, Any]) -> None:
    [cells] = selectors.location_map().values()
    by_code = {cell.location.code: cell for cell in cells}
    assert by_code["A-01"].state == "released" and by_code["A-01"].containers == 2 and by_code["A-01"].lots == 1
    assert by_code["RCV-01"].state == "rejected" and by_code["RCV-01"].lots == 4
    assert by_code["C-01"].state == "empty" and by_code["C-01"].containers == 0


def test_the_lot_history_lists_every_movement_with_who_posted_it(wh: Any, mixed: dict[str, Any]) -> None:
    lot = mixed["released"]
    history = list(selectors.lot_history(lot))
    assert [m.movement_type for m in history] == ["receipt", "receipt", "transfer", "transfer"]
    assert {m.actor.username for m in history} == {"clerk"}


def test_lot_containers_show_stock_reservations_and_samples(wh: Any, mixed: dict[str, Any]) -> None:
    lot = mixed["quarantine"]
    container = Container.objects.get(lot=lot)
    movements.withdraw_sample(actor=wh.clerk, container=container, quantity="0.1", reason_code="qc_sample",
                              reference="IL-1")
    [entry] = selectors.lot_containers(lot)
    assert entry["sampled"] and entry["on_hand"] == Decimal("24.9") and entry["reserved"] == 0
    assert selectors.lot_total(lot) == Decimal("24.9")
    assert StockBalance.objects.filter(lot=lot).count() == 1
