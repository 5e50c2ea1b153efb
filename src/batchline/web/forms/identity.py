"""Forms of the sign-in, password and user-administration screens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from batchline.identity.models import UserKind
from batchline.identity.roles import permissions_of, role_codes, role_label
from batchline.web.forms import ReasonField


def role_choices() -> list[tuple[str, str]]:
    """Every role of permissions.toml, labelled in the reader's language."""
    language = get_language() or "zh-hans"
    return [(code, role_label(code, language)) for code in role_codes()]


def language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


class SignInForm(forms.Form):
    username = forms.CharField(label=_("User id"), max_length=64, widget=forms.TextInput(attrs={
        "autocomplete": "username", "autofocus": True, "autocapitalize": "none", "spellcheck": "false",
        "data-testid": "login-username"}))
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={
        "autocomplete": "current-password", "data-testid": "login-password"}))


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(label=_("Current password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password", "autofocus": True}))
    password = forms.CharField(label=_("New password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(label=_("New password again"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two new passwords are not the same."))
        return data

    @staticmethod
    def rules() -> list[str]:
        """The password policy in words, from the configured validators."""
        return [str(text) for text in password_validators_help_texts()]


class UserFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("All")),
        ("active", _("Active")),
        ("locked", _("Locked")),
        ("inactive", _("Deactivated")),
    ]
    q = forms.CharField(label=_("User id or name"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    role = forms.ChoiceField(label=_("Role"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("All")), *role_choices()]  # type: ignore[attr-defined]


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Roles"))
        kwargs.setdefault("required", False)  # the service decides what combinations are allowed
        kwargs.setdefault("help_text", _("System administration cannot be combined with GMP roles."))
        super().__init__(**kwargs)


class UserCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Account type"), choices=UserKind.choices, initial=UserKind.PERSON,
                             widget=forms.RadioSelect)
    username = forms.CharField(label=_("User id"), max_length=64, help_text=_(
        "Unique forever: a user id is never deleted and never given to anyone else."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}))
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Email"), required=False)
    language = forms.ChoiceField(label=_("Language"), initial="zh-hans")
    roles = RolesField()
    password = forms.CharField(
        label=_("Temporary password"), required=False, strip=False,
        help_text=_("People only; they must change it at first sign-in. "
                    "Integration accounts use API tokens instead."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices()  # type: ignore[attr-defined]
        self.fields["roles"].choices = role_choices()  # type: ignore[attr-defined]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Email"), required=False)
    language = forms.ChoiceField(label=_("Language"))
    reason = ReasonField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices()  # type: ignore[attr-defined]


class RolesForm(forms.Form):
    roles = RolesField()
    reason = ReasonField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices()  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = ReasonField()


class ResetPasswordForm(forms.Form):
    temporary_password = forms.CharField(
        label=_("Temporary password"), strip=False,
        help_text=_("The person must replace it at the next sign-in."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    reason = ReasonField()


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100,
                           help_text=_("What uses this token, e.g. \"ERP production orders\"."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple, required=False,
        help_text=_("The token can do only this, and never more than the account's roles allow."))
    expires_on = forms.DateField(label=_("Expires on (optional)"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, account: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        held = sorted(permissions_of(tuple(account.roles)))
        self.fields["scopes"].choices = [(p, p) for p in held]  # type: ignore[attr-defined]
