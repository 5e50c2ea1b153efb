"""The handheld picking screens and the material-request screens (issue 4; WMS-04, WMS-05)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.inventory.models import MaterialRequest, Movement, PickTask
from batchline.inventory.usability import today


def client_for(user: Any, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="(?:pick|request)-error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def test_open_tasks_are_listed_grouped_by_request_most_urgent_first(wh: Any, stock: Callable[..., Any],
                                                                     request_for: Callable[..., Any]) -> None:
    from datetime import timedelta

    stock()
    later = request_for("API-01", "5", order_ref="MO-LATER", need_by=today() + timedelta(days=9))
    sooner = request_for("API-01", "5", order_ref="MO-SOONER", need_by=today() + timedelta(days=1))
    html = client_for(wh.clerk).get(reverse("web:warehouse_picking")).content.decode()
    assert html.index("MO-SOONER") < html.index("MO-LATER")
    assert reverse("web:warehouse_pick", args=[sooner.tasks.get().pk]) in html
    assert reverse("web:warehouse_pick", args=[later.tasks.get().pk]) in html


def test_the_pick_screen_says_where_to_go_and_focuses_the_scan_field(wh: Any, stock: Callable[..., Any],
                                                                     request_for: Callable[..., Any]) -> None:
    stock()
    task = request_for("API-01", "10").tasks.select_related("container").get()
    html = client_for(wh.clerk).get(reverse("web:warehouse_pick", args=[task.pk])).content.decode()
    assert 'data-testid="pick-location">A-01<' in html and task.container.code in html
    assert re.search(r'<input id="id_scanned"[^>]*autofocus', html)
    assert 'data-testid="pick-splits"' in html  # 10 of 25: the container will be split


@pytest.mark.req("WMS-04")
def test_a_wrong_scan_is_refused_on_the_screen_with_the_reason(wh: Any, stock: Callable[..., Any],
                                                               request_for: Callable[..., Any]) -> None:
    lot = stock()
    task = request_for("API-01", "10").tasks.select_related("container").get()
    other = lot.containers.exclude(pk=task.container_id).get()
    response = client_for(wh.clerk).post(reverse("web:warehouse_pick", args=[task.pk]), {"scanned": other.code})
    html = response.content.decode()
    assert response.status_code == 409 and error_code(html) == "wrong_container"
    assert f"拣取容器 {task.container.code}" in html  # the clerk reads the reason in Chinese
    assert 'data-testid="pick-confirm-form"' not in html


def test_scan_then_confirm_picks_and_links_the_new_label(wh: Any, stock: Callable[..., Any],
                                                        request_for: Callable[..., Any]) -> None:
    lot = stock()
    task = request_for("API-01", "10").tasks.select_related("container").get()
    client = client_for(wh.clerk)
    scanned = client.post(reverse("web:warehouse_pick", args=[task.pk]), {"scanned": task.container.code})
    assert 'data-testid="pick-confirm-form"' in scanned.content.decode()
    done = client.post(reverse("web:warehouse_pick_confirm", args=[task.pk]),
                       {"scanned": task.container.code, "quantity": "10", "to_location": "", "reason": ""})
    assert done.status_code == 302 and done["Location"] == reverse("web:warehouse_pick_done", args=[task.pk])
    page = client.get(done["Location"]).content.decode()
    new = PickTask.objects.get(pk=task.pk).picked_container
    assert new is not None and new.code == f"{lot.number}-003" and new.code in page
    if 'data-testid="pick-label"' in page:  # once the label screens are installed
        assert f"?container={new.pk}" in page
    assert Movement.objects.filter(movement_type="pick", container=new).exists()


def test_a_short_pick_without_a_reason_stays_on_the_confirm_step(wh: Any, stock: Callable[..., Any],
                                                                 request_for: Callable[..., Any]) -> None:
    stock()
    task = request_for("API-01", "10").tasks.select_related("container").get()
    response = client_for(wh.clerk).post(reverse("web:warehouse_pick_confirm", args=[task.pk]),
                                         {"scanned": task.container.code, "quantity": "7", "reason": ""})
    html = response.content.decode()
    assert response.status_code == 422 and error_code(html) == "reason_required"
    assert 'data-testid="pick-confirm-form"' in html and 'value="7"' in html
    assert PickTask.objects.get(pk=task.pk).status == "open"


def test_a_supervisor_creates_a_request_that_is_allocated_at_once(wh: Any, stock: Callable[..., Any],
                                                                  supervisor: Any) -> None:
    stock()
    client = client_for(supervisor)
    assert client.get(reverse("web:warehouse_request_new")).status_code == 200
    response = client.post(reverse("web:warehouse_request_new"), {
        "order_ref": "MO-77", "material": "API-01", "quantity": "12", "unit": "", "need_by": today().isoformat(),
        "to_location": "STG-01", "lot": ""})
    made = MaterialRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:warehouse_request", args=[made.pk])
    assert (made.status, made.allocated_quantity) == ("allocated", Decimal("12"))
    html = client.get(response["Location"]).content.decode()
    assert 'data-status="allocated"' in html and "MO-77" in html
    listed = client.get(reverse("web:warehouse_requests")).content.decode()
    assert "MO-77" in listed


def test_a_bad_request_form_is_shown_again_with_the_error(wh: Any, supervisor: Any) -> None:
    response = client_for(supervisor).post(reverse("web:warehouse_request_new"), {
        "order_ref": "MO-78", "material": "API-01", "quantity": "-3", "unit": "", "need_by": today().isoformat(),
        "to_location": "", "lot": ""})
    assert response.status_code == 422 and error_code(response.content.decode()) == "not_positive"
    assert 'value="MO-78"' in response.content.decode()
    assert not MaterialRequest.objects.exists()


def test_cancelling_a_request_needs_a_reason_and_releases_it(wh: Any, stock: Callable[..., Any],
                                                             request_for: Callable[..., Any], supervisor: Any) -> None:
    stock()
    made = request_for("API-01", "10")
    client = client_for(supervisor)
    refused = client.post(reverse("web:warehouse_request_cancel", args=[made.pk]), {"reason": ""})
    assert refused.status_code == 422 and error_code(refused.content.decode()) == "reason_required"
    done = client.post(reverse("web:warehouse_request_cancel", args=[made.pk]), {"reason": "order moved"})
    assert done.status_code == 302
    made.refresh_from_db()
    assert made.status == "cancelled"


def test_an_operator_can_neither_pick_nor_request_material(wh: Any, stock: Callable[..., Any],
                                                                      request_for: Callable[..., Any],
                                                                      make_user: Callable[..., Any]) -> None:
    stock()
    task = request_for("API-01", "10").tasks.get()
    operator = make_user("operator")
    assert client_for(operator).get(reverse("web:warehouse_pick", args=[task.pk])).status_code == 403
    assert client_for(operator).get(reverse("web:warehouse_request_new")).status_code == 403
    assert client_for(wh.clerk).get(reverse("web:warehouse_picking")).status_code == 200
