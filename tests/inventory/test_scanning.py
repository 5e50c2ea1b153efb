"""Scans (WMS-10): our container labels, typed container codes, locations and suppliers' GS1 labels,
parsed with biip and refused precisely when they are broken or name the wrong kind of thing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchline.core.errors import DomainError
from batchline.inventory import labels, scanning
from batchline.inventory.scanning import container_from_scan, location_from_scan, resolve_scan

GS = "\x1d"
GTIN = "09506000134352"  # a valid GTIN-14 (check digit 2)


@pytest.fixture
def gtin_lot(wh: Any, approved: Any) -> Any:
    return make_gtin_lot(wh, approved)


def make_gtin_lot(wh: Any, approved: Any) -> Any:
    """A lot of a material that has a GTIN, received on its own purchase order: 3 × 25 kg."""
    from batchline.inventory import services
    from batchline.inventory.receiving import Receipt, receive_goods

    approved("material", code="GT-01", name_zh="有条码物料", name_en="Material with GTIN", material_type="raw",
             base_unit="kg", gtin=GTIN, incoming_inspection_required=False)
    _, order = services.register_purchase_order(actor=wh.clerk, source_system="BATCHLINE", data={
        "po_number": "PO-GTIN", "supplier": "SUP-01",
        "lines": [{"line_no": 1, "material": "GT-01", "quantity": "1000", "unit": "kg",
                   "expected_date": "2026-12-01"}]})
    return receive_goods(actor=wh.clerk, receipt=Receipt(
        purchase_order_line_id=order.lines.get().pk, location="RCV-01", containers=3, quantity_per_container="25",
        unit="kg", supplier_lot="SUP-77", expires_on=date(2030, 6, 30)))


def _label_text(container: Any) -> str:
    return labels.label_for(container).element_string


@pytest.mark.req("WMS-10")
@pytest.mark.parametrize("form", ["plain", "datamatrix", "qr", "standin", "hri"])
def test_our_label_resolves_to_its_container_in_every_scanner_form(wh: Any, gtin_lot: Any, form: str) -> None:
    container = gtin_lot.containers.get(serial=2)
    label = labels.label_for(container)
    text = {"plain": label.element_string, "datamatrix": "]d2" + label.element_string,
            "qr": "]Q3" + label.element_string, "standin": label.element_string.replace(GS, "\u241d"),
            "hri": label.hri}[form]
    scan = resolve_scan(text)
    assert scan.kind == "container" and scan.container == container
    assert scan.gtin == GTIN and scan.lot == gtin_lot.number and scan.serial == "002"
    assert scan.quantity == Decimal("25") and scan.unit == "kg" and scan.expires_on == date(2030, 6, 30)


@pytest.mark.req("WMS-10")
def test_a_label_of_a_material_without_gtin_carries_the_material_code_and_resolves(wh: Any, receive: Any) -> None:
    lot = receive("EXC-01", containers=2, each="12.5")
    container = lot.containers.get(serial=1)
    text = _label_text(container)
    assert text.startswith("3101000125240EXC-01" + GS)  # fixed-length quantity first, then the material code
    scan = resolve_scan("]d2" + text)
    assert scan.container == container and scan.material_code == "EXC-01" and scan.quantity == Decimal("12.5")


@pytest.mark.req("WMS-10")
def test_a_typed_container_code_resolves_even_in_lower_case(wh: Any, receive: Any) -> None:
    container = receive("EXC-01", containers=1).containers.get()
    assert container_from_scan(container.code) == container
    assert container_from_scan(f"  {container.code.lower()}\r\n") == container


@pytest.mark.req("WMS-10")
def test_a_scanner_that_drops_the_separator_still_finds_the_container(wh: Any, gtin_lot: Any) -> None:
    container = gtin_lot.containers.get(serial=3)
    text = _label_text(container).replace(GS, "")
    assert container_from_scan(text) == container


def test_a_location_resolves_by_its_code_and_by_gs1_ai_254(wh: Any) -> None:
    assert location_from_scan("A-01") == wh.locations["A-01"]
    assert location_from_scan("]d1A-01") == wh.locations["A-01"]
    assert location_from_scan("(414)5790000000005(254)C-01") == wh.locations["C-01"]


@pytest.mark.req("WMS-10")
def test_a_supplier_label_is_read_as_a_foreign_gs1_barcode(wh: Any, gtin_lot: Any) -> None:
    scan = resolve_scan(f"]d201{GTIN}10SUP-LOT-9{GS}1727123111250101" + "3102002500")
    assert scan.kind == "gs1" and scan.container is None
    assert scan.lot == "SUP-LOT-9" and scan.expires_on == date(2027, 12, 31)
    assert scan.manufactured_on == date(2025, 1, 1) and scan.quantity == Decimal("25.00") and scan.unit == "kg"
    assert scan.material is not None and scan.material.code == "GT-01"
    assert scan.hri.startswith(f"(01){GTIN}(10)SUP-LOT-9")


def test_a_supplier_label_with_a_lot_and_serial_is_not_taken_for_our_container(wh: Any, gtin_lot: Any) -> None:
    scan = resolve_scan(f"01{GTIN}10SUP-77{GS}21001")
    assert scan.kind == "gs1"


@pytest.mark.parametrize(("text", "words"), [
    ("]d20109506000134351", ["(01)", "check digit"]),
    ("(01)09506000134351(10)X", ["(01)", "check digit"]),
    ("(414)5790000000001(254)A-01", ["(414)", "check digit"]),
    (f"01{GTIN}17261331", ["17"]),
    ("]d2hello", ["hello"]),
])
def test_a_broken_gs1_barcode_is_refused_naming_the_problem(wh: Any, text: str, words: list[str]) -> None:
    with pytest.raises(scanning.BadBarcode) as refused:
        resolve_scan(text)
    assert refused.value.field == "scan"
    assert all(word in refused.value.render() for word in words)


@pytest.mark.parametrize("text", ["hello", "L9999-001", "12345"])
def test_text_that_is_nothing_known_is_not_recognised(wh: Any, text: str) -> None:
    with pytest.raises(scanning.ScanNotRecognised):
        resolve_scan(text)


def test_an_empty_scan_is_refused(wh: Any) -> None:
    with pytest.raises(DomainError) as refused:
        resolve_scan(" \r\n")
    assert refused.value.code == "empty_scan"


def test_a_location_is_not_a_container(wh: Any) -> None:
    with pytest.raises(scanning.NotAContainer) as refused:
        container_from_scan("A-01", field="container")
    assert refused.value.field == "container" and "A-01" in refused.value.render()


def test_a_container_is_not_a_location(wh: Any, receive: Any) -> None:
    container = receive("EXC-01", containers=1).containers.get()
    with pytest.raises(scanning.NotALocation) as refused:
        location_from_scan(container.code)
    assert container.code in refused.value.render()


def test_a_supplier_label_is_not_a_container(wh: Any, gtin_lot: Any) -> None:
    with pytest.raises(scanning.NotAContainer):
        container_from_scan(f"01{GTIN}10SUP-77")


def test_an_unknown_container_code_is_named(wh: Any) -> None:
    with pytest.raises(scanning.UnknownContainer) as refused:
        container_from_scan("L2607-999")
    assert "L2607-999" in refused.value.render() and refused.value.http_status == 404


def test_an_unknown_location_is_named(wh: Any) -> None:
    with pytest.raises(scanning.UnknownLocation) as refused:
        location_from_scan("Z-99")
    assert "Z-99" in refused.value.render()


def test_our_lot_and_container_number_under_another_gtin_is_refused(wh: Any, gtin_lot: Any) -> None:
    text = _label_text(gtin_lot.containers.get(serial=1)).replace(GTIN, "09501101530003")
    with pytest.raises(scanning.LabelMismatch) as refused:
        resolve_scan(text)
    assert "GT-01" in refused.value.render()


def test_a_code_that_is_both_a_container_and_a_location_is_ambiguous(wh: Any, receive: Any, approved: Any) -> None:
    container = receive("EXC-01", containers=1).containers.get()
    approved("location", code=container.code, name_zh="x", name_en="x", warehouse="WH1", location_type="storage")
    with pytest.raises(scanning.AmbiguousScan):
        resolve_scan(container.code)


class _Unit:
    def __init__(self, code: str, dimension: str) -> None:
        self.code, self.dimension = code, dimension


@pytest.mark.req("WMS-10")
@given(amount=st.decimals(min_value=0, max_value=Decimal("999999"), places=3, allow_nan=False,
                          allow_infinity=False),
       unit=st.sampled_from([("kg", "mass"), ("L", "volume"), ("pc", "count"), ("drum", "package")]))
def test_every_quantity_survives_the_label_and_the_scan(amount: Decimal, unit: tuple[str, str]) -> None:
    from biip.gs1_messages import GS1Message

    element = labels._quantity_element(amount, _Unit(*unit))
    parsed = GS1Message.parse(element.ai + element.value, config=scanning.PARSE_CONFIG)
    quantity, unit_code = scanning._quantity(list(parsed.element_strings))
    assert quantity == amount
    assert unit_code in {unit[0], ""}


@pytest.mark.req("WMS-10")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(each=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3),
       containers=st.integers(min_value=1, max_value=4), separator=st.sampled_from([GS, "\u241d"]))
def test_label_then_scan_gives_back_the_same_container(wh: Any, receive: Any, each: Decimal, containers: int,
                                                         separator: str) -> None:
    lot = receive("EXC-01", containers=containers, each=str(each))
    for container in lot.containers.all():
        text = "]d2" + _label_text(container).replace(GS, separator)
        scan = resolve_scan(text)
        assert scan.container == container and scan.quantity == each
