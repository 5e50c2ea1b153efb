"""The handheld receiving screens (WMS-01, WMS-02, WMS-10): purchase orders, the receipt form (with a
supplier label scan and double-tap protection), labels, putaway; Chinese by default, English on request."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.compliance.models import AuditEntry
from batchline.inventory.models import Container, Lot, Movement, StockBalance
from batchline.inventory.usability import today

GS = "\x1d"


def client_for(user: Any, language: str = "zh-hans") -> Client:
    """A signed-in client; the person's own language decides what the screens show."""
    from batchline.identity.models import User

    User.objects.filter(pk=user.pk).update(language=language)
    client = Client()
    client.force_login(user)
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def _form(wh: Any, **changes: str) -> dict[str, str]:
    values = {"token": "t-1", "supplier_lot": "SUP-2026-07",
              "manufactured_on": (today() - timedelta(days=10)).isoformat(), "expires_on": "", "retest_on": "",
              "containers": "3", "quantity_per_container": "25", "last_container_quantity": "5", "unit": "kg",
              "location": "RCV-01", "note": ""}
    values.update(changes)
    return values


@pytest.mark.req("WMS-01")
def test_the_receiving_start_lists_open_purchase_orders_in_chinese_and_english(wh: Any) -> None:
    zh = client_for(wh.clerk).get(reverse("web:warehouse_receiving"))
    assert zh.status_code == 200
    html = zh.content.decode()
    assert 'lang="zh-hans"' in html and 'data-po="PO-1"' in html and "甲供应商" in html
    en = client_for(wh.clerk, "en").get(reverse("web:warehouse_receiving")).content.decode()
    assert "Open purchase orders" in en and "Supplier A" in en


