"""Sign-in backend: counts failures, locks accounts, refuses inactive and integration accounts."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password, make_password

from batchline.identity import services
from batchline.identity.models import User, UserKind


@cache
def _dummy_hash() -> str:
    """A hash to check unknown user ids against, made on first use (argon2 is slow at import)."""
    return make_password("timing-equaliser")


class LockoutAwareBackend(BaseBackend):
    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> User | None:
        if not username or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            check_password(password, _dummy_hash())  # same time for unknown accounts: no user enumeration
            return None
        if user.kind != UserKind.PERSON or not user.is_active or user.is_locked:
            return None
        if not user.check_password(password):
            services.register_failed_authentication(user, context="sign-in")
            return None
        services.register_successful_login(user)
        return user

    def get_user(self, user_id: Any) -> User | None:
        user = User.objects.filter(pk=user_id).first()
        if user is None or not user.is_active or user.is_locked:
            return None
        return user
