"""Issue 4's handheld pick on a phone-sized screen (Chinese): the clerk opens the pick task, scans a
wrong container and is refused with the reason, scans the right one, confirms the quantity, and the
container is split into a new one whose label the done screen links to (WMS-04, WMS-05)."""

from __future__ import annotations

from typing import Any

import pytest

from browser.conftest import PHONE
from conftest import PASSWORD
from plugins.picking import build_plant, stock_lot


def _sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=sign-out]")


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.req("WMS-04", "WMS-05")
def test_a_clerk_picks_by_scanning_on_a_phone(live_server: Any, new_page: Any) -> None:
    from batchline.inventory.allocation import request_material
    from batchline.inventory.models import PickTask
    from batchline.inventory.usability import today

    plant = build_plant(["API-01"])
    lot = stock_lot(plant, "API-01", containers=2, each="25")
    made = request_material(actor=plant.clerk, order_ref="MO-2026-0042", material_code="API-01", quantity="10",
                            unit="kg", need_by=today(), to_location="STG-01")
    task = made.tasks.select_related("container").get()
    other = lot.containers.exclude(pk=task.container_id).get()
    base = live_server.url

    page = new_page(locale="zh-CN", viewport=PHONE)
    _sign_in(page, base, "clerk")
    page.goto(f"{base}/warehouse/picking/")
    group = page.locator("[data-testid=pick-group]")
    assert group.get_attribute("data-order") == "MO-2026-0042"
    card = page.locator(f"[data-testid=pick-task][data-task='{task.pk}']")
    assert card.bounding_box()["height"] >= 48  # a target for a gloved finger
    assert _fits_the_screen(page)
    card.click()

    page.wait_for_selector("[data-testid=pick-scan]")
    assert page.locator("[data-testid=pick-location]").inner_text() == "A-01"
    assert page.locator("[data-testid=pick-container]").inner_text() == task.container.code
    assert page.evaluate("document.activeElement.id") == "id_scanned"  # the scanner types into it at once
    assert _fits_the_screen(page)

    page.keyboard.type(other.code)  # a keyboard-wedge scanner: the code, then Enter
    page.keyboard.press("Enter")
    refusal = page.locator("[data-testid=pick-error]")
    refusal.wait_for()
    assert refusal.get_attribute("data-code") == "wrong_container"
    assert task.container.code in refusal.inner_text()  # says which one to take instead
    assert PickTask.objects.get(pk=task.pk).status == "open"

    page.keyboard.type(task.container.code)
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=pick-confirm-form]")
    assert page.evaluate("document.activeElement.id") == "id_quantity"
    assert page.locator("[data-testid=pick-quantity]").input_value() == "10"
    page.click("[data-testid=pick-confirm]")

    done = page.locator("[data-testid=pick-done]")
    done.wait_for()
    assert done.get_attribute("data-status") == "done"
    new_code = f"{lot.number}-003"
    assert page.locator("[data-testid=pick-moved]").inner_text() == new_code
    assert new_code in page.locator("[data-testid=pick-split]").inner_text()
    label = page.locator("[data-testid=pick-label]")
    if label.count():  # the label screens (warehouse receiving) are installed
        label.click()
        page.wait_for_load_state()
        assert new_code in page.content()
    assert _fits_the_screen(page)
    picked = PickTask.objects.select_related("picked_container").get(pk=task.pk)
    assert picked.status == "done" and picked.picked_container is not None
    assert picked.picked_container.code == new_code
