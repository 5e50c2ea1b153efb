"""The only code that changes accounts, passwords and tokens. Each change is audited (AC-04)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.errors import InvalidInput, ReasonRequired, ensure
from batchline.identity import passwords
from batchline.identity.authz import authorize
from batchline.identity.errors import (
    AccountInactive,
    AccountLocked,
    AuthenticationFailed,
    NotAPerson,
    PasswordRejected,
    RoleConflict,
    TokenInvalid,
    UsernameTaken,
)
from batchline.identity.events import access_changed
from batchline.identity.models import ApiToken, PasswordHistory, User, UserKind
from batchline.identity.roles import NON_GMP_ROLES, permissions_of, role_codes

TOKEN_PREFIX_LENGTH = 8


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    ensure(reason, ReasonRequired(field="reason"))
    return reason


def _check_roles(roles: Iterable[str], kind: str) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in role_codes()]
    if unknown:
        raise InvalidInput(_("Unknown role: {role}."), field="roles", code="unknown_role", role=unknown[0])
    if set(roles) & NON_GMP_ROLES and set(roles) - NON_GMP_ROLES:
        raise RoleConflict(field="roles")
    if (kind == UserKind.INTEGRATION) != ("integration" in roles) and roles:
        raise InvalidInput(_("The integration role belongs to integration accounts only."), field="roles",
                           code="integration_role_mismatch")
    return roles


def _check_new_password(user: User, raw_password: str) -> None:
    try:
        validate_password(raw_password, user)
    except ValidationError as exc:
        raise PasswordRejected(" ".join(exc.messages), field="password") from None
    if passwords.reused_recently(user, raw_password):
        raise PasswordRejected(
            _("This password was used recently; choose one not among your last {count}."),
            field="password", count=settings.BATCHLINE_PASSWORD_HISTORY,
        )


def _set_password(user: User, raw_password: str, *, must_change: bool) -> None:
    user.set_password(raw_password)
    user.password_changed_at = clock.now()
    user.must_change_password = must_change
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    PasswordHistory.objects.create(user=user, password_hash=user.password, set_at=user.password_changed_at)


def create_user(*, actor: User | None, username: str, full_name: str, roles: Iterable[str],
                initial_password: str | None = None, email: str = "", language: str = "zh-hans",
                kind: str = UserKind.PERSON) -> User:
    """Open an account. A person must change the initial password at first sign-in."""
    if actor is not None:
        authorize(actor, "identity.manage_users")
    username = (username or "").strip()
    ensure(username and full_name.strip(), InvalidInput(_("User id and full name are required."), field="username"))
    ensure(language in dict(settings.LANGUAGES), InvalidInput(_("Unknown language."), field="language"))
    roles = _check_roles(roles, kind)
    with transaction.atomic():
        ensure(not User.objects.filter(username__iexact=username).exists(),
               UsernameTaken(field="username", username=username))
        user = User(username=username, full_name=full_name.strip(), email=email, roles=roles,
                    language=language, kind=kind, created_at=clock.now())
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # a concurrent twin took the id between the check and the insert
            raise UsernameTaken(field="username", username=username) from None
        if kind == UserKind.PERSON:
            ensure(initial_password, InvalidInput(_("An initial password is required."), field="password"))
            _check_new_password(user, initial_password or "")
            _set_password(user, initial_password or "", must_change=True)
        access_changed(actor=actor, user=user, action="create",
                       changes={k: [None, v] for k, v in user.audit_snapshot().items()})
    return user


def _locked_user(user_id: int) -> User:
    return User.objects.select_for_update().get(pk=user_id)


def change_roles(*, actor: User, user_id: int, roles: Iterable[str], reason: str) -> User:
    authorize(actor, "identity.manage_users")
    reason = _require_reason(reason)
    with transaction.atomic():
        user = _locked_user(user_id)
        new_roles = _check_roles(roles, user.kind)
        before = sorted(user.roles)
        user.roles = new_roles
        user.save(update_fields=["roles"])
        access_changed(actor=actor, user=user, action="change_roles", changes={"roles": [before, new_roles]},
                       reason=reason)
    return user


def update_profile(*, actor: User, user_id: int, full_name: str, email: str, language: str, reason: str) -> User:
    authorize(actor, "identity.manage_users")
    reason = _require_reason(reason)
    ensure(language in dict(settings.LANGUAGES), InvalidInput(_("Unknown language."), field="language"))
    with transaction.atomic():
        user = _locked_user(user_id)
        before = user.audit_snapshot()
        user.full_name, user.email, user.language = full_name.strip(), email.strip(), language
        user.save(update_fields=["full_name", "email", "language"])
        after = user.audit_snapshot()
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        access_changed(actor=actor, user=user, action="update", changes=changes, reason=reason)
    return user


def set_own_language(*, user: User, language: str) -> User:
    """A person switches their own interface language (not a GMP change, but still recorded)."""
    ensure(language in dict(settings.LANGUAGES), InvalidInput(_("Unknown language."), field="language"))
    with transaction.atomic():
        before = user.language
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        if before != language:
            access_changed(actor=user, user=user, action="set_language", changes={"language": [before, language]})
    return user


def deactivate_user(*, actor: User, user_id: int, reason: str) -> User:
    authorize(actor, "identity.manage_users")
    reason = _require_reason(reason)
    ensure(actor.pk != user_id, InvalidInput(_("You cannot deactivate your own account."), code="self_deactivation"))
    with transaction.atomic():
        user = _locked_user(user_id)
        ensure(user.is_active, InvalidInput(_("The account is already deactivated."), code="already_inactive"))
        user.is_active = False
        user.deactivated_at = clock.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        access_changed(actor=actor, user=user, action="deactivate", changes={"is_active": [True, False]},
                       reason=reason)
        # Each token's own history must show its revocation, not only the account's.
        for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True).order_by("pk"):
            token.revoked_at = user.deactivated_at
            token.save(update_fields=["revoked_at"])
            access_changed(actor=actor, user=user, action="revoke_token", record_type="identity.apitoken",
                           record_id=token.pk, label=f"{user.username}/{token.name}",
                           changes={"revoked": [False, True]}, reason=reason)
    return user


def reactivate_user(*, actor: User, user_id: int, reason: str) -> User:
    authorize(actor, "identity.manage_users")
    reason = _require_reason(reason)
    with transaction.atomic():
        user = _locked_user(user_id)
        ensure(not user.is_active, InvalidInput(_("The account is already active."), code="already_active"))
        user.is_active = True
        user.deactivated_at = None
        user.save(update_fields=["is_active", "deactivated_at"])
        access_changed(actor=actor, user=user, action="reactivate", changes={"is_active": [False, True]},
                       reason=reason)
    return user


def reset_password(*, actor: User, user_id: int, temporary_password: str, reason: str) -> User:
    """An administrator sets a temporary password; the person must change it at next sign-in."""
    authorize(actor, "identity.manage_users")
    reason = _require_reason(reason)
    with transaction.atomic():
        user = _locked_user(user_id)
        ensure(user.is_person, NotAPerson())
        _check_new_password(user, temporary_password)
        must_change_before = user.must_change_password
        _set_password(user, temporary_password, must_change=True)
        access_changed(actor=actor, user=user, action="reset_password", reason=reason,
                       changes={"password": ["***", "***"], "must_change_password": [must_change_before, True]})
    return user


def change_own_password(*, user: User, current_password: str, new_password: str) -> User:
    with transaction.atomic():
        locked = _locked_user(user.pk)
        if not check_password(current_password, locked.password):
            raise AuthenticationFailed(_("The current password is not correct."), field="current_password",
                                       user=locked)
        ensure(current_password != new_password,
               PasswordRejected(_("The new password must differ from the current one."), field="password"))
        _check_new_password(locked, new_password)
        _set_password(locked, new_password, must_change=False)
        access_changed(actor=locked, user=locked, action="change_password",
                       changes={"password": ["***", "***"], "must_change_password": [user.must_change_password, False]})
    user.refresh_from_db()
    return user


def unlock_user(*, actor: User, user_id: int, reason: str) -> User:
    authorize(actor, "identity.manage_users")
    reason = _require_reason(reason)
    with transaction.atomic():
        user = _locked_user(user_id)
        ensure(user.is_locked, InvalidInput(_("The account is not locked."), code="not_locked"))
        user.locked_at = None
        user.failed_login_count = 0
        user.save(update_fields=["locked_at", "failed_login_count"])
        access_changed(actor=actor, user=user, action="unlock", changes={"locked": [True, False]}, reason=reason)
    return user


def register_failed_authentication(user: User, *, context: str) -> User:
    """Count a wrong password (sign-in or e-signature, ES-09); lock the account at the threshold.

    Must run outside the transaction that failed: callers are the sign-in backend and the error
    mapping of web and API, which run after the rollback.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
        locked = _locked_user(user.pk)
        if locked.locked_at is None and locked.failed_login_count >= settings.BATCHLINE_LOCKOUT_THRESHOLD:
            locked.locked_at = clock.now()
            locked.save(update_fields=["locked_at"])
            access_changed(actor=None, user=locked, action="lock",
                           changes={"locked": [False, True], "failed_attempts": [None, locked.failed_login_count]},
                           reason=f"automatic lock after repeated failed {context} attempts")
    return locked


