"""The role × permission matrix (AC-02, AC-05): permissions.toml is the one source, and both the
permission check and the services that rely on it follow it for every role."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import batchline.identity
from conftest import sig

MATRIX = tomllib.loads(Path(batchline.identity.__file__).with_name("permissions.toml").read_text("utf-8"))
ROLES = sorted(MATRIX["roles"])
PERMISSIONS = sorted(MATRIX["permissions"])
GMP_PERMISSION_PREFIXES = ("masterdata.",)


def holds(role: str, permission: str) -> bool:
    return role in MATRIX["permissions"][permission]


def unsaved_user(role: str) -> Any:
    from batchline.identity.models import User

    return User(username=f"u-{role}", full_name=role, roles=[role], is_active=True,
                kind="integration" if role == "integration" else "person")


@pytest.mark.req("AC-02")
@pytest.mark.parametrize("permission", PERMISSIONS)
@pytest.mark.parametrize("role", ROLES)
def test_has_permission_follows_the_matrix_file(role: str, permission: str) -> None:
    from batchline.identity.authz import has_permission

    assert has_permission(unsaved_user(role), permission) is holds(role, permission)


def test_every_permission_names_only_declared_roles() -> None:
    for permission, holders in MATRIX["permissions"].items():
        assert set(holders) <= set(ROLES), permission


def test_unknown_permission_is_a_programming_error_not_a_silent_no() -> None:
    from batchline.identity.authz import has_permission

    with pytest.raises(KeyError):
        has_permission(unsaved_user("data_steward"), "masterdata.delete")


@pytest.mark.req("AC-02")
def test_deactivated_user_holds_no_permission() -> None:
    from batchline.identity.authz import has_permission

    user = unsaved_user("data_steward")
    user.is_active = False
    assert not has_permission(user, "masterdata.edit")


@pytest.mark.req("AC-03")
def test_locked_user_holds_no_permission() -> None:
    from batchline.core import clock
    from batchline.identity.authz import has_permission

    user = unsaved_user("data_steward")
    user.locked_at = clock.now()
    assert not has_permission(user, "masterdata.edit")


@pytest.mark.req("AC-01")
def test_anonymous_user_is_refused_as_not_authenticated() -> None:
    from django.contrib.auth.models import AnonymousUser

    from batchline.core.errors import NotAuthenticated
    from batchline.identity.authz import authorize

    with pytest.raises(NotAuthenticated):
        authorize(AnonymousUser(), "masterdata.view")
    with pytest.raises(NotAuthenticated):
        authorize(None, "masterdata.view")


@pytest.mark.req("INT-06")
def test_token_scopes_narrow_the_accounts_permissions() -> None:
    from batchline.identity.authz import has_permission

    user = unsaved_user("integration")
    user.token_scopes = frozenset({"masterdata.view"})
    assert has_permission(user, "masterdata.view")
    assert not has_permission(user, "masterdata.import")


# --- representative services, per role ----------------------------------------------------------

def _create_item(user: Any, ctx: dict[str, Any]) -> None:
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    services.create_item(actor=user, kind=kind_of("unit"), data={
        "code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"})


def _approve_item(user: Any, ctx: dict[str, Any]) -> None:
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    services.approve_item(actor=user, kind=kind_of("unit"), item_id=ctx["draft"].pk, signature=sig(user))


def _save_rule(user: Any, ctx: dict[str, Any]) -> None:
    from batchline.masterdata.numbering import save_rule

    save_rule(actor=user, key="lot", pattern="L{yyyy}{seq:04}")


def _create_user(user: Any, ctx: dict[str, Any]) -> None:
    from batchline.identity.services import create_user

    create_user(actor=user, username="newcomer", full_name="New Comer", roles=["operator"],
                initial_password="Another-Pass-2026!")


def _create_api_token(user: Any, ctx: dict[str, Any]) -> None:
    from batchline.identity.services import create_api_token

    create_api_token(actor=user, user_id=ctx["integration"].pk, name="erp", scopes=["masterdata.view"])


def _verify_audit_trail(user: Any, ctx: dict[str, Any]) -> None:
    from batchline.identity.authz import authorize

    authorize(user, "audit.verify")


ACTIONS: dict[str, tuple[str, Callable[[Any, dict[str, Any]], None]]] = {
    "create_item": ("masterdata.edit", _create_item),
    "approve_item": ("masterdata.approve", _approve_item),
    "save_rule": ("masterdata.configure", _save_rule),
    "create_user": ("identity.manage_users", _create_user),
    "create_api_token": ("identity.manage_tokens", _create_api_token),
    "verify_audit_trail": ("audit.verify", _verify_audit_trail),
}


@pytest.mark.req("AC-02")
@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_service_action_is_allowed_exactly_for_roles_holding_its_permission(
        role: str, action: str, make_user: Callable[..., Any], steward: Any) -> None:
    from batchline.core.errors import PermissionDenied
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    permission, run = ACTIONS[action]
    ctx = {
        "draft": services.create_item(actor=steward, kind=kind_of("unit"), data={
            "code": "kg", "name_zh": "千克", "name_en": "kilogram", "dimension": "mass", "factor": "1"}),
        "integration": make_user("integration", username="erp", kind="integration"),
    }
    user = make_user(role, kind="integration" if role == "integration" else "person")
    if holds(role, permission):
        run(user, ctx)
    else:
        with pytest.raises(PermissionDenied):
            run(user, ctx)


# --- separation of system administration (AC-05) ---------------------------------------------

@pytest.mark.req("AC-05")
@pytest.mark.parametrize("permission", [p for p in PERMISSIONS if p.startswith(GMP_PERMISSION_PREFIXES)]
                         + ["audit.export"])
def test_system_administrator_holds_no_gmp_data_or_audit_export_permission(permission: str) -> None:
    assert not holds("system_administrator", permission)


@pytest.mark.req("AC-05")
def test_only_the_system_administrator_manages_accounts_and_tokens() -> None:
    assert MATRIX["permissions"]["identity.manage_users"] == ["system_administrator"]
    assert MATRIX["permissions"]["identity.manage_tokens"] == ["system_administrator"]


@pytest.mark.req("ES-07")
def test_only_stewards_and_qa_reviewers_approve_master_data() -> None:
    assert sorted(MATRIX["permissions"]["masterdata.approve"]) == ["data_steward", "qa_reviewer"]
