"""Typed domain errors.

Every refusal in Batchline is a DomainError with a stable machine `code`, a translated `message`
and, where one input is at fault, the `field`. The API maps them once to
`{"code", "message", "field"}` with `http_status`; the web layer shows the message to the user.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    http_status = 400
    default_message: Any = _("The request was refused.")

    def __init__(self, message: Any = None, *, field: str | None = None, code: str | None = None,
                 **params: Any) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(str(self.message))

    def render(self) -> str:
        text = str(self.message)
        return text.format(**self.params) if self.params else text

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.render(), "field": self.field}


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    http_status = 401
    default_message = _("You must sign in first.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403
    default_message = _("You do not have permission for this action.")


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _("The record was not found.")


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422
    default_message = _("The input is not valid.")


class Conflict(DomainError):
    """The record is not in a state that allows the action (wrong status, already done, stale)."""

    code = "conflict"
    http_status = 409
    default_message = _("The record is not in a state that allows this action.")


class ReasonRequired(DomainError):
    code = "reason_required"
    http_status = 422
    default_message = _("A reason for the change is required.")


def ensure(condition: object, error: DomainError) -> None:
    """Raise `error` unless `condition` holds. Keeps preconditions one line each in services."""
    if not condition:
        raise error
