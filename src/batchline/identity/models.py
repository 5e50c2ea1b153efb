"""Accounts, password history and API tokens. Accounts are deactivated, never deleted (AC-04)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class UserKind(models.TextChoices):
    PERSON = "person", _("Person")
    INTEGRATION = "integration", _("Integration (system account)")


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username=username)


class User(AbstractBaseUser):
    """A person or an integration account. `username` is unique forever: rows are never deleted."""

    username = models.CharField(_("user id"), max_length=64, unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    kind = models.CharField(max_length=20, choices=UserKind.choices, default=UserKind.PERSON)
    roles = models.JSONField(default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    is_active = models.BooleanField(default=True)
    must_change_password = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    deactivated_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name"]
    objects = UserManager()

    # Set per request by API token authentication: the token's scopes narrow the user's permissions.
    token_scopes: frozenset[str] | None = None

    class Meta:
        ordering = ["username"]
        constraints = [
            # "Alice" and "alice" are one user id: never two accounts, never reused (AC-04).
            models.UniqueConstraint(Lower("username"), name="username_unique_any_case"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_person(self) -> bool:
        return self.kind == UserKind.PERSON

    def audit_snapshot(self) -> dict[str, Any]:
        return {
            "username": self.username, "full_name": self.full_name, "email": self.email, "kind": self.kind,
            "roles": sorted(self.roles), "language": self.language, "is_active": self.is_active,
            "locked": self.is_locked, "must_change_password": self.must_change_password,
        }


class PasswordHistory(models.Model):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["-set_at", "-id"]

    def __str__(self) -> str:
        return f"password of {self.user_id} set {self.set_at:%Y-%m-%d}"


class ApiToken(models.Model):
    """A bearer token for one integration. Only its SHA-256 is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
