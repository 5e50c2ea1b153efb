"""User administration screens: every access change audited with old → new and reason (AC-04),
accounts deactivated never deleted, user ids never reused (AC-04), no sysadmin + GMP roles (AC-05)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from batchline.compliance.models import AuditEntry
from batchline.identity import services
from batchline.identity.errors import RoleConflict, UsernameTaken
from batchline.identity.models import ApiToken, User
from conftest import PASSWORD

TEMPORARY = "Temporary-Pass-99"


@pytest.fixture
def admin(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def last_entry(record_type: str, record_id: Any) -> AuditEntry:
    entries = AuditEntry.objects.filter(record_type=record_type, record_id=str(record_id))
    return entries.order_by("-sequence")[0]


def person_form(**overrides: Any) -> dict[str, Any]:
    data = {"kind": "person", "username": "zhangsan", "full_name": "张三 Zhang San", "email": "",
            "language": "zh-hans", "roles": ["operator"], "password": TEMPORARY}
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------------------

def test_user_list_shows_every_account(admin: Client, steward: Any, approver: Any) -> None:
    page = admin.get("/users/").content.decode()
    assert "steward" in page
    assert "qareviewer" in page


def test_user_list_filters_locked_accounts(admin: Client, steward: Any, approver: Any) -> None:
    User.objects.filter(pk=steward.pk).update(locked_at=timezone.now())
    page = admin.get("/users/", {"status": "locked"}).content.decode()
    assert f'href="/users/{steward.pk}/"' in page
    assert f'href="/users/{approver.pk}/"' not in page


def test_user_list_filters_by_role(admin: Client, steward: Any, approver: Any) -> None:
    page = admin.get("/users/", {"role": "qa_reviewer"}).content.decode()
    assert f'href="/users/{approver.pk}/"' in page
    assert f'href="/users/{steward.pk}/"' not in page


# --- create -----------------------------------------------------------------------------------------

@pytest.mark.req("AC-04")
def test_creating_a_person_is_audited_and_forces_a_password_change(admin: Client, admin_user: Any) -> None:
    response = admin.post("/users/new/", person_form())
    account = User.objects.get(username="zhangsan")
    assert response["Location"] == reverse("web:user_detail", args=[account.pk])
    assert account.roles == ["operator"]
    assert account.must_change_password
    entry = last_entry("identity.user", account.pk)
    assert entry.action == "create"
    assert entry.actor_id == admin_user.pk


def test_creating_an_integration_account_needs_no_password(admin: Client) -> None:
    admin.post("/users/new/",
               person_form(kind="integration", username="erp", roles=["integration"], password=""))
    account = User.objects.get(username="erp")
    assert account.kind == "integration"
    assert not account.has_usable_password()


def test_a_person_without_a_temporary_password_is_refused_next_to_the_field(admin: Client) -> None:
    response = admin.post("/users/new/", person_form(password=""))
    assert 'data-testid="error-password"' in response.content.decode()
    assert not User.objects.filter(username="zhangsan").exists()


@pytest.mark.req("AC-04")
def test_a_user_id_is_never_reused_even_after_deactivation(
        admin: Client, admin_user: Any, steward: Any) -> None:
    services.deactivate_user(actor=admin_user, user_id=steward.pk, reason="left the company")
    response = admin.post("/users/new/", person_form(username="STEWARD", full_name="Someone else"))
    page = response.content.decode()
    assert 'data-testid="error-username"' in page
    assert escape(UsernameTaken(username="STEWARD").render()) in page
    assert User.objects.filter(username__iexact="steward").count() == 1


@pytest.mark.req("AC-05")
def test_creating_an_account_with_system_administration_and_a_gmp_role_is_refused(admin: Client) -> None:
    response = admin.post("/users/new/", person_form(roles=["system_administrator", "qa_reviewer"]))
    page = response.content.decode()
    assert 'data-testid="error-roles"' in page
    assert escape(RoleConflict().render()) in page
    assert not User.objects.filter(username="zhangsan").exists()


def test_create_form_labels_roles_in_the_readers_language(admin: Client, admin_user: Any) -> None:
    page = admin.get("/users/new/").content.decode()  # the administrator's language is Chinese
    assert "主数据管理员" in page
    assert "System administrator" not in page


# --- detail and actions -----------------------------------------------------------------------------

@pytest.mark.req("AC-04")
def test_changing_roles_is_audited_with_old_and_new_roles_and_the_reason(
        admin: Client, admin_user: Any, steward: Any) -> None:
    response = admin.post(f"/users/{steward.pk}/roles/", {"roles": ["data_steward", "auditor"],
                                                          "reason": "covers the auditor role in Q3"})
    assert response["Location"] == f"/users/{steward.pk}/"
    steward.refresh_from_db()
    assert steward.roles == ["auditor", "data_steward"]
    entry = last_entry("identity.user", steward.pk)
    assert entry.action == "change_roles"
    assert json.loads(entry.changes) == {"roles": [["data_steward"], ["auditor", "data_steward"]]}
    assert entry.reason == "covers the auditor role in Q3"
    assert entry.actor_id == admin_user.pk


@pytest.mark.req("AC-04")
def test_changing_roles_without_a_reason_is_refused(admin: Client, steward: Any) -> None:
    response = admin.post(f"/users/{steward.pk}/roles/", {"roles": ["auditor"], "reason": ""})
    assert 'data-testid="error-reason"' in response.content.decode()
    steward.refresh_from_db()
    assert steward.roles == ["data_steward"]


@pytest.mark.req("AC-05")
def test_adding_system_administration_to_a_gmp_account_is_refused(admin: Client, steward: Any) -> None:
    response = admin.post(f"/users/{steward.pk}/roles/", {"roles": ["data_steward", "system_administrator"],
                                                          "reason": "needs to reset passwords"})
    assert escape(RoleConflict().render()) in response.content.decode()
    steward.refresh_from_db()
    assert steward.roles == ["data_steward"]


@pytest.mark.req("AC-04")
def test_editing_a_profile_is_audited_with_old_and_new_values(admin: Client, steward: Any) -> None:
    admin.post(f"/users/{steward.pk}/edit/", {"full_name": "王明", "email": "wang@example.com",
                                              "language": "en", "reason": "name as in the HR record"})
    entry = last_entry("identity.user", steward.pk)
    changes = json.loads(entry.changes)
    assert changes["full_name"] == ["王明 Wang Ming", "王明"]
    assert changes["language"] == ["zh-hans", "en"]
    assert entry.reason == "name as in the HR record"


@pytest.mark.req("AC-04")
def test_deactivating_keeps_the_account_and_stops_its_sign_in(admin: Client, steward: Any) -> None:
    response = admin.post(f"/users/{steward.pk}/deactivate/", {"reason": "left the company"})
    assert response["Location"] == f"/users/{steward.pk}/"
    steward.refresh_from_db()
    assert not steward.is_active
    assert steward.deactivated_at is not None
    entry = last_entry("identity.user", steward.pk)
    assert (entry.action, entry.reason) == ("deactivate", "left the company")
    assert not Client().login(username="steward", password=PASSWORD)


def test_an_administrator_cannot_deactivate_their_own_account(admin: Client, admin_user: Any) -> None:
    admin.post(f"/users/{admin_user.pk}/deactivate/", {"reason": "testing"})
    admin_user.refresh_from_db()
    assert admin_user.is_active


@pytest.mark.req("AC-04")
def test_reactivating_is_audited(admin: Client, admin_user: Any, steward: Any) -> None:
    services.deactivate_user(actor=admin_user, user_id=steward.pk, reason="long leave")
    admin.post(f"/users/{steward.pk}/reactivate/", {"reason": "back from leave"})
    steward.refresh_from_db()
    assert steward.is_active
    assert last_entry("identity.user", steward.pk).reason == "back from leave"


@pytest.mark.req("AC-03", "AC-04")
def test_resetting_a_password_is_audited_and_forces_a_change(admin: Client, steward: Any) -> None:
    admin.post(f"/users/{steward.pk}/password/", {"temporary_password": TEMPORARY,
                                                  "reason": "forgotten, identity checked in person"})
    steward.refresh_from_db()
    assert steward.must_change_password
    assert steward.check_password(TEMPORARY)
    entry = last_entry("identity.user", steward.pk)
    assert entry.action == "reset_password"
    assert TEMPORARY not in entry.changes  # the password itself never enters the audit trail


def test_a_temporary_password_against_the_policy_is_shown_next_to_its_field(
        admin: Client, steward: Any) -> None:
    response = admin.post(f"/users/{steward.pk}/password/", {"temporary_password": "short",
                                                             "reason": "forgotten"})
    assert 'data-testid="error-temporary_password"' in response.content.decode()
    steward.refresh_from_db()
    assert steward.check_password(PASSWORD)


@pytest.mark.req("AC-04")
def test_unlocking_is_audited_and_resets_the_failure_count(admin: Client, steward: Any) -> None:
    User.objects.filter(pk=steward.pk).update(locked_at=timezone.now(), failed_login_count=5)
    admin.post(f"/users/{steward.pk}/unlock/", {"reason": "called the help desk"})
    steward.refresh_from_db()
    assert not steward.is_locked
    assert steward.failed_login_count == 0
    assert last_entry("identity.user", steward.pk).action == "unlock"


@pytest.mark.req("AC-04")
def test_account_page_shows_its_history_with_old_new_values_and_reasons(
        admin: Client, admin_user: Any, steward: Any) -> None:
    services.change_roles(actor=admin_user, user_id=steward.pk, roles=["data_steward", "auditor"],
                          reason="covers audits")
    page = admin.get(f"/users/{steward.pk}/").content.decode()
    history = page[page.index('data-testid="history"'):]
    assert "change_roles" in history
    assert "covers audits" in history
    assert "auditor, data_steward" in history


def test_an_action_asked_by_htmx_returns_the_inline_form_only(admin: Client, steward: Any) -> None:
    response = admin.get(f"/users/{steward.pk}/unlock/", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'data-testid="action-form"' in page
    assert "<html" not in page


def test_an_inline_action_that_succeeds_reloads_the_account_page(admin: Client, steward: Any) -> None:
    User.objects.filter(pk=steward.pk).update(locked_at=timezone.now())
    response = admin.post(f"/users/{steward.pk}/unlock/", {"reason": "help desk call"},
                          HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/users/{steward.pk}/"
    steward.refresh_from_db()
    assert not steward.is_locked


def test_an_inline_action_that_is_refused_stays_inline_with_the_error(admin: Client, steward: Any) -> None:
    response = admin.post(f"/users/{steward.pk}/unlock/", {"reason": "help desk call"},
                          HTTP_HX_REQUEST="true")
    page = response.content.decode()  # the account is not locked: the service refuses
    assert "<html" not in page
    assert 'data-testid="form-errors"' in page


def test_an_action_without_htmx_is_a_full_page(admin: Client, steward: Any) -> None:
    page = admin.get(f"/users/{steward.pk}/unlock/").content.decode()
    assert "<html" in page
    assert 'data-testid="action-form"' in page


def test_an_unknown_account_is_not_found(admin: Client) -> None:
    assert admin.get("/users/999999/").status_code == 404


# --- API tokens -------------------------------------------------------------------------------------

@pytest.fixture
def erp(make_user: Any) -> Any:
    return make_user("integration", username="erp", kind="integration")


def test_token_form_offers_only_the_accounts_permissions(admin: Client, erp: Any) -> None:
    page = admin.get(f"/users/{erp.pk}/tokens/new/").content.decode()
    assert 'value="masterdata.import"' in page
    assert 'value="masterdata.approve"' not in page


@pytest.mark.req("AC-04")
def test_a_new_token_is_shown_once_and_stored_hashed(admin: Client, erp: Any) -> None:
    response = admin.post(f"/users/{erp.pk}/tokens/new/",
                          {"name": "ERP orders", "scopes": ["masterdata.view"]})
    page = response.content.decode()
    token = ApiToken.objects.get(user=erp)
    secret = page.split('data-testid="token-secret"')[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("bl_")
    assert "no-store" in response["Cache-Control"]
    assert secret.removeprefix("bl_") not in token.token_hash
    assert services.authenticate_token(secret).pk == erp.pk
    assert secret not in admin.get(f"/users/{erp.pk}/").content.decode()
    assert last_entry("identity.apitoken", token.pk).action == "create_token"


def test_a_token_without_scopes_is_refused(admin: Client, erp: Any) -> None:
    response = admin.post(f"/users/{erp.pk}/tokens/new/", {"name": "ERP orders"})
    assert 'data-testid="error-scopes"' in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.req("AC-04")
def test_revoking_a_token_is_audited_with_the_reason(admin: Client, admin_user: Any, erp: Any) -> None:
    token, _ = services.create_api_token(actor=admin_user, user_id=erp.pk, name="ERP",
                                         scopes=["masterdata.view"])
    response = admin.post(f"/users/tokens/{token.pk}/revoke/", {"reason": "ERP interface replaced"})
    assert response["Location"] == f"/users/{erp.pk}/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = last_entry("identity.apitoken", token.pk)
    assert (entry.action, entry.reason) == ("revoke_token", "ERP interface replaced")


def test_token_list_shows_tokens_of_every_account(admin: Client, admin_user: Any, erp: Any) -> None:
    services.create_api_token(actor=admin_user, user_id=erp.pk, name="ERP orders", scopes=["masterdata.view"])
    page = admin.get("/users/tokens/").content.decode()
    assert "ERP orders" in page
