"""Sign-in, lockout, forced password change, inactivity timeout and language (AC-03)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from batchline.identity import services
from batchline.identity.errors import AccountInactive, AccountLocked, AuthenticationFailed
from batchline.identity.models import User
from conftest import PASSWORD

LOGIN = "/login/"
NEW_PASSWORD = "Another-Secret-2027?"


def sign_in(client: Client, username: str, password: str = PASSWORD, **fields: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, **fields})


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- sign-in ----------------------------------------------------------------------------------------

@pytest.mark.req("AC-03")
def test_sign_in_with_the_right_password_opens_the_home_page(client: Client, steward: Any) -> None:
    response = sign_in(client, "steward")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(steward.pk)


def test_sign_in_rotates_the_session_key(client: Client, steward: Any) -> None:
    before = client.session.session_key  # the test client opens (and sends) an anonymous session
    assert before
    sign_in(client, "steward")
    assert client.session.session_key != before


def test_sign_in_returns_to_the_page_asked_for(client: Client, steward: Any) -> None:
    response = sign_in(client, "steward", next="/users/")
    assert response["Location"] == "/users/"


def test_sign_in_ignores_a_next_address_outside_the_site(client: Client, steward: Any) -> None:
    response = sign_in(client, "steward", next="https://evil.example/")
    assert response["Location"] == "/"


@pytest.mark.req("AC-03")
def test_wrong_password_is_refused_with_a_generic_message_and_counted(client: Client, steward: Any) -> None:
    response = sign_in(client, "steward", "wrong-password")
    assert response.status_code == 200
    assert escape(AuthenticationFailed().render()) in response.content.decode()
    assert signed_in_user_id(client) is None
    steward.refresh_from_db()
    assert steward.failed_login_count == 1


def test_unknown_user_id_gets_the_same_message_as_a_wrong_password(client: Client, db: None) -> None:
    response = sign_in(client, "nobody")
    assert escape(AuthenticationFailed().render()) in response.content.decode()


@pytest.mark.req("AC-03")
def test_account_locks_after_the_threshold_of_failed_sign_ins(client: Client, steward: Any) -> None:
    for _ in range(settings.BATCHLINE_LOCKOUT_THRESHOLD):
        sign_in(client, "steward", "wrong-password")
    steward.refresh_from_db()
    assert steward.is_locked

    response = sign_in(client, "steward")  # even the right password no longer opens the account
    assert signed_in_user_id(client) is None
    assert escape(AccountLocked().render()) in response.content.decode()


@pytest.mark.req("AC-03")
def test_one_failure_below_the_threshold_does_not_lock(client: Client, steward: Any) -> None:
    for _ in range(settings.BATCHLINE_LOCKOUT_THRESHOLD - 1):
        sign_in(client, "steward", "wrong-password")
    sign_in(client, "steward")
    assert signed_in_user_id(client) == str(steward.pk)


@pytest.mark.req("AC-03")
def test_locked_account_is_refused_with_the_locked_message(client: Client, steward: Any) -> None:
    User.objects.filter(pk=steward.pk).update(locked_at=timezone.now())
    response = sign_in(client, "steward")
    assert escape(AccountLocked().render()) in response.content.decode()
    assert signed_in_user_id(client) is None


def test_deactivated_account_is_named_only_with_the_right_password(
        client: Client, steward: Any, admin_user: Any) -> None:
    services.deactivate_user(actor=admin_user, user_id=steward.pk, reason="left the company")
    right = sign_in(client, "steward").content.decode()
    wrong = sign_in(client, "steward", "guess").content.decode()
    assert escape(AccountInactive().render()) in right
    assert escape(AccountInactive().render()) not in wrong
    assert escape(AuthenticationFailed().render()) in wrong
    assert signed_in_user_id(client) is None


def test_integration_account_cannot_sign_in(client: Client, make_user: Any) -> None:
    robot = make_user("integration", username="erp", kind="integration")
    sign_in(client, robot.username)
    assert signed_in_user_id(client) is None


def test_signed_in_person_opening_the_sign_in_page_goes_home(client: Client, steward: Any) -> None:
    client.force_login(steward)
    assert client.get(LOGIN)["Location"] == "/"


# --- sign-out ---------------------------------------------------------------------------------------

def test_sign_out_ends_the_session(client: Client, steward: Any) -> None:
    client.force_login(steward)
    response = client.post("/logout/")
    assert response["Location"] == LOGIN
    assert signed_in_user_id(client) is None


def test_sign_out_link_only_asks_for_confirmation(client: Client, steward: Any) -> None:
    client.force_login(steward)
    response = client.get("/logout/")
    assert response.status_code == 200
    assert signed_in_user_id(client) == str(steward.pk)


# --- forced password change -------------------------------------------------------------------------

@pytest.mark.req("AC-03")
def test_password_reset_by_an_administrator_forces_a_change_at_sign_in(
        client: Client, steward: Any, admin_user: Any) -> None:
    services.reset_password(actor=admin_user, user_id=steward.pk, temporary_password="Temporary-Pass-99",
                            reason="forgotten password, identity checked")
    sign_in(client, "steward", "Temporary-Pass-99")
    assert client.get("/")["Location"] == reverse("web:password_change")
    assert client.get("/users/")["Location"] == reverse("web:password_change")

    response = client.post(reverse("web:password_change"), {
        "current_password": "Temporary-Pass-99", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200  # still signed in, free to work
    steward.refresh_from_db()
    assert not steward.must_change_password
    assert steward.check_password(NEW_PASSWORD)


@pytest.mark.req("AC-03")
def test_expired_password_forces_a_change(client: Client, steward: Any) -> None:
    long_ago = timezone.now() - timedelta(days=settings.BATCHLINE_PASSWORD_MAX_AGE_DAYS + 1)
    User.objects.filter(pk=steward.pk).update(password_changed_at=long_ago)
    sign_in(client, "steward")
    response = client.get("/")
    assert response["Location"] == reverse("web:password_change")
    page = client.get(reverse("web:password_change")).content.decode()
    assert 'data-testid="password-change-required"' in page


@pytest.mark.req("AC-03")
def test_a_recently_used_password_is_refused(client: Client, steward: Any) -> None:
    client.force_login(steward)
    client.post(reverse("web:password_change"), {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    response = client.post(reverse("web:password_change"), {
        "current_password": NEW_PASSWORD, "password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 200
    assert 'data-testid="error-password"' in response.content.decode()
    steward.refresh_from_db()
    assert steward.check_password(NEW_PASSWORD)


def test_password_change_page_lists_the_password_rules(client: Client, steward: Any) -> None:
    client.force_login(steward)
    page = client.get(reverse("web:password_change")).content.decode()
    assert 'data-testid="password-rules"' in page
    assert str(settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"]["min_length"]) in page


def test_new_passwords_that_differ_are_refused(client: Client, steward: Any) -> None:
    client.force_login(steward)
    response = client.post(reverse("web:password_change"), {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert 'data-testid="error-password_confirm"' in response.content.decode()
    steward.refresh_from_db()
    assert steward.check_password(PASSWORD)


@pytest.mark.req("AC-03")
def test_a_wrong_current_password_counts_toward_lockout(client: Client, steward: Any) -> None:
    client.force_login(steward)
    response = client.post(reverse("web:password_change"), {
        "current_password": "not-it", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'data-testid="error-current_password"' in response.content.decode()
    steward.refresh_from_db()
    assert steward.failed_login_count == 1


# --- inactivity timeout -----------------------------------------------------------------------------

@pytest.mark.req("AC-03")
def test_every_request_pushes_the_inactivity_timeout_forward(client: Client, steward: Any) -> None:
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client.force_login(steward)
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(seconds=5))
    client.get("/")
    remaining = Session.objects.get(pk=key).expire_date - timezone.now()
    assert remaining > timedelta(seconds=settings.SESSION_COOKIE_AGE) / 2


@pytest.mark.req("AC-03")
def test_a_session_idle_longer_than_the_timeout_is_signed_out(client: Client, steward: Any) -> None:
    client.force_login(steward)
    # A session expires SESSION_COOKIE_AGE after its last request: as if that request was longer ago.
    last_request = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=last_request + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- language ---------------------------------------------------------------------------------------

def test_sign_in_page_is_chinese_for_a_chinese_browser(client: Client, db: None) -> None:
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page


def test_sign_in_page_is_english_for_an_english_browser(client: Client, db: None) -> None:
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en">' in page


def test_sign_in_page_is_english_for_a_browser_asking_for_neither_language(client: Client, db: None) -> None:
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="en">' in page


def test_language_can_be_switched_before_sign_in(client: Client, db: None) -> None:
    response = client.post("/language/", {"language": "en", "next": LOGIN}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response["Location"] == LOGIN
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in page
    client.post("/language/", {"language": "zh-hans", "next": LOGIN}, HTTP_ACCEPT_LANGUAGE="fr-FR")
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert '<html lang="zh-hans">' in page


def test_a_persons_language_choice_is_kept_on_the_account(client: Client, steward: Any) -> None:
    client.force_login(steward)
    client.post("/language/", {"language": "en", "next": "/"})
    steward.refresh_from_db()
    assert steward.language == "en"

    other_device = Client()
    other_device.force_login(steward)
    page = other_device.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in page


def test_an_unknown_language_falls_back_to_the_default(client: Client, steward: Any) -> None:
    client.force_login(steward)
    client.post("/language/", {"language": "xx"})
    steward.refresh_from_db()
    assert steward.language == settings.LANGUAGE_CODE
