"""Password policy: length, character classes, common passwords, history, expiry, forced change (AC-03)."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from batchline.core import clock
from batchline.identity import passwords, services
from batchline.identity.errors import AuthenticationFailed, PasswordRejected
from batchline.identity.models import User
from conftest import PASSWORD


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("operator", username="alice")


def change(user: Any, current: str, new: str) -> Any:
    return services.change_own_password(user=user, current_password=current, new_password=new)


def rotate(user: Any, times: int) -> str:
    """Change the password `times` times, starting from PASSWORD; returns the current one."""
    current = PASSWORD
    for n in range(1, times + 1):
        change(user, current, f"Rotation-Pass-{n}!")
        current = f"Rotation-Pass-{n}!"
    return current


def refusal(user: Any, current: str, new: str) -> str:
    with translation.override("en"), pytest.raises(PasswordRejected) as refused:
        change(user, current, new)
    with translation.override("en"):
        return refused.value.render()


@pytest.mark.req("AC-03")
def test_password_shorter_than_the_minimum_is_refused(alice: Any) -> None:
    assert "too short" in refusal(alice, PASSWORD, "Ab1!xyz")


@pytest.mark.req("AC-03")
def test_password_with_fewer_than_three_character_classes_is_refused(alice: Any) -> None:
    assert "at least three" in refusal(alice, PASSWORD, "lowercase1234")


@pytest.mark.req("AC-03")
def test_common_password_is_refused(alice: Any) -> None:
    assert "too common" in refusal(alice, PASSWORD, "Password1!")


@pytest.mark.req("AC-03")
def test_password_among_the_last_n_is_refused(alice: Any) -> None:
    # The initial password and N-1 changes: the initial one is still among the last N.
    current = rotate(alice, settings.BATCHLINE_PASSWORD_HISTORY - 1)
    assert "used recently" in refusal(alice, current, PASSWORD)


@pytest.mark.req("AC-03")
def test_password_older_than_the_last_n_may_be_used_again(alice: Any) -> None:
    current = rotate(alice, settings.BATCHLINE_PASSWORD_HISTORY)
    change(alice, current, PASSWORD)
    assert User.objects.get(pk=alice.pk).check_password(PASSWORD)


@pytest.mark.req("AC-03")
def test_refused_password_leaves_the_old_one_in_place(alice: Any) -> None:
    refusal(alice, PASSWORD, "short")
    assert User.objects.get(pk=alice.pk).check_password(PASSWORD)


@pytest.mark.req("AC-03")
def test_wrong_current_password_is_refused_as_failed_authentication(alice: Any) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        change(alice, "Not-The-Password-1", "Brand-New-Pass-42")
    assert refused.value.user == alice


@pytest.mark.req("AC-03")
def test_password_is_expired_after_the_maximum_age(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    later = alice.password_changed_at + dt.timedelta(days=settings.BATCHLINE_PASSWORD_MAX_AGE_DAYS, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert passwords.is_expired(alice)


@pytest.mark.req("AC-03")
def test_password_is_not_expired_within_the_maximum_age(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    later = alice.password_changed_at + dt.timedelta(days=settings.BATCHLINE_PASSWORD_MAX_AGE_DAYS)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert not passwords.is_expired(alice)


@pytest.mark.req("AC-03")
def test_account_that_never_set_a_password_counts_as_expired() -> None:
    assert passwords.is_expired(User(username="x", full_name="X", password_changed_at=None))


@pytest.mark.req("AC-03")
def test_new_account_must_change_its_initial_password(admin_user: Any) -> None:
    bob = services.create_user(actor=admin_user, username="bob", full_name="Bob", roles=["operator"],
                               initial_password="Initial-Pass-2026")
    assert bob.must_change_password


@pytest.mark.req("AC-03")
def test_password_reset_forces_a_change_at_next_sign_in(alice: Any, admin_user: Any) -> None:
    services.reset_password(actor=admin_user, user_id=alice.pk, temporary_password="Temporary-Pass-77",
                            reason="forgot")
    assert User.objects.get(pk=alice.pk).must_change_password


@pytest.mark.req("AC-03")
def test_changing_the_password_clears_the_forced_change(alice: Any, admin_user: Any) -> None:
    services.reset_password(actor=admin_user, user_id=alice.pk, temporary_password="Temporary-Pass-77",
                            reason="forgot")
    change(User.objects.get(pk=alice.pk), "Temporary-Pass-77", "Brand-New-Pass-42")
    assert not User.objects.get(pk=alice.pk).must_change_password


@pytest.mark.req("AC-03")
def test_new_password_must_differ_from_the_current_one(alice: Any) -> None:
    assert "differ" in refusal(alice, PASSWORD, PASSWORD)


@pytest.mark.req("AC-03")
def test_argon2_is_the_production_password_hasher() -> None:
    # The test run swaps in a fast hasher (tests/conftest.py); the settings module is what ships.
    shipped = importlib.import_module("batchline.settings")
    assert shipped.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    importlib.import_module("argon2")  # the hasher's library is installed


@pytest.mark.req("AC-03")
def test_idle_sessions_expire() -> None:
    shipped = importlib.import_module("batchline.settings")
    assert shipped.SESSION_SAVE_EVERY_REQUEST and 0 < shipped.SESSION_COOKIE_AGE <= 30 * 60
