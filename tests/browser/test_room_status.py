"""Issue 5's browser scenario (EQ-06): a shift lead has a room's status page open; an action-level
particle count arrives; without a reload the page turns to action level, lists the new alarm and draws
the reading in the trend chart. The lead then acknowledges the alarm with an electronic signature."""

from __future__ import annotations

from typing import Any

import pytest

from browser.conftest import TABLET
from conftest import PASSWORD


def _sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=sign-out]")


@pytest.mark.req("EQ-06")
def test_the_room_status_page_shows_a_live_excursion(live_server: Any, new_page: Any) -> None:
    from batchline.environment.ingestion import ingest_reading
    from batchline.environment.models import Alarm
    from environment.conftest import build_plant

    plant = build_plant()
    ingest_reading(plant.reading("PC05-RB1", "12000"))  # grade B, in operation: well within limits
    base = live_server.url
    page = new_page(locale="zh-CN", viewport=TABLET)
    _sign_in(page, base, "lead")
    page.goto(f"{base}/environment/rooms/RB1/")
    page.wait_for_selector("[data-testid=room-state][data-state=ok]")
    page.wait_for_selector("[data-testid=trend-PC05-RB1][data-points='1']")
    page.evaluate("window.stillTheSamePage = true")

    ingest_reading(plant.reading("PC05-RB1", "400000"))  # beyond the action limit of 352,000 /m³

    page.wait_for_selector("[data-testid=room-state][data-state=action]")
    alarm = Alarm.objects.get()
    row = page.locator(f"[data-testid=alarm-{alarm.pk}]")
    row.wait_for()
    assert row.get_attribute("data-level") == "action" and row.get_attribute("data-state") == "open"
    assert page.locator("[data-testid=value-PC05-RB1]").get_attribute("data-level") == "action"
    page.wait_for_selector("[data-testid=trend-PC05-RB1][data-points='2']")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    row.locator("a").click()
    form = page.locator("[data-testid=acknowledge-form]")
    form.locator("[data-testid=ack-comment]").fill("粒子计数器复核，门已关闭")
    form.locator("[data-testid=sig-username]").fill("lead")
    form.locator("[data-testid=sig-password]").fill(PASSWORD)
    form.locator("[data-testid=acknowledge]").click()
    page.wait_for_selector("[data-testid=signature-manifest]")
    assert "张伟 Zhang Wei (lead)" in page.locator("[data-testid=signature-manifest]").inner_text()
    alarm.refresh_from_db()
    assert alarm.state == "acknowledged" and alarm.signature is not None
