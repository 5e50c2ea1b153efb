"""Issue 2's browser scenario: a data steward signs in (Chinese), creates a material; a QA reviewer
approves it with an electronic signature; both entries are found in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from browser.conftest import TABLET
from conftest import PASSWORD


def _person(username: str, full_name: str, role: str) -> Any:
    from batchline.identity import services
    from batchline.identity.models import User

    user = services.create_user(actor=None, username=username, full_name=full_name, roles=[role],
                                initial_password=PASSWORD)
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    return user


def _approved_unit(steward: Any, approver: Any) -> None:
    from batchline.compliance.signatures import SignatureRequest
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    unit = services.create_item(actor=steward, kind=kind_of("unit"), data={
        "code": "kg", "name_zh": "千克", "name_en": "kilogram", "dimension": "mass", "factor": "1"})
    services.approve_item(actor=approver, kind=kind_of("unit"), item_id=unit.pk,
                          signature=SignatureRequest(password=PASSWORD, meaning="approve", username=approver.username))


def _sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=sign-out]")


@pytest.mark.req("AT-01", "ES-01", "ES-05", "ES-08", "MD-01", "AT-09")
def test_steward_creates_material_and_second_person_approves_with_signature(live_server: Any, new_page: Any) -> None:
    steward = _person("wangming", "王明", "data_steward")
    approver = _person("lihua", "李华", "qa_reviewer")
    _approved_unit(steward, approver)
    base = live_server.url

    page = new_page(locale="zh-CN", viewport=TABLET)
    page.goto(f"{base}/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "登录" in page.locator("h1").inner_text()

    _sign_in(page, base, "wangming")
    page.goto(f"{base}/masterdata/material/new/")
    page.fill("#id_code", "RM-0101")
    page.fill("#id_name_zh", "微晶纤维素 PH102")
    page.fill("#id_name_en", "Microcrystalline cellulose PH102")
    page.select_option("#id_material_type", "raw")
    page.select_option("#id_base_unit", "kg")
    page.fill("#id_shelf_life_days", "1095")
    page.click("[data-testid=item-form] button[type=submit]")
    page.wait_for_selector("[data-testid=approve-form], [data-testid=draft-actions]")
    assert page.locator("[data-testid=status]").first.get_attribute("data-status") == "draft"
    detail_url = page.url
    page.click("[data-testid=sign-out]")
    page.wait_for_selector("#id_username")

    _sign_in(page, base, "lihua")
    page.goto(detail_url)
    form = page.locator("[data-testid=approve-form]")
    form.locator("[data-testid=sig-username]").fill("lihua")
    form.locator("[data-testid=sig-password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=signature-manifest]")
    assert page.locator("[data-testid=status]").first.get_attribute("data-status") == "approved"
    manifest = page.locator("[data-testid=signature-manifest]").inner_text()
    assert "李华 (lihua)" in manifest
    assert "批准" in manifest  # the meaning, in the reader's language
    assert "UTC+08:00" in manifest  # date and time with the site's time zone

    page.goto(f"{base}/audit/?record_type=masterdata.material")
    entries = page.locator("[data-testid=audit-entries]").inner_text()
    assert "RM-0101" in entries
    assert "wangming" in entries and "lihua" in entries
    rows = page.locator("[data-testid=audit-entries] tbody tr")
    actions = {rows.nth(i).get_attribute("data-action") for i in range(rows.count())}
    assert {"create", "approve"} <= actions
