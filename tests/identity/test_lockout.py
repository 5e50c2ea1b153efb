"""Account lockout after repeated failed sign-ins and failed signature passwords (AC-03, ES-09)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction

from batchline.compliance.models import AuditEntry
from batchline.compliance.signatures import sign
from batchline.identity import services
from batchline.identity.errors import AccountLocked, AuthenticationFailed
from batchline.identity.models import User
from conftest import PASSWORD, sig

THRESHOLD = settings.BATCHLINE_LOCKOUT_THRESHOLD


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("operator", username="alice")


def fail_sign_in(times: int) -> None:
    for _attempt in range(times):
        assert authenticate(None, username="alice", password="Wrong-Password-1") is None


@pytest.mark.req("AC-03")
def test_failed_sign_ins_below_the_threshold_do_not_lock(alice: Any) -> None:
    fail_sign_in(THRESHOLD - 1)
    assert not User.objects.get(pk=alice.pk).is_locked


@pytest.mark.req("AC-03")
def test_account_locks_at_the_threshold_of_failed_sign_ins(alice: Any) -> None:
    fail_sign_in(THRESHOLD)
    assert User.objects.get(pk=alice.pk).is_locked


@pytest.mark.req("AC-03")
def test_locked_account_cannot_sign_in_with_the_right_password(alice: Any) -> None:
    fail_sign_in(THRESHOLD)
    assert authenticate(None, username="alice", password=PASSWORD) is None


@pytest.mark.req("AC-03", "AC-04")
def test_automatic_lock_is_audited(alice: Any) -> None:
    fail_sign_in(THRESHOLD)
    [entry] = AuditEntry.objects.filter(record_type="identity.user", record_id=str(alice.pk), action="lock")
    assert entry.actor_username == "system"
    assert "sign-in" in entry.reason


@pytest.mark.req("AC-03")
def test_successful_sign_in_resets_the_failure_count(alice: Any) -> None:
    fail_sign_in(THRESHOLD - 1)
    assert authenticate(None, username="alice", password=PASSWORD) is not None
    fail_sign_in(THRESHOLD - 1)
    assert not User.objects.get(pk=alice.pk).is_locked


@pytest.mark.req("AC-03")
def test_unlock_lets_the_person_sign_in_again(alice: Any, admin_user: Any) -> None:
    fail_sign_in(THRESHOLD)
    services.unlock_user(actor=admin_user, user_id=alice.pk, reason="identity checked")
    assert authenticate(None, username="alice", password=PASSWORD) is not None


@pytest.mark.req("ES-09")
def test_failed_signature_passwords_lock_the_account_at_the_threshold(approver: Any, kg: Any) -> None:
    for _attempt in range(THRESHOLD):
        with pytest.raises(AuthenticationFailed) as refused, transaction.atomic():
            sign(actor=approver, request=sig(approver, password="Wrong-Password-1"), record=kg)
        # What the web and API error mapping does after the business transaction rolled back.
        services.register_failed_authentication(refused.value.user, context="signature")  # type: ignore[arg-type]
    locked = User.objects.get(pk=approver.pk)
    assert locked.is_locked
    [entry] = AuditEntry.objects.filter(record_type="identity.user", record_id=str(approver.pk),
                                        action="lock")
    assert "signature" in entry.reason


@pytest.mark.req("ES-09")
def test_locked_account_cannot_sign_even_with_the_right_password(approver: Any, kg: Any) -> None:
    for _attempt in range(THRESHOLD):
        services.register_failed_authentication(approver, context="signature")
    locked = User.objects.get(pk=approver.pk)
    with pytest.raises(AccountLocked), transaction.atomic():
        sign(actor=locked, request=sig(locked), record=kg)
