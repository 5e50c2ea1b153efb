"""Web forms: they only shape what a person typed; every rule lives in the services.

When a service refuses (DomainError), `show_refusal()` puts its message next to the field at fault
so the person sees it where they have to act.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.utils.translation import gettext_lazy as _

from batchline.core.errors import DomainError
from batchline.web.middleware import count_failed_signature


def show_refusal(form: forms.Form, error: DomainError, aliases: Mapping[str, str] | None = None) -> None:
    """Attach a service's refusal to the form: on its field when the form has one, else on the form.

    `aliases` maps a service's field name to the form's (e.g. "password" → "temporary_password").
    A wrong password typed into a form still counts toward lockout (ES-09).
    """
    count_failed_signature(error)
    field = error.field
    if field and aliases:
        field = aliases.get(field, field)
    form.add_error(field if field in form.fields else None, error.render())


class ReasonField(forms.CharField):
    """Reason for a change (AT-04): required, several lines, kept verbatim in the audit trail."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("label", _("Reason for the change"))
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2, "data-testid": "reason"}))
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)  # type: ignore[arg-type]
