"""Issue 4's handheld scenario on a phone-sized screen (390 × 844, Chinese): a clerk finds the
purchase order, scans the supplier's label, receives two containers into quarantine, prints their
labels (the printed DataMatrix is decoded from a screenshot back to the container), and puts one
away: a wrong location is refused with the reason, a suggested one is taken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from browser.conftest import PHONE
from conftest import PASSWORD, sig

GS = "\x1d"


def _plant() -> Any:
    """Master data and a purchase order, committed, built through the services."""
    from batchline.identity import services as identity
    from batchline.identity.models import User
    from batchline.inventory import services as inventory
    from batchline.masterdata import numbering
    from batchline.masterdata import services as masterdata
    from batchline.masterdata.registry import kind_of

    people = {}
    for username, full_name, role in [("wangming", "王明", "data_steward"), ("lihua", "李华", "qa_reviewer"),
                                      ("chenjing", "陈静", "warehouse")]:
        user = identity.create_user(actor=None, username=username, full_name=full_name, roles=[role],
                                    initial_password=PASSWORD)
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        people[username] = User.objects.get(pk=user.pk)

    def approved(kind: str, **data: Any) -> Any:
        item = masterdata.create_item(actor=people["wangming"], kind=kind_of(kind), data=data)
        return masterdata.approve_item(actor=people["lihua"], kind=kind_of(kind), item_id=item.pk,
                                       signature=sig(people["lihua"]))

    approved("unit", code="kg", name_zh="千克", name_en="kilogram", dimension="mass", factor="1")
    approved("material", code="EXC-01", name_zh="乳糖", name_en="Lactose", material_type="raw", base_unit="kg",
             shelf_life_days=1095)
    approved("site", code="S1", name_zh="工厂", name_en="Plant")
    approved("warehouse", code="WH1", name_zh="原料库", name_en="Raw materials", site="S1")
    for code, kind, name in [("RCV-01", "receiving", "收货区"), ("QUA-01", "quarantine", "待验区 1"),
                             ("A-01", "storage", "货架 A-01")]:
        approved("location", code=code, name_zh=name, name_en=code, warehouse="WH1", location_type=kind,
                 storage_condition="ambient")
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    numbering.save_rule(actor=people["wangming"], key="lot", prefix="L", pattern="{prefix}{yy}{mm}{seq:04}",
                        reset="monthly")
    inventory.register_purchase_order(actor=people["chenjing"], source_system="ERP", data={
        "po_number": "4500001234", "supplier": "SUP-01", "lines": [
            {"line_no": 10, "material": "EXC-01", "quantity": "100", "unit": "kg", "expected_date": "2026-12-01"}]})
    return people


def _fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.req("WMS-01", "WMS-02", "WMS-10")
def test_a_clerk_receives_prints_labels_and_puts_away_on_a_phone(live_server: Any, new_page: Any) -> None:
    import zxingcpp
    from PIL import Image

    from batchline.inventory.models import Lot, StockBalance
    from batchline.inventory.scanning import resolve_scan
    from batchline.inventory.usability import today

    _plant()
    base = live_server.url
    page = new_page(locale="zh-CN", viewport=PHONE)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "chenjing")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=sign-out]")

    # Find the purchase order by scanning its number.
    page.goto(f"{base}/warehouse/receiving/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.evaluate("document.activeElement.id") == "id_q"  # the scan field has the focus
    page.fill("#id_q", "4500001234")
    page.press("#id_q", "Enter")
    page.wait_for_selector("[data-testid=lines]")
    _fits_the_phone(page)
    page.click("[data-testid=receive-line]")

    # Scan the supplier's label: lot, expiry and manufacture date fill in.
    page.wait_for_selector("[data-testid=label-scan-form]")
    made = today() - timedelta(days=40)
    # As a keyboard-wedge scanner types it: the GS separator arrives as Ctrl+].
    page.type("[data-testid=scan]", "]d210SL-2026-77")
    page.press("[data-testid=scan]", "Control+BracketRight")
    page.type("[data-testid=scan]", f"17{(made + timedelta(days=700)):%y%m%d}11{made:%y%m%d}")
    assert GS in page.input_value("[data-testid=scan]")
    page.press("[data-testid=scan]", "Enter")
    page.wait_for_selector("[data-testid=scanned]")
    assert page.input_value("#id_supplier_lot") == "SL-2026-77"
    assert page.input_value("#id_manufactured_on") == made.isoformat()
    page.fill("#id_containers", "2")
    page.fill("#id_quantity_per_container", "20")
    _fits_the_phone(page)
    page.click("[data-testid=receive-submit]")

    result = page.wait_for_selector("[data-testid=receipt-result]")
    assert result.get_attribute("data-status") == "quarantine"
    lot = Lot.objects.get()
    assert result.get_attribute("data-lot") == lot.number and lot.supplier_lot == "SL-2026-77"
    assert page.locator("[data-testid=container]").count() == 2

    # Labels: preview, print (recorded), and the printed symbol scans back to the container.
    page.click("[data-testid=labels]")
    page.click("[data-testid=print]")
    page.wait_for_selector("[data-testid=printed]")
    assert set(lot.containers.values_list("labels_printed", flat=True)) == {1}
    first_label = page.locator("[data-testid=label]").first
    shot = first_label.locator(".cl-symbol").screenshot()
    import io

    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert len(decoded) == 1 and decoded[0].symbology_identifier == "]d2"
    scanned = resolve_scan(decoded[0].symbology_identifier + decoded[0].bytes.decode())
    assert scanned.container is not None and scanned.container.code == first_label.get_attribute("data-container")

    # Putaway: a storage location is refused for quarantined stock; the suggested quarantine area is taken.
    page.click("[data-testid=back-to-lot]")
    page.locator("[data-testid=putaway-container]").first.click()
    page.wait_for_selector("[data-testid=suggestions]")
    assert page.evaluate("document.activeElement.id") == "id_location"
    assert page.locator("[data-testid=suggestion]").first.get_attribute("data-location") == "QUA-01"
    page.fill("[data-testid=location]", "A-01")
    page.press("[data-testid=location]", "Enter")
    refusal = page.wait_for_selector("[data-testid=error]")
    assert refusal.get_attribute("data-code") == "location_not_usable" and "A-01" in refusal.inner_text()
    _fits_the_phone(page)
    page.locator("[data-testid=suggestion]").first.click()
    page.wait_for_selector("#flash .success")
    assert "QUA-01" in page.locator("#flash").inner_text()
    container = lot.containers.get(serial=1)
    assert StockBalance.objects.get(container=container, on_hand__gt=0).location.code == "QUA-01"
