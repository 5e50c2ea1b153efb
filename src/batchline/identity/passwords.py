"""Password policy beyond Django's validators: character classes, history and expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from batchline.core import clock


class CharacterClassValidator:
    """At least three of: lower case, upper case, digit, other character."""

    def validate(self, password: str, user: Any = None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                _("The password must mix at least three of: lower case, upper case, digits, symbols."),
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("Use at least three of: lower case, upper case, digits, symbols.")


def reused_recently(user: Any, raw_password: str) -> bool:
    recent = user.password_history.all()[: settings.BATCHLINE_PASSWORD_HISTORY]
    return any(check_password(raw_password, entry.password_hash) for entry in recent)


def is_expired(user: Any) -> bool:
    if user.password_changed_at is None:
        return True
    return clock.now() - user.password_changed_at > timedelta(days=settings.BATCHLINE_PASSWORD_MAX_AGE_DAYS)
