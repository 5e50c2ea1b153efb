"""Accounts: ids never reused, deactivated not deleted, every access change audited (AC-04, AC-05)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import PermissionDenied, ReasonRequired
from batchline.identity import services
from batchline.identity.errors import RoleConflict, UsernameTaken
from batchline.identity.models import ApiToken, User
from conftest import PASSWORD


def entries_of(user: Any, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(record_type="identity.user", record_id=str(user.pk), action=action))


@pytest.mark.req("AC-04")
def test_user_id_of_an_existing_account_is_refused_in_any_letter_case(make_user: Callable[..., Any],
                                                                        admin_user: Any) -> None:
    make_user("operator", username="alice")
    with pytest.raises(UsernameTaken):
        services.create_user(actor=admin_user, username="ALICE", full_name="Another Alice",
                             roles=["operator"], initial_password=PASSWORD)


@pytest.mark.req("AC-04")
def test_user_id_of_a_deactivated_account_is_never_reused(make_user: Callable[..., Any],
                                                          admin_user: Any) -> None:
    alice = make_user("operator", username="alice")
    services.deactivate_user(actor=admin_user, user_id=alice.pk, reason="left the company")
    with pytest.raises(UsernameTaken):
        services.create_user(actor=admin_user, username="alice", full_name="New Alice", roles=["operator"],
                             initial_password=PASSWORD)


@pytest.mark.req("AC-04", "AT-07")
def test_deactivation_keeps_the_account_row(make_user: Callable[..., Any], admin_user: Any) -> None:
    alice = make_user("operator", username="alice")
    services.deactivate_user(actor=admin_user, user_id=alice.pk, reason="left the company")
    kept = User.objects.get(pk=alice.pk)
    assert (kept.is_active, kept.deactivated_at is not None, kept.username) == (False, True, "alice")


@pytest.mark.req("AC-04")
def test_deactivation_revokes_the_accounts_api_tokens(make_user: Callable[..., Any], admin_user: Any) -> None:
    erp = make_user("integration", username="erp", kind="integration")
    token, _secret = services.create_api_token(actor=admin_user, user_id=erp.pk, name="erp",
                                               scopes=["masterdata.view"])
    services.deactivate_user(actor=admin_user, user_id=erp.pk, reason="interface retired")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


@pytest.mark.req("AC-04")
def test_deactivated_person_cannot_sign_in(make_user: Callable[..., Any], admin_user: Any) -> None:
    from django.contrib.auth import authenticate

    alice = make_user("operator", username="alice")
    services.deactivate_user(actor=admin_user, user_id=alice.pk, reason="left the company")
    assert authenticate(None, username="alice", password=PASSWORD) is None


def test_administrator_cannot_deactivate_their_own_account(admin_user: Any) -> None:
    from batchline.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.deactivate_user(actor=admin_user, user_id=admin_user.pk, reason="testing")


@pytest.mark.req("AC-04")
def test_there_is_no_delete_path_for_accounts() -> None:
    assert not [name for name in dir(services) if "delete" in name.lower()]


@pytest.mark.req("AC-04", "AT-02")
def test_access_change_without_reason_is_refused_and_writes_nothing(make_user: Callable[..., Any],
                                                                     admin_user: Any) -> None:
    alice = make_user("operator", username="alice")
    before = AuditEntry.objects.count()
    with pytest.raises(ReasonRequired):
        services.change_roles(actor=admin_user, user_id=alice.pk, roles=["shift_lead"], reason="  ")
    assert User.objects.get(pk=alice.pk).roles == ["operator"]
    assert AuditEntry.objects.count() == before


@pytest.mark.req("AC-04")
def test_only_a_system_administrator_changes_access(make_user: Callable[..., Any]) -> None:
    supervisor = make_user("supervisor")
    alice = make_user("operator", username="alice")
    with pytest.raises(PermissionDenied):
        services.change_roles(actor=supervisor, user_id=alice.pk, roles=["supervisor"], reason="promotion")


# --- every access change is audited -------------------------------------------------------------

def _create(admin: Any, alice: Any) -> tuple[Any, str, str]:
    user = services.create_user(actor=admin, username="bob", full_name="Bob", roles=["operator"],
                                initial_password=PASSWORD)
    return user, "create", ""


def _change_roles(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.change_roles(actor=admin, user_id=alice.pk, roles=["shift_lead"], reason="promotion")
    return alice, "change_roles", "promotion"


def _update_profile(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.update_profile(actor=admin, user_id=alice.pk, full_name="Alice Zhang", email="a@example.com",
                            language="en", reason="married")
    return alice, "update", "married"


def _deactivate(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.deactivate_user(actor=admin, user_id=alice.pk, reason="left")
    return alice, "deactivate", "left"


def _reactivate(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.deactivate_user(actor=admin, user_id=alice.pk, reason="left")
    services.reactivate_user(actor=admin, user_id=alice.pk, reason="came back")
    return alice, "reactivate", "came back"


def _reset_password(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.reset_password(actor=admin, user_id=alice.pk, temporary_password="Temporary-Pass-77",
                            reason="forgot")
    return alice, "reset_password", "forgot"


def _unlock(admin: Any, alice: Any) -> tuple[Any, str, str]:
    from django.conf import settings

    for _attempt in range(settings.BATCHLINE_LOCKOUT_THRESHOLD):
        services.register_failed_authentication(alice, context="sign-in")
    services.unlock_user(actor=admin, user_id=alice.pk, reason="identity checked by phone")
    return alice, "unlock", "identity checked by phone"


def _lock(admin: Any, alice: Any) -> tuple[Any, str, str]:
    from django.conf import settings

    for _attempt in range(settings.BATCHLINE_LOCKOUT_THRESHOLD):
        services.register_failed_authentication(alice, context="sign-in")
    return alice, "lock", "automatic lock after repeated failed sign-in attempts"


def _change_own_password(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.change_own_password(user=alice, current_password=PASSWORD, new_password="Brand-New-Pass-42")
    return alice, "change_password", ""


def _set_own_language(admin: Any, alice: Any) -> tuple[Any, str, str]:
    services.set_own_language(user=alice, language="en")
    return alice, "set_language", ""


ACCESS_CHANGES = {
    "create": _create, "change_roles": _change_roles, "update_profile": _update_profile,
    "deactivate": _deactivate, "reactivate": _reactivate, "reset_password": _reset_password,
    "unlock": _unlock, "lock": _lock, "change_own_password": _change_own_password,
    "set_own_language": _set_own_language,
}


@pytest.mark.req("AC-04", "AT-01")
@pytest.mark.parametrize("change", sorted(ACCESS_CHANGES))
def test_access_change_is_audited_with_actor_and_reason(change: str, make_user: Callable[..., Any],
                                                        admin_user: Any) -> None:
    alice = make_user("operator", username="alice")
    user, action, reason = ACCESS_CHANGES[change](admin_user, alice)
    [entry] = entries_of(user, action)
    assert entry.reason == reason
    expected_actor = {"lock": "system", "change_own_password": "alice", "set_own_language": "alice"}
    assert entry.actor_username == expected_actor.get(change, "sysadmin")
    assert entry.change_items, "the entry lists what changed"


@pytest.mark.req("AC-04", "INT-06")
def test_token_issue_and_revocation_are_audited(make_user: Callable[..., Any], admin_user: Any) -> None:
    erp = make_user("integration", username="erp", kind="integration")
    token, _secret = services.create_api_token(actor=admin_user, user_id=erp.pk, name="erp",
                                               scopes=["masterdata.view"])
    services.revoke_api_token(actor=admin_user, token_id=token.pk, reason="rotated")
    actions = list(AuditEntry.objects.filter(record_type="identity.apitoken", record_id=str(token.pk))
                   .order_by("sequence").values_list("action", "reason"))
    assert actions == [("create_token", ""), ("revoke_token", "rotated")]


@pytest.mark.req("AC-04")
def test_audited_password_change_never_shows_the_password(make_user: Callable[..., Any],
                                                          admin_user: Any) -> None:
    alice = make_user("operator", username="alice")
    services.reset_password(actor=admin_user, user_id=alice.pk, temporary_password="Temporary-Pass-77",
                            reason="forgot")
    [entry] = entries_of(alice, "reset_password")
    assert "Temporary-Pass-77" not in entry.changes
    assert User.objects.get(pk=alice.pk).password not in entry.changes


@pytest.mark.req("AC-04")
def test_successful_sign_in_is_recorded(make_user: Callable[..., Any]) -> None:
    from django.contrib.auth import authenticate

    alice = make_user("operator", username="alice")
    assert authenticate(None, username="alice", password=PASSWORD) == alice
    assert len(entries_of(alice, "sign_in")) == 1


# --- separation of system administration (AC-05) -------------------------------------------------

@pytest.mark.req("AC-05")
def test_system_administrator_cannot_be_created_with_a_gmp_role(admin_user: Any) -> None:
    with pytest.raises(RoleConflict):
        services.create_user(actor=admin_user, username="mixed", full_name="Mixed", initial_password=PASSWORD,
                             roles=["system_administrator", "qa_reviewer"])


@pytest.mark.req("AC-05")
def test_gmp_role_cannot_be_added_to_a_system_administrator(make_user: Callable[..., Any],
                                                            admin_user: Any) -> None:
    other_admin = make_user("system_administrator", username="admin2")
    with pytest.raises(RoleConflict):
        services.change_roles(actor=admin_user, user_id=other_admin.pk, roles=["system_administrator",
                                                                                  "data_steward"],
                              reason="needs to fix master data")
    assert User.objects.get(pk=other_admin.pk).roles == ["system_administrator"]


def test_unknown_role_is_refused(admin_user: Any) -> None:
    from batchline.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.create_user(actor=admin_user, username="x1", full_name="X", roles=["superuser"],
                             initial_password=PASSWORD)
    assert refused.value.code == "unknown_role"


@pytest.mark.req("AC-05")
def test_integration_role_is_refused_on_a_person(admin_user: Any) -> None:
    from batchline.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.create_user(actor=admin_user, username="x1", full_name="X", roles=["integration"],
                             initial_password=PASSWORD)
    assert refused.value.code == "integration_role_mismatch"


@pytest.mark.req("ES-06")
def test_integration_account_cannot_sign_in(make_user: Callable[..., Any]) -> None:
    from django.contrib.auth import authenticate

    make_user("integration", username="erp", kind="integration")
    assert authenticate(None, username="erp", password="") is None


# Each public identity service and the test above that proves its audit entry, or why it writes none.
AUDITED_BY = {
    "create_user": "create", "change_roles": "change_roles", "update_profile": "update_profile",
    "deactivate_user": "deactivate", "reactivate_user": "reactivate", "reset_password": "reset_password",
    "unlock_user": "unlock", "register_failed_authentication": "lock",
    "change_own_password": "change_own_password",
    "set_own_language": "set_own_language",
    "create_api_token": "test_token_issue_and_revocation_are_audited",
    "revoke_api_token": "test_token_issue_and_revocation_are_audited",
    "register_successful_login": "test_successful_sign_in_is_recorded",
}
NO_AUDIT_ENTRY = {
    "verify_password": "reads only",
    "authenticate_token": "moves only the token's last-used time",
}


@pytest.mark.req("AT-04", "AC-04")
def test_every_public_identity_service_is_covered_by_an_audit_test() -> None:
    import inspect

    public = {name for name, fn in inspect.getmembers(services, inspect.isfunction)
              if fn.__module__ == services.__name__ and not name.startswith("_")}
    assert public == set(AUDITED_BY) | set(NO_AUDIT_ENTRY)
    assert {case for case in AUDITED_BY.values() if not case.startswith("test_")} <= set(ACCESS_CHANGES)


@pytest.mark.req("AC-04", "AT-01")
def test_deactivation_records_each_revoked_token_in_its_own_history(make_user: Callable[..., Any],
                                                                   admin_user: Any) -> None:
    erp = make_user("integration", username="erp", kind="integration")
    token, _secret = services.create_api_token(actor=admin_user, user_id=erp.pk, name="erp",
                                               scopes=["masterdata.view"])
    services.deactivate_user(actor=admin_user, user_id=erp.pk, reason="interface retired")
    last = AuditEntry.objects.filter(record_type="identity.apitoken", record_id=str(token.pk)).latest("sequence")
    assert (last.action, last.reason) == ("revoke_token", "interface retired")


@pytest.mark.req("AC-04", "AT-01")
def test_password_reset_records_the_true_old_forced_change_flag(admin_user: Any) -> None:
    bob = services.create_user(actor=admin_user, username="bob", full_name="Bob", roles=["operator"],
                               initial_password=PASSWORD)  # must change the initial password: flag is set
    services.reset_password(actor=admin_user, user_id=bob.pk, temporary_password="Temporary-Pass-77",
                            reason="forgot before first sign-in")
    [entry] = entries_of(bob, "reset_password")
    assert dict((f, (old, new)) for f, old, new in entry.change_items)["must_change_password"] == (True, True)
