"""Container labels (WMS-10): the GS1 element string, a GS1 DataMatrix that a real decoder reads
back to the same container, ZPL, and recorded printing (a reprint needs a reason)."""

from __future__ import annotations

from typing import Any

import pytest
import zxingcpp

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError
from batchline.inventory import labels
from batchline.inventory.scanning import resolve_scan
from inventory.test_scanning import GTIN, make_gtin_lot

GS = "\x1d"


@pytest.fixture
def gtin_lot(wh: Any, approved: Any) -> Any:
    return make_gtin_lot(wh, approved)


def _decode(label: Any) -> Any:
    image = labels.symbol(label).get_pilimage(cellsize=4)
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    return found[0]


@pytest.mark.req("WMS-10")
def test_the_element_string_has_the_documented_layout(wh: Any, gtin_lot: Any) -> None:
    label = labels.label_for(gtin_lot.containers.get(serial=1))
    assert label.element_string == f"01{GTIN}17300630310000002510{gtin_lot.number}{GS}21001"
    assert label.hri == f"(01){GTIN}(17)300630(3100)000025(10){gtin_lot.number}(21)001"
    assert (label.containers_in_lot, label.quantity_text, label.unit, label.supplier_lot) == (3, "25", "kg", "SUP-77")


@pytest.mark.req("WMS-10")
def test_the_datamatrix_is_gs1_and_decodes_to_the_same_container(wh: Any, gtin_lot: Any, receive: Any) -> None:
    for container in [gtin_lot.containers.get(serial=3), receive("API-01", containers=1, each="7.125")
                      .containers.get()]:
        label = labels.label_for(container)
        decoded = _decode(label)
        assert decoded.symbology_identifier == "]d2"  # GS1 DataMatrix: FNC1 in first position
        assert decoded.bytes.decode() == label.element_string
        scanned = resolve_scan(decoded.symbology_identifier + decoded.bytes.decode())
        assert scanned.container == container and scanned.quantity == label.quantity


def test_a_lot_number_gs1_cannot_carry_gets_a_plain_datamatrix_of_the_container_code(wh: Any, receive: Any) -> None:
    from batchline.masterdata import numbering

    numbering.save_rule(actor=wh.steward, key="lot", prefix="WAREHOUSE-ONE-LOT-", pattern="{prefix}{yyyy}{seq:06}",
                        reset="yearly", reason="longer numbers")
    container = receive("EXC-01", containers=1).containers.get()
    label = labels.label_for(container)
    assert not label.elements and "20" in label.not_encodable
    decoded = _decode(label)
    assert decoded.text == container.code
    assert resolve_scan(decoded.symbology_identifier + decoded.text).container == container


def test_the_svg_and_the_zpl_carry_the_symbol(wh: Any, gtin_lot: Any) -> None:
    label = labels.label_for(gtin_lot.containers.get(serial=1))
    svg = labels.symbol_svg(label)
    assert svg.startswith("<svg") and 'class="datamatrix"' in svg and "<rect" in svg
    zpl = labels.zpl(label)
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert f"^BXN,8,200,,,,_^FD_101{GTIN}" in zpl and f"{gtin_lot.number}_121001^FS" in zpl
    assert "QUARANTINE" in zpl


@pytest.mark.req("WMS-10")
def test_printing_counts_and_audits_and_a_reprint_needs_a_reason(wh: Any, gtin_lot: Any) -> None:
    ids = list(gtin_lot.containers.values_list("pk", flat=True))
    printed = labels.print_labels(actor=wh.clerk, container_ids=ids)
    assert [c.labels_printed for c in printed] == [1, 1, 1]
    assert AuditEntry.objects.filter(record_type="inventory.container", action="print_label").count() == 3
    with pytest.raises(DomainError) as refused:
        labels.print_labels(actor=wh.clerk, container_ids=ids[:1], reason="  ")
    assert refused.value.code == "reason_required"
    assert gtin_lot.containers.get(pk=ids[0]).labels_printed == 1
    labels.print_labels(actor=wh.clerk, container_ids=ids[:1], reason="label torn")
    entry = AuditEntry.objects.get(record_type="inventory.container", record_id=str(ids[0]), action="reprint_label")
    assert entry.reason == "label torn"
    assert gtin_lot.containers.get(pk=ids[0]).labels_printed == 2


def test_printing_needs_the_receive_permission_and_known_containers(wh: Any, gtin_lot: Any, make_user: Any) -> None:
    ids = list(gtin_lot.containers.values_list("pk", flat=True))
    with pytest.raises(DomainError) as refused:
        labels.print_labels(actor=make_user("qc_analyst"), container_ids=ids)
    assert refused.value.code == "permission_denied"
    with pytest.raises(DomainError) as refused:
        labels.print_labels(actor=wh.clerk, container_ids=[*ids, 999999])
    assert refused.value.field == "containers"
    with pytest.raises(DomainError):
        labels.print_labels(actor=wh.clerk, container_ids=[])
    assert set(gtin_lot.containers.values_list("labels_printed", flat=True)) == {0}
