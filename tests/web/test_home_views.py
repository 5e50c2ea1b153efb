"""The home page: greeting, workspaces by permission and each person's waiting work."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from batchline.identity.models import User
from batchline.masterdata import services
from batchline.masterdata.registry import kind_of
from batchline.web.signing import SESSION_FLAG

UNIT = kind_of("unit")
KILOGRAM = {"code": "kg", "name_zh": "千克", "name_en": "kilogram", "dimension": "mass", "factor": "1"}


def home_of(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, testid: str) -> str:
    """One "my work" panel of the page, up to the next panel."""
    start = page.index(f'data-testid="{testid}"')
    end = page.find('class="panel"', start)
    return page[start:end if end != -1 else len(page)]


def test_home_greets_the_person_with_their_roles(steward: Any) -> None:
    page = home_of(steward)
    assert "王明 Wang Ming" in page
    assert "主数据管理员" in page  # role label in the person's language (Chinese by default)


@pytest.mark.req("AC-02")
def test_workspace_tiles_follow_permissions(steward: Any, admin_user: Any) -> None:
    steward_page, admin_page = home_of(steward), home_of(admin_user)
    assert 'data-testid="tile-masterdata"' in steward_page
    assert 'data-testid="tile-users"' not in steward_page
    assert 'data-testid="tile-users"' in admin_page
    assert 'data-testid="tile-masterdata"' not in admin_page


@pytest.mark.req("AC-02")
def test_navigation_follows_permissions(steward: Any, admin_user: Any) -> None:
    assert 'data-testid="nav-users"' not in home_of(steward)
    assert 'data-testid="nav-users"' in home_of(admin_user)
    assert 'data-testid="nav-masterdata"' not in home_of(admin_user)


def test_an_approver_sees_drafts_written_by_others(steward: Any, approver: Any) -> None:
    services.create_item(actor=steward, kind=UNIT, data=KILOGRAM)
    drafts = section(home_of(approver), "work-drafts")
    assert "kg" in drafts
    assert "千克" in drafts


def test_an_approver_does_not_see_their_own_drafts(make_user: Any) -> None:
    # Only a data steward both writes and approves; four-eyes means their own drafts wait for someone else.
    author = make_user("data_steward")
    services.create_item(actor=author, kind=UNIT, data=KILOGRAM)
    drafts = section(home_of(author), "work-drafts")
    assert "千克" not in drafts


def test_an_approver_sees_pending_changes_proposed_by_others_only(
        kg: Any, steward: Any, approver: Any, make_user: Any) -> None:
    services.propose_change(actor=steward, kind=UNIT, item_id=kg.pk, data={"name_en": "Kilogram"},
                            reason="capitalise the English name", change_control_ref="CC-2026-001")
    approver_page = home_of(approver)
    assert "CC-2026-001" in section(approver_page, "work-pending-changes")
    assert "CC-2026-001" not in section(home_of(steward), "work-pending-changes")


def test_an_administrator_sees_locked_accounts(admin_user: Any, steward: Any) -> None:
    User.objects.filter(pk=steward.pk).update(locked_at=timezone.now())
    locked = section(home_of(admin_user), "work-locked-accounts")
    assert f'href="/users/{steward.pk}/"' in locked


def test_a_person_without_approval_or_administration_has_no_work_lists(make_user: Any) -> None:
    page = home_of(make_user("operator"))
    assert 'data-testid="work-drafts"' not in page
    assert 'data-testid="work-pending-changes"' not in page
    assert 'data-testid="work-locked-accounts"' not in page


def test_footer_shows_the_site_time_zone(steward: Any, settings: Any) -> None:
    assert settings.BATCHLINE_SITE_TIME_ZONE in home_of(steward)


def test_signature_dialog_asks_for_the_user_id_until_the_first_signature_of_the_session(steward: Any) -> None:
    client = Client()
    client.force_login(steward)
    assert client.get("/").context["signature_username_required"] is True
    session = client.session
    session[SESSION_FLAG] = True
    session.save()
    assert client.get("/").context["signature_username_required"] is False
