from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied


class AuthenticationFailed(DomainError):
    """Wrong user id or password. Carries the account (if any) whose failure count must rise.

    The count is written by the error mapping in web/api after the business transaction rolled
    back (identity.services.register_failed_authentication), so that it is never lost with it.
    """

    code = "authentication_failed"
    http_status = 401
    default_message = _("The user id or password is not correct.")

    def __init__(self, *args: object, user: object = None, **kwargs: object) -> None:
        self.user = user
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class AccountLocked(DomainError):
    code = "account_locked"
    http_status = 403
    default_message = _("The account is locked after repeated failed attempts. Ask an administrator to unlock it.")


class AccountInactive(DomainError):
    code = "account_inactive"
    http_status = 403
    default_message = _("The account is deactivated.")


class PasswordRejected(InvalidInput):
    code = "password_rejected"
    default_message = _("The new password does not meet the password policy.")


class RoleConflict(InvalidInput):
    code = "role_conflict"
    default_message = _("System administration cannot be combined with GMP roles on one account.")


class UsernameTaken(Conflict):
    code = "username_taken"
    default_message = _("The user id '{username}' exists or existed; user ids are never reused.")


class TokenInvalid(DomainError):
    code = "token_invalid"
    http_status = 401
    default_message = _("The API token is not valid, expired or revoked.")


class NotAPerson(PermissionDenied):
    code = "not_a_person"
    default_message = _("Only a person can do this; integration accounts cannot sign in or sign.")
