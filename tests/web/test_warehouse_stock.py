"""The warehouse workspace's stock screens: hub, stock with chart, location map, lot page with the signed
status change (WMS-03), handheld movements (WMS-07), blind cycle counts, alerts and policies (WMS-08)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.compliance.models import AuditEntry
from batchline.inventory import alerts, counting, movements
from batchline.inventory.models import Container, CycleCount, Lot, Movement, StockAlert, StockBalance
from conftest import PASSWORD


def client_for(user: Any, language: str = "zh-hans") -> Client:
    """`user` signed in, reading `language` (chosen as a person does, with the language switch)."""
    client = Client()
    client.force_login(user)
    if language != user.language:
        client.post("/language/", {"language": language, "next": "/"})
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def first(lot: Any) -> Container:
    return Container.objects.filter(lot=lot).order_by("serial")[0]


@pytest.fixture
def stocked(wh: Any, receive_released: Callable[..., Any]) -> Any:
    lot = receive_released(containers=2)
    for container in Container.objects.filter(lot=lot):
        movements.transfer(actor=wh.clerk, container=container, to_location="A-01")
    return lot


@pytest.fixture
def supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("supervisor", username="super", full_name="周强 Zhou Qiang")


# --- hub, stock, map --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "text"), [("zh-hans", "仓库"), ("en", "Warehouse")])
def test_the_hub_links_the_warehouse_screens_in_both_languages(wh: Any, stocked: Any, language: str,
                                                               text: str) -> None:
    html = client_for(wh.clerk, language).get(reverse("web:warehouse")).content.decode()
    assert text in html
    for name in ("warehouse_stock", "warehouse_location_map", "warehouse_counts", "warehouse_alerts",
                 "warehouse_transfer", "warehouse_return", "warehouse_scrap", "warehouse_sample",
                 "warehouse_receiving", "warehouse_putaway", "warehouse_picking", "warehouse_requests"):
        assert f'href="{reverse(f"web:{name}")}"' in html, name
    assert reverse("web:warehouse_policies") not in html  # the clerk does not configure policies


def test_the_hub_needs_the_inventory_view_permission(wh: Any, steward: Any) -> None:
    assert client_for(steward).get(reverse("web:warehouse")).status_code == 403


@pytest.mark.req("WMS-03")
def test_the_stock_list_shows_each_container_with_its_derived_status_and_the_chart_data(
        wh: Any, stocked: Any, receive: Callable[..., Any]) -> None:
    quarantined = receive("EXC-01", containers=1, each="10")
    html = client_for(wh.clerk).get(reverse("web:warehouse_stock")).content.decode()
    assert html.count('data-testid="stock-row"') == 3
    assert f'data-container="{first(quarantined).code}" data-state="quarantine"' in html
    assert f'data-container="{first(stocked).code}" data-state="released"' in html
    assert 'id="ws-chart-data"' in html and "echarts.min.js" in html
    assert '<html lang="zh-hans">' in html


def test_the_stock_list_filters_by_status_and_groups_by_material(wh: Any, stocked: Any,
                                                                 receive: Callable[..., Any]) -> None:
    receive("EXC-01", containers=1, each="10")
    client = client_for(wh.clerk, "en")
    html = client.get(reverse("web:warehouse_stock"), {"status": "quarantine"}).content.decode()
    assert html.count('data-testid="stock-row"') == 1
    html = client.get(reverse("web:warehouse_stock"), {"by": "material"}).content.decode()
    assert html.count('data-testid="stock-group"') == 2 and "50 kg" in html


def test_the_location_map_colours_locations_by_what_they_hold(wh: Any, stocked: Any) -> None:
    html = client_for(wh.clerk, "en").get(reverse("web:warehouse_location_map")).content.decode()
    assert 'data-location="A-01" data-state="released"' in html
    assert 'data-location="C-01" data-state="empty"' in html


# --- lot page and the status change ----------------------------------------------------------------------

def test_the_lot_page_shows_containers_and_every_movement_with_who_and_when(wh: Any, stocked: Any) -> None:
    html = client_for(wh.clerk).get(reverse("web:warehouse_lot", args=[stocked.pk])).content.decode()
    assert html.count('data-testid="container-row"') == 2
    assert html.count('data-testid="movement" data-type="receipt"') == 2
    assert html.count('data-testid="movement" data-type="transfer"') == 2
    assert "陈静 Chen Jing" in html and "(UTC+08:00)" in html
    assert 'data-testid="status-form"' not in html  # a clerk does not decide lot status


@pytest.mark.req("WMS-03")
def test_qa_changes_the_lot_status_with_a_signature_on_the_lot_page(wh: Any, receive: Callable[..., Any]) -> None:
    lot = receive(containers=1)
    client = client_for(wh.qa)
    page = client.get(reverse("web:warehouse_lot", args=[lot.pk])).content.decode()
    assert 'data-testid="status-form"' in page and 'data-testid="signature-dialog"' in page
    response = client.post(reverse("web:warehouse_lot_status", args=[lot.pk]), {
        "status": "released", "reason": "COA and identity test conform", "reference": "IL-2026-0007",
        "sig_username": wh.qa.username, "sig_password": PASSWORD})
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.status == "released"
    entry = AuditEntry.objects.get(record_type="inventory.lot", record_id=str(lot.pk), action="change_status")
    assert entry.signature is not None and entry.reason == "COA and identity test conform"
    # the second signature of the session asks for the password only
    response = client.post(reverse("web:warehouse_lot_status", args=[lot.pk]), {
        "status": "restricted", "restriction": "validation batches", "reason": "assay at the limit",
        "sig_password": PASSWORD})
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.status == "restricted"


@pytest.mark.req("WMS-03")
def test_a_wrong_signature_password_changes_nothing_and_says_why(wh: Any, receive: Callable[..., Any]) -> None:
    lot = receive(containers=1)
    response = client_for(wh.qa, "en").post(reverse("web:warehouse_lot_status", args=[lot.pk]), {
        "status": "released", "reason": "ok", "sig_username": wh.qa.username, "sig_password": "wrong"})
    assert response.status_code in (401, 403)
    assert error_code(response.content.decode()) is not None
    lot.refresh_from_db()
    assert lot.status == "quarantine"


def test_a_clerk_cannot_post_a_status_change(wh: Any, receive: Callable[..., Any]) -> None:
    lot = receive(containers=1)
    response = client_for(wh.clerk).post(reverse("web:warehouse_lot_status", args=[lot.pk]), {
        "status": "released", "reason": "x", "sig_username": "clerk", "sig_password": PASSWORD})
    assert response.status_code == 403
    assert Lot.objects.get(pk=lot.pk).status == "quarantine"


def test_the_lot_search_opens_a_lot_by_number_or_container(wh: Any, stocked: Any) -> None:
    client = client_for(wh.clerk)
    url = reverse("web:warehouse_lot", args=[stocked.pk])
    assert client.get(reverse("web:warehouse_lots"), {"q": stocked.number})["Location"] == url
    assert client.get(reverse("web:warehouse_lots"), {"q": first(stocked).code})["Location"] == url


# --- handheld movements -------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_transfer_is_scanned_container_first_then_location(wh: Any, stocked: Any) -> None:
    client = client_for(wh.clerk)
    container = first(stocked)
    page = client.get(reverse("web:warehouse_transfer"), {"container": container.code}).content.decode()
    assert f'data-container="{container.code}"' in page and 'name="to_location"' in page
    response = client.post(reverse("web:warehouse_transfer"), {"container": container.code, "to_location": "DSP-01",
                                                               "quantity": "", "unit": "kg"})
    assert response.status_code == 302 and response["Location"] == reverse("web:warehouse_transfer")
    assert StockBalance.objects.get(container=container, location__code="DSP-01").on_hand == Decimal("25")


def test_a_double_tap_on_a_movement_form_moves_once(wh: Any, stocked: Any) -> None:
    client = client_for(wh.clerk)
    container = first(stocked)
    page = client.get(reverse("web:warehouse_sample"), {"container": container.code}).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]+)"', page)
    assert token is not None
    form = {"container": container.code, "quantity": "100", "unit": "g", "reason_code": "retention_sample",
            "reference": "", "reason": "", "token": token.group(1)}
    assert client.post(reverse("web:warehouse_sample"), form).status_code == 302
    assert client.post(reverse("web:warehouse_sample"), form).status_code == 302
    assert Movement.objects.filter(movement_type="sample").count() == 1
    assert StockBalance.objects.get(container=container, location__code="A-01").on_hand == Decimal("24.9")


def test_a_refused_transfer_shows_the_reason_and_keeps_the_input(wh: Any, receive: Callable[..., Any]) -> None:
    container = first(receive(containers=1))
    response = client_for(wh.clerk, "en").post(reverse("web:warehouse_transfer"), {
        "container": container.code, "to_location": "A-01", "quantity": "3", "unit": "kg"})
    html = response.content.decode()
    assert response.status_code == 409 and error_code(html) == "location_not_usable"
    assert 'value="A-01"' in html and f"lot {container.lot.number} is in quarantine" in html
    assert not Movement.objects.filter(movement_type="transfer").exists()


def test_an_unknown_container_scan_is_refused(wh: Any) -> None:
    response = client_for(wh.clerk).get(reverse("web:warehouse_transfer"), {"container": "NOPE-404"})
    assert error_code(response.content.decode()) == "unknown_container"


@pytest.mark.req("WMS-07")
def test_scrap_return_and_sample_through_the_handheld_forms(wh: Any, stocked: Any) -> None:
    client = client_for(wh.clerk)
    one, two = Container.objects.filter(lot=stocked).order_by("serial")
    response = client.post(reverse("web:warehouse_sample"), {"container": one.code, "quantity": "100", "unit": "g",
                                                             "reason_code": "qc_sample", "reference": "IL-9"})
    assert response.status_code == 302
    response = client.post(reverse("web:warehouse_scrap"), {"container": two.code, "quantity": "", "unit": "kg",
                                                            "reason_code": "damaged", "reason": "forklift"})
    assert response.status_code == 302
    movements.transfer(actor=wh.clerk, container=one, to_location="LS-01")
    response = client.post(reverse("web:warehouse_return"), {
        "container": one.code, "to_location": "A-02", "reweighed_quantity": "24.8", "unit": "kg",
        "reason_code": "surplus", "reason": "", "order_ref": "MO-1"})
    assert response.status_code == 422 and error_code(response.content.decode()) == "reason_required"
    response = client.post(reverse("web:warehouse_return"), {
        "container": one.code, "to_location": "A-02", "reweighed_quantity": "24.8", "unit": "kg",
        "reason_code": "surplus", "reason": "weighed again", "order_ref": "MO-1"})
    assert response.status_code == 302
    kinds = list(Movement.objects.filter(lot=stocked).values_list("movement_type", flat=True).order_by("id"))
    assert kinds[-5:] == ["sample", "scrap", "transfer", "count_loss", "return"]


def test_movement_forms_follow_their_permissions(wh: Any, stocked: Any, make_user: Callable[..., Any]) -> None:
    analyst = client_for(make_user("qc_analyst"))
    assert analyst.get(reverse("web:warehouse_sample")).status_code == 200
    assert analyst.get(reverse("web:warehouse_transfer")).status_code == 403
    assert analyst.get(reverse("web:warehouse_scrap")).status_code == 403


# --- cycle counts ---------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_blind_count_then_a_signed_approval_by_a_second_person(wh: Any, stocked: Any, supervisor: Any) -> None:
    clerk = client_for(wh.clerk)
    response = clerk.post(reverse("web:warehouse_count_open"), {"location": "A-01"})
    count = CycleCount.objects.get()
    assert response["Location"] == reverse("web:warehouse_count", args=[count.pk])
    page = clerk.get(response["Location"]).content.decode()
    assert 'data-testid="count-entry"' in page
    assert 'data-testid="book"' not in page and ">25<" not in page  # blind: the book quantity is not shown
    one, two = Container.objects.filter(lot=stocked).order_by("serial")
    clerk.post(reverse("web:warehouse_count_enter", args=[count.pk]),
               {f"line:{one.code}": "25", f"line:{two.code}": "24", "extra_container": ["", "", ""],
                "extra_quantity": ["", "", ""]})
    count.refresh_from_db()
    assert count.status == "counted"
    assert 'data-testid="book"' not in clerk.get(reverse("web:warehouse_count", args=[count.pk])).content.decode()
    approver = client_for(supervisor)
    page = approver.get(reverse("web:warehouse_count", args=[count.pk])).content.decode()
    assert 'data-testid="count-approve"' in page and 'data-testid="difference">-1<' in page
    response = approver.post(reverse("web:warehouse_count_approve", args=[count.pk]), {
        "reason": "one drum light", "sig_username": supervisor.username, "sig_password": PASSWORD})
    assert response.status_code == 302
    assert Movement.objects.get(reference=count.number).movement_type == "count_loss"


def test_an_incomplete_count_is_refused_on_the_page(wh: Any, stocked: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    one = first(stocked)
    response = client_for(wh.clerk).post(reverse("web:warehouse_count_enter", args=[count.pk]),
                                         {f"line:{one.code}": "25"})
    assert error_code(response.content.decode()) == "count_incomplete"


def test_the_counter_is_not_offered_the_approval(wh: Any, stocked: Any, make_user: Callable[..., Any]) -> None:
    both = make_user("warehouse", "supervisor", username="both")
    count = counting.open_count(actor=both, location="A-01")
    counting.enter_count(actor=both, count_id=count.pk, lines={c.code: "25" for c in Container.objects.all()})
    page = client_for(both).get(reverse("web:warehouse_count", args=[count.pk])).content.decode()
    assert 'data-testid="count-approve"' not in page and 'data-testid="count-reject"' in page


# --- alerts and policies -------------------------------------------------------------------------------------

@pytest.mark.req("WMS-08")
def test_alerts_are_listed_with_their_figures(wh: Any, supervisor: Any) -> None:
    alerts.set_stock_policy(actor=supervisor, material="EXC-01", safety_stock="100")
    alerts.evaluate_alerts()
    html = client_for(wh.clerk, "en").get(reverse("web:warehouse_alerts")).content.decode()
    assert 'data-kind="safety_stock"' in html and "safety stock 100 kg" in html


def test_a_supervisor_sets_a_policy_and_evaluates_alerts_from_the_screens(wh: Any, supervisor: Any) -> None:
    client = client_for(supervisor)
    response = client.post(reverse("web:warehouse_policies"), {
        "material": "EXC-01", "safety_stock": "50", "unit": "", "expiry_warning_days": "60",
        "retest_warning_days": "20", "slow_moving_days": "90", "reason": ""})
    assert response.status_code == 302
    response = client.post(reverse("web:warehouse_alerts_evaluate"))
    assert response.status_code == 302 and StockAlert.objects.filter(kind="safety_stock").exists()
    response = client.post(reverse("web:warehouse_policies"), {
        "material": "EXC-01", "safety_stock": "-5", "unit": "", "expiry_warning_days": "60",
        "retest_warning_days": "20", "slow_moving_days": "90", "reason": "x"})
    assert response.status_code == 422 and 'data-field="safety_stock"' in response.content.decode()