def test_a_scanned_po_number_opens_the_order(wh: Any) -> None:
    response = client_for(wh.clerk).get(reverse("web:warehouse_receiving"), {"q": "po-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:warehouse_receiving_order", args=[wh.order.pk])
    html = client_for(wh.clerk, "en").get(response["Location"]).content.decode()
    assert html.count('data-testid="receive-line"') == 3 and "Cool (2–8 °C)" in html


@pytest.mark.req("WMS-01")
def test_the_clerk_receives_a_line_into_quarantine_and_sees_the_result(wh: Any) -> None:
    client = client_for(wh.clerk)
    url = reverse("web:warehouse_receive_line", args=[wh.lines["API-01"].pk])
    assert 'name="token"' in client.get(url).content.decode()
    response = client.post(url, _form(wh))
    lot = Lot.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:warehouse_receipt", args=[lot.pk])
    assert lot.status == "quarantine" and lot.supplier_lot == "SUP-2026-07"
    assert sorted(StockBalance.objects.filter(lot=lot).values_list("on_hand", flat=True)) == [5, 25, 25]
    html = client.get(response["Location"]).content.decode()
    assert 'lang="zh-hans"' in html and 'data-status="quarantine"' in html
    assert html.count('data-testid="container"') == 3
    assert 'data-testid="inspection-needed"' in html


@pytest.mark.req("WMS-01")
def test_a_double_tap_on_receive_receives_once(wh: Any) -> None:
    client = client_for(wh.clerk)
    url = reverse("web:warehouse_receive_line", args=[wh.lines["API-01"].pk])
    first = client.post(url, _form(wh, token="same"))
    second = client.post(url, _form(wh, token="same"))
    assert first["Location"] == second["Location"] and Lot.objects.count() == 1


@pytest.mark.req("WMS-01")
@pytest.mark.parametrize(("changes", "field", "status"), [
    ({"containers": "x"}, "containers", 422),
    ({"quantity_per_container": "abc"}, "quantity_per_container", 422),
    ({"supplier_lot": ""}, "supplier_lot", 422),
    ({"manufactured_on": "31.12.2025"}, "manufactured_on", 422),
    ({"location": "A-01"}, "location", 409),
])
def test_a_bad_receipt_shows_the_error_at_its_field_and_writes_nothing(wh: Any, changes: dict[str, str], field: str,
                                                                       status: int) -> None:
    url = reverse("web:warehouse_receive_line", args=[wh.lines["API-01"].pk])
    response = client_for(wh.clerk, "en").post(url, _form(wh, **changes))
    assert response.status_code == status
    html = response.content.decode()
    assert f'data-field="{field}">' in html and f'class="field has-error" data-field="{field}"' in html
    assert 'value="SUP-2026-07"' in html or field == "supplier_lot"  # what was typed stays
    assert not Lot.objects.exists() and not Movement.objects.exists()


@pytest.mark.req("WMS-10")
def test_scanning_the_supplier_label_fills_in_lot_and_dates(wh: Any) -> None:
    url = reverse("web:warehouse_receive_line", args=[wh.lines["EXC-01"].pk])
    html = client_for(wh.clerk, "en").post(url, {"action": "scan", "scan": f"]d210SL-42{GS}17271130112501013102002500"}
                                           ).content.decode()
    assert 'data-testid="scanned"' in html
    assert 'name="supplier_lot" value="SL-42"' in html and 'value="2027-11-30"' in html and 'value="2025-01-01"' in html
    assert 'name="quantity_per_container" value="25"' in html
    assert not Lot.objects.exists()


@pytest.mark.parametrize(("text", "code"), [("A-01", "not_a_supplier_label"), ("]d20109506000134351", "bad_barcode")])
def test_a_scan_that_is_no_supplier_label_is_refused_on_the_form(wh: Any, text: str, code: str) -> None:
    url = reverse("web:warehouse_receive_line", args=[wh.lines["EXC-01"].pk])
    response = client_for(wh.clerk).post(url, {"action": "scan", "scan": text})
    assert response.status_code == 422
    assert f'data-testid="scan-error" data-code="{code}"' in response.content.decode()


@pytest.mark.req("WMS-10")
def test_labels_are_previewed_then_printed_and_a_reprint_needs_a_reason(wh: Any, receive: Any) -> None:
    lot = receive("EXC-01", containers=2, each="12.5")
    client = client_for(wh.clerk, "en")
    preview = client.get(reverse("web:warehouse_labels", args=[lot.pk])).content.decode()
    assert preview.count('data-testid="label"') == 2 and "<svg" in preview and "cl-sheet preview" in preview
    assert f"(10){lot.number}(21)001" in preview and "QUARANTINE" in preview and "乳糖" in preview
    printed = client.post(reverse("web:warehouse_labels_print", args=[lot.pk]), {"format": "html"})
    assert printed.status_code == 200 and 'data-testid="printed"' in printed.content.decode()
    assert set(Container.objects.filter(lot=lot).values_list("labels_printed", flat=True)) == {1}
    one = Container.objects.get(lot=lot, serial=1)
    again = client.post(reverse("web:warehouse_labels_print", args=[lot.pk]), {"container": one.pk})
    assert again.status_code == 422 and error_code(again.content.decode()) == "reason_required"
    zpl = client.post(reverse("web:warehouse_labels_print", args=[lot.pk]),
                      {"container": one.pk, "reason": "torn", "format": "zpl"})
    assert zpl["Content-Type"].startswith("text/plain") and zpl.content.startswith(b"^XA")
    assert AuditEntry.objects.filter(action="reprint_label", reason="torn", record_id=str(one.pk)).exists()


@pytest.mark.req("WMS-02")
def test_putaway_shows_suggestions_refuses_a_wrong_location_and_moves_to_a_right_one(wh: Any, receive: Any) -> None:
    container = receive("COOL-01", containers=1).containers.get()
    client = client_for(wh.clerk, "en")
    step2 = client.post(reverse("web:warehouse_putaway"), {"scan": container.code}).content.decode()
    assert f'data-code="{container.code}"' in step2 and 'data-location="QUA-C"' in step2
    assert 'data-location="QUA-01"' not in step2
    to = reverse("web:warehouse_putaway_to", args=[container.pk])
    refused = client.post(to, {"location": "QUA-01"})
    assert refused.status_code == 409
    html = refused.content.decode()
    assert error_code(html) == "location_not_usable" and "COOL-01" in html and "Cool (2–8 °C)" in html
    assert not Movement.objects.filter(movement_type="putaway").exists()
    done = client.post(to, {"location": "QUA-C"})
    assert done.status_code == 302 and done["Location"] == reverse("web:warehouse_putaway")
    assert StockBalance.objects.get(container=container, on_hand__gt=0).location.code == "QUA-C"
    assert "QUA-C" in client.get(done["Location"]).content.decode()  # the success message


def test_putaway_refuses_a_location_scanned_as_the_container(wh: Any) -> None:
    response = client_for(wh.clerk).post(reverse("web:warehouse_putaway"), {"scan": "A-01"})
    assert response.status_code == 422 and error_code(response.content.decode()) == "not_a_container"


def test_people_without_the_warehouse_permissions_cannot_receive_or_put_away(wh: Any, make_user: Any) -> None:
    analyst = client_for(make_user("qc_analyst"))
    assert analyst.get(reverse("web:warehouse_receive_line", args=[wh.lines["API-01"].pk])).status_code == 403
    assert analyst.get(reverse("web:warehouse_putaway")).status_code == 403
    assert analyst.get(reverse("web:warehouse_receiving")).status_code == 200  # reading is allowed
