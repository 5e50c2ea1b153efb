"""Authentication and authorization of the REST API (AC-01, AC-02, INT-06)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from api.helpers import KG, ApiClient, new_key
from batchline.api.api import api
from batchline.core import clock
from batchline.core.errors import NotAuthenticated
from batchline.identity import services
from batchline.identity.models import User
from batchline.identity.roles import roles_holding

SAMPLE_PATH_VALUES = {
    "kind": "unit",
    "code": "kg",
    "change_id": "1",
    "token_id": "1",
    "username": "steward",
    "record_type": "masterdata.unit",
    "record_id": "1",
    "source_system": "SAP-PRD",
    "parked_id": "1",
    "delivery_id": "1",
    "order_id": "1",
    "alarm_id": "1",
    "cleaning_id": "1",
    "count_id": "1",
    "device_id": "1",
    "request_id": "1",
    "task_id": "1",
    "grade": "A",
    "material": "API-0001",
    "name": "R101",
    "number": "L0001",
    "parameter": "temperature",
}


def operations() -> list[tuple[str, str]]:
    """Every (method, path) the API serves, read from the API object itself."""
    schema = api.get_openapi_schema()
    return sorted((method.upper(), path) for path, item in schema["paths"].items() for method in item)


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], path)


def test_the_schema_lists_every_route_of_the_api() -> None:
    resolver_routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/api/v1/" + str(p.pattern)) for p in api.urls[0]}
    documented = {path for _method, path in operations()}
    assert resolver_routes - documented == {"/api/v1/", "/api/v1/openapi.json", "/api/v1/docs"}


@pytest.mark.req("AC-01")
@pytest.mark.parametrize(("method", "path"), operations())
def test_every_endpoint_refuses_an_anonymous_caller(db: None, method: str, path: str) -> None:
    client = Client()
    if method == "GET":
        response = client.get(concrete(path))
    else:
        response = getattr(client, method.lower())(concrete(path), data="{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.req("AC-01")
def test_the_api_root_shows_nothing(db: None) -> None:
    assert Client().get("/api/v1/").status_code == 404


@pytest.mark.req("AC-01")
def test_the_schema_needs_authentication(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.req("AC-01")
def test_the_docs_page_sends_a_browser_to_sign_in(db: None) -> None:
    response = Client().get("/api/v1/docs", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert "next=/api/v1/docs" in response["Location"]


def test_the_docs_page_loads_its_assets_locally_not_from_a_cdn(
    session_for: Callable[..., ApiClient], steward: Any
) -> None:
    page = session_for(steward).client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert not re.search(r"(src|href)=\"https?://", page)
    assert '"validatorUrl": null' in page


def test_a_token_holder_can_read_the_schema(token_for: Callable[..., ApiClient], steward: Any) -> None:
    caller = token_for(steward, ["masterdata.view"])
    response = caller.client.get("/api/v1/openapi.json", headers=caller.headers)
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Batchline API"


def test_a_valid_token_authenticates(token_for: Callable[..., ApiClient], steward: Any) -> None:
    body = token_for(steward, ["masterdata.view"]).get("/me").json()
    assert body["username"] == "steward"
    assert body["authenticated_by"] == "token"
    assert body["token_scopes"] == ["masterdata.view"]
    assert body["permissions"] == ["masterdata.view"]


def test_a_signed_in_session_authenticates(session_for: Callable[..., ApiClient], steward: Any) -> None:
    body = session_for(steward).get("/me").json()
    assert body["authenticated_by"] == "session"
    assert body["token_scopes"] is None
    assert "masterdata.edit" in body["permissions"]


@pytest.mark.req("AC-01", "INT-06")
def test_an_unknown_token_is_refused(db: None) -> None:
    response = ApiClient(Client(), {"Authorization": "Bearer bl_not-a-real-token"}).get("/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


@pytest.mark.req("INT-06", "AC-02")
def test_a_revoked_token_is_refused(issue_token: Callable[..., str], steward: Any, admin_user: Any) -> None:
    secret = issue_token(steward)
    token = steward.api_tokens.get()
    services.revoke_api_token(actor=admin_user, token_id=token.pk, reason="rotated")
    response = ApiClient(Client(), {"Authorization": f"Bearer {secret}"}).get("/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


@pytest.mark.req("INT-06", "AC-02")
def test_an_expired_token_is_refused(issue_token: Callable[..., str], steward: Any) -> None:
    secret = issue_token(steward, expires_at=clock.now() - timedelta(seconds=1))
    response = ApiClient(Client(), {"Authorization": f"Bearer {secret}"}).get("/masterdata/unit")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


@pytest.mark.req("INT-06", "AC-04")
def test_the_token_of_a_deactivated_account_is_refused(
    issue_token: Callable[..., str], steward: Any, admin_user: Any
) -> None:
    secret = issue_token(steward)
    services.deactivate_user(actor=admin_user, user_id=steward.pk, reason="left the company")
    response = ApiClient(Client(), {"Authorization": f"Bearer {secret}"}).get("/me")
    assert response.status_code == 401


@pytest.mark.req("INT-06", "AC-02")
def test_a_token_without_the_scope_is_refused_what_the_role_allows(
    token_for: Callable[..., ApiClient], steward: Any
) -> None:
    response = token_for(steward, ["masterdata.view"]).post("/masterdata/unit", KG, key=new_key())
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.req("INT-06")
def test_a_token_scope_never_grants_more_than_the_role(
    token_for: Callable[..., ApiClient], make_user: Callable[..., Any]
) -> None:
    operator = make_user("operator")
    response = token_for(operator, ["masterdata.view"]).post("/masterdata/unit", KG, key=new_key())
    assert response.status_code == 403


@pytest.mark.req("AC-01")
def test_a_session_must_send_the_csrf_token_with_unsafe_methods(steward: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(steward)
    response = ApiClient(client).post("/masterdata/unit", KG)
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_a_session_with_the_csrf_token_may_write(steward: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(steward)
    client.cookies["csrftoken"] = "a" * 32
    response = ApiClient(client, {"X-CSRFToken": "a" * 32}).post("/masterdata/unit", KG)
    assert response.status_code == 201


@pytest.mark.req("AC-03")
def test_a_session_whose_password_must_change_is_refused(
    session_for: Callable[..., ApiClient], steward: Any
) -> None:
    User.objects.filter(pk=steward.pk).update(must_change_password=True)
    response = session_for(User.objects.get(pk=steward.pk)).get("/me")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_messages_follow_accept_language(anonymous: ApiClient) -> None:
    english = anonymous.get("/me", headers={"Accept-Language": "en-US,en;q=0.9"}).json()["message"]
    chinese = anonymous.get("/me", headers={"Accept-Language": "zh-CN"}).json()["message"]
    default = anonymous.get("/me").json()["message"]
    with translation.override("en"):
        assert english == NotAuthenticated().render()
    with translation.override("zh-hans"):
        assert chinese == default == NotAuthenticated().render()


# --- role × endpoint matrix (AC-02): expected outcomes come from permissions.toml itself ---------------

MATRIX_ROLES = [
    "operator",
    "warehouse",
    "qc_analyst",
    "qa_reviewer",
    "qp",
    "supervisor",
    "data_steward",
    "auditor",
    "system_administrator",
]
MATRIX_ENDPOINTS = [
    ("masterdata.view", "get", "/masterdata/unit", None),
    ("masterdata.edit", "post", "/masterdata/unit", KG),
    ("masterdata.view", "get", "/masterdata/changes", None),
    ("audit.view", "get", "/audit/entries", None),
    ("audit.export", "get", "/audit/entries.csv", None),
    ("audit.verify", "post", "/audit/verify", None),
    ("identity.manage_users", "get", "/identity/users", None),
    ("identity.manage_tokens", "get", "/identity/users/steward/tokens", None),
]


@pytest.mark.req("AC-02")
@pytest.mark.parametrize("role", MATRIX_ROLES)
@pytest.mark.parametrize(
    ("permission", "method", "path", "body"),
    MATRIX_ENDPOINTS,
    ids=[f"{m} {p}" for _perm, m, p, _b in MATRIX_ENDPOINTS],
)
def test_role_endpoint_matrix(
    make_user: Callable[..., Any],
    session_for: Callable[..., ApiClient],
    steward: Any,
    role: str,
    permission: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    caller = session_for(make_user(role))
    response = caller.get(path) if method == "get" else getattr(caller, method)(path, body)
    if role in roles_holding(permission):
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


@pytest.mark.req("AC-02", "INT-06")
def test_an_integration_account_reads_master_data_but_cannot_edit_it(
    make_user: Callable[..., Any], token_for: Callable[..., ApiClient]
) -> None:
    wms = make_user("integration", username="wms", kind="integration")
    client = token_for(wms, ["masterdata.view"])
    assert client.get("/masterdata/unit").status_code == 200
    assert client.post("/masterdata/unit", KG, key=new_key()).status_code == 403
