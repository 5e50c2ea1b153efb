"""Account and token administration over the API (AC-04, AC-05, INT-06)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from api.helpers import ApiClient, new_key
from batchline.compliance.models import AuditEntry
from batchline.core.models import InboundMessage
from batchline.identity.models import ApiToken, User
from conftest import PASSWORD


@pytest.fixture
def admin_api(session_for: Callable[..., ApiClient], admin_user: Any) -> ApiClient:
    return session_for(admin_user)


NEW_PERSON = {
    "username": "zhangwei",
    "full_name": "张伟 Zhang Wei",
    "roles": ["operator"],
    "initial_password": "Start-Here-2026!",
}


@pytest.mark.req("AC-04")
def test_an_administrator_opens_an_account(admin_api: ApiClient) -> None:
    response = admin_api.post("/identity/users", NEW_PERSON)
    assert response.status_code == 201
    body = response.json()
    assert (body["username"], body["roles"], body["must_change_password"]) == ("zhangwei", ["operator"], True)
    assert "initial_password" not in body
    assert NEW_PERSON["initial_password"] not in response.content.decode()
    assert AuditEntry.objects.filter(
        record_type="identity.user", action="create", actor_username="sysadmin"
    ).exists()


@pytest.mark.req("AC-04")
def test_a_user_id_is_never_reused(admin_api: ApiClient, admin_user: Any) -> None:
    admin_api.post("/identity/users", NEW_PERSON)
    admin_api.post("/identity/users/zhangwei/deactivate", {"reason": "left"})
    response = admin_api.post("/identity/users", {**NEW_PERSON, "username": "ZhangWei"})
    assert (response.status_code, response.json()["code"]) == (409, "username_taken")


@pytest.mark.req("AC-05")
def test_system_administration_cannot_be_combined_with_a_gmp_role(admin_api: ApiClient) -> None:
    response = admin_api.post("/identity/users", {**NEW_PERSON, "roles": ["system_administrator", "qp"]})
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422,
        "role_conflict",
        "roles",
    )
    assert not User.objects.filter(username="zhangwei").exists()


@pytest.mark.req("AC-04", "AT-02")
def test_a_role_change_needs_a_reason_and_is_audited(
    admin_api: ApiClient, make_user: Callable[..., Any]
) -> None:
    make_user("operator", username="li")
    response = admin_api.post("/identity/users/li/roles", {"roles": ["shift_lead"], "reason": ""})
    assert (response.status_code, response.json()["code"]) == (422, "reason_required")
    response = admin_api.post("/identity/users/li/roles", {"roles": ["shift_lead"], "reason": "promoted"})
    assert response.json()["roles"] == ["shift_lead"]
    entry = AuditEntry.objects.get(action="change_roles")
    assert (entry.reason, entry.actor_username) == ("promoted", "sysadmin")


@pytest.mark.req("AC-04")
def test_accounts_are_deactivated_reactivated_and_unlocked(
    admin_api: ApiClient, make_user: Callable[..., Any]
) -> None:
    user = make_user("operator", username="li")
    assert admin_api.post("/identity/users/li/deactivate", {"reason": "leave"}).json()["is_active"] is False
    assert admin_api.post("/identity/users/li/reactivate", {"reason": "back"}).json()["is_active"] is True
    User.objects.filter(pk=user.pk).update(locked_at=user.created_at, failed_login_count=5)
    assert (
        admin_api.post("/identity/users/li/unlock", {"reason": "verified by phone"}).json()["locked"] is False
    )


@pytest.mark.req("AC-03")
def test_a_password_reset_forces_a_change(admin_api: ApiClient, make_user: Callable[..., Any]) -> None:
    make_user("operator", username="li")
    response = admin_api.post(
        "/identity/users/li/reset-password",
        {"temporary_password": "Temporary-Pass-77", "reason": "forgotten"},
    )
    assert response.json()["must_change_password"] is True


def test_accounts_are_listed_and_searched(admin_api: ApiClient, make_user: Callable[..., Any]) -> None:
    make_user("operator", username="li", full_name="李四 Li Si")
    body = admin_api.get("/identity/users", search="Li Si").json()
    assert [u["username"] for u in body["items"]] == ["li"]


@pytest.mark.req("AC-02", "AC-05")
def test_a_gmp_role_cannot_administer_accounts(session_for: Callable[..., ApiClient], steward: Any) -> None:
    caller = session_for(steward)
    assert caller.get("/identity/users").status_code == 403
    # Refused before any lookup: an unknown and a known user id get the same answer.
    assert caller.post("/identity/users/nobody/deactivate", {"reason": "x"}).status_code == 403
    assert caller.post("/identity/users/steward/deactivate", {"reason": "x"}).status_code == 403


def test_an_unknown_account_is_not_found(admin_api: ApiClient) -> None:
    response = admin_api.get("/identity/users/nobody")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.req("INT-06")
def test_a_token_is_issued_and_its_secret_shown_once(
    admin_api: ApiClient, make_user: Callable[..., Any]
) -> None:
    make_user("integration", username="lims", kind="integration")
    response = admin_api.post(
        "/identity/users/lims/tokens", {"name": "LIMS", "scopes": ["masterdata.view"]}, key="issue-lims"
    )
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert secret.startswith("bl_")
    me = ApiClient(Client(), {"Authorization": f"Bearer {secret}"}).get("/me").json()
    assert (me["username"], me["token_scopes"]) == ("lims", ["masterdata.view"])
    listed = admin_api.get("/identity/users/lims/tokens").json()
    assert [t["name"] for t in listed] == ["LIMS"]
    assert "secret" not in listed[0]


@pytest.mark.req("INT-06", "INT-04")
def test_a_replayed_token_request_issues_no_second_token_and_never_stores_the_secret(
    admin_api: ApiClient, make_user: Callable[..., Any]
) -> None:
    make_user("integration", username="lims", kind="integration")
    first = admin_api.post(
        "/identity/users/lims/tokens", {"name": "LIMS", "scopes": ["masterdata.view"]}, key="issue-lims"
    )
    again = admin_api.post(
        "/identity/users/lims/tokens", {"name": "LIMS", "scopes": ["masterdata.view"]}, key="issue-lims"
    )
    assert again.status_code == 201
    assert again.json()["secret"] is None
    assert again.json()["id"] == first.json()["id"]
    assert ApiToken.objects.count() == 1
    assert first.json()["secret"] not in str(InboundMessage.objects.get().response_body)


@pytest.mark.req("INT-06")
def test_a_token_cannot_hold_a_scope_the_account_lacks(
    admin_api: ApiClient, make_user: Callable[..., Any]
) -> None:
    make_user("integration", username="lims", kind="integration")
    response = admin_api.post("/identity/users/lims/tokens", {"name": "LIMS", "scopes": ["audit.view"]})
    assert (response.status_code, response.json()["code"]) == (422, "scope_not_held")


@pytest.mark.req("INT-06")
def test_a_revoked_token_stops_working(admin_api: ApiClient, make_user: Callable[..., Any]) -> None:
    make_user("integration", username="lims", kind="integration")
    created = admin_api.post(
        "/identity/users/lims/tokens", {"name": "LIMS", "scopes": ["masterdata.view"]}
    ).json()
    response = admin_api.post(f"/identity/tokens/{created['id']}/revoke", {"reason": "rotated"})
    assert response.json()["revoked_at"] is not None
    refused = ApiClient(Client(), {"Authorization": f"Bearer {created['secret']}"}).get("/me")
    assert refused.status_code == 401


def test_passwords_never_enter_the_idempotency_store(admin_api: ApiClient) -> None:
    admin_api.post("/identity/users", NEW_PERSON, key=new_key())
    stored = InboundMessage.objects.get()
    assert NEW_PERSON["initial_password"] not in str(stored.response_body)
    assert PASSWORD not in str(stored.response_body)


def test_the_request_hash_leaves_passwords_out() -> None:
    from django.test import RequestFactory

    from batchline.api.idempotency import request_hash

    factory = RequestFactory()
    one = factory.post(
        "/api/v1/x", data={"signature": {"password": "A-1"}, "n": 1}, content_type="application/json"
    )
    two = factory.post(
        "/api/v1/x", data={"signature": {"password": "B-2"}, "n": 1}, content_type="application/json"
    )
    three = factory.post(
        "/api/v1/x", data={"signature": {"password": "A-1"}, "n": 2}, content_type="application/json"
    )
    assert request_hash(one) == request_hash(two) != request_hash(three)