def register_successful_login(user: User) -> None:
    """A sign-in resets the failure count and is recorded, for the periodic access review."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=0, last_login=clock.now())
        access_changed(actor=user, user=user, action="sign_in", changes={})


def verify_password(user: User, raw_password: str) -> None:
    """Re-authentication for an e-signature: raises if the account cannot sign or the password is wrong."""
    ensure(user.is_person, NotAPerson())
    ensure(user.is_active, AccountInactive())
    ensure(not user.is_locked, AccountLocked())
    if not check_password(raw_password, user.password):
        raise AuthenticationFailed(field="password", user=user)


# --- API tokens --------------------------------------------------------------------------------

def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(*, actor: User, user_id: int, name: str, scopes: Iterable[str],
                     expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token; returns (token, secret). The secret is shown once and stored only hashed."""
    authorize(actor, "identity.manage_tokens")
    scopes = sorted(set(scopes))
    ensure(name.strip(), InvalidInput(_("A token name is required."), field="name"))
    ensure(scopes, InvalidInput(_("Choose at least one scope."), field="scopes", code="no_scopes"))
    with transaction.atomic():
        user = _locked_user(user_id)
        ensure(user.is_active, AccountInactive())
        held = permissions_of(tuple(user.roles))
        for scope in scopes:
            app = scope.removesuffix(".*")
            valid = scope in held or (scope.endswith(".*") and any(p.startswith(app + ".") for p in held))
            ensure(valid, InvalidInput(_("The account does not hold the scope '{scope}'."), field="scopes",
                                       code="scope_not_held", scope=scope))
        secret = secrets.token_urlsafe(32)
        prefix = secret[:TOKEN_PREFIX_LENGTH]
        token = ApiToken.objects.create(
            user=user, name=name.strip(), prefix=prefix, token_hash=_token_hash(secret), scopes=scopes,
            created_at=clock.now(), created_by=actor, expires_at=expires_at,
        )
        access_changed(actor=actor, user=user, action="create_token", record_type="identity.apitoken",
                       record_id=token.pk, label=f"{user.username}/{token.name}",
                       changes={"name": [None, token.name], "scopes": [None, scopes],
                                "expires_at": [None, expires_at.isoformat() if expires_at else None]})
    return token, f"bl_{secret}"


def revoke_api_token(*, actor: User, token_id: int, reason: str) -> ApiToken:
    authorize(actor, "identity.manage_tokens")
    reason = _require_reason(reason)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
        ensure(token.revoked_at is None, InvalidInput(_("The token is already revoked."), code="already_revoked"))
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        access_changed(actor=actor, user=token.user, action="revoke_token", record_type="identity.apitoken",
                       record_id=token.pk, label=f"{token.user.username}/{token.name}",
                       changes={"revoked": [False, True]}, reason=reason)
    return token


def authenticate_token(raw: str) -> User:
    """Resolve a bearer token to its account, with the token's scopes attached to the instance."""
    secret = raw.removeprefix("bl_")
    token = ApiToken.objects.select_related("user").filter(token_hash=_token_hash(secret)).first()
    now = clock.now()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        raise TokenInvalid()
    user = token.user
    if not user.is_active or user.is_locked:
        raise TokenInvalid()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user.token_scopes = frozenset(token.scopes)
    return user

