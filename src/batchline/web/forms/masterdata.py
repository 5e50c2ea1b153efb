"""The master-data item form, built from a model's `content_fields`.

This is presentation only: which input each field gets, its label, its current text and its error.
Validation is masterdata.content.parse_content(), the one parser for form, API and import, so the
form sends every value to the service as the person typed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import QueryDict
from django.utils.text import capfirst
from django.utils.translation import get_language

from batchline.core.errors import DomainError
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.content import content_of
from batchline.masterdata.errors import ContentInvalid
from batchline.masterdata.models import MasterRecord

# The form field's name for "yes" on a checkbox; parse_content() reads it as true and a missing
# checkbox ("") as false.
CHECKED = "yes"


@dataclass
class FieldInput:
    name: str
    label: str
    widget: str  # text | textarea | select | checkbox
    value: str
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    readonly: bool = False
    max_length: int | None = None


def text_of(value: Any) -> str:
    """A stored value as the text a person would type for it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return CHECKED if value else ""
    if isinstance(value, models.Model):
        return str(getattr(value, "code", value.pk))
    if isinstance(value, Decimal):
        # 1.000000000000 (as stored) is shown and typed as 1
        text = format(value.normalize(), "f")
        return text
    return str(value)


def initial_values(item: MasterRecord) -> dict[str, str]:
    return {name: text_of(value) for name, value in content_of(item).items()}


def default_values(model: type[MasterRecord]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in model.content_fields:
        model_field: Any = model._meta.get_field(name)
        values[name] = text_of(model_field.get_default() if model_field.has_default() else None)
    return values


def submitted_values(model: type[MasterRecord], post: QueryDict) -> dict[str, str]:
    """Every content field as posted. An unticked checkbox is not posted at all: it means "no"."""
    return {name: post.get(name, "") for name in model.content_fields}


def field_errors(error: DomainError) -> dict[str, list[str]]:
    """The messages of a refusal, by the field they belong to."""
    if isinstance(error, ContentInvalid):
        found: dict[str, list[str]] = {}
        for field_name, message in error.errors:
            found.setdefault(field_name, []).append(str(message))
        return found
    if error.field:
        return {error.field: [error.render()]}
    return {}


def _label(model_field: Any) -> str:
    return str(capfirst(model_field.verbose_name))


def _linked_choices(target: Any, current: str) -> list[tuple[str, str]]:
    language = get_language() or "zh-hans"
    options = [(item.code, f"{item.code} – {item.name(language)}")
               for item in target._default_manager.exclude(status=RecordStatus.RETIRED).order_by("code")]
    if current and current not in {code for code, _label in options}:
        options.insert(0, (current, current))  # keep a value the person typed, so its error makes sense
    return options


def content_inputs(model: type[MasterRecord], values: dict[str, str],
                   errors: dict[str, list[str]] | None = None, *,
                   readonly: tuple[str, ...] = ()) -> list[FieldInput]:
    errors = errors or {}
    inputs = []
    for name in model.content_fields:
        model_field: Any = model._meta.get_field(name)
        value = values.get(name, "")
        required = not (model_field.null or model_field.blank or isinstance(model_field, models.BooleanField))
        entry = FieldInput(name=name, label=_label(model_field), widget="text", value=value,
                           required=required, errors=errors.get(name, []), readonly=name in readonly,
                           max_length=getattr(model_field, "max_length", None))
        if isinstance(model_field, models.ForeignKey):
            entry.widget = "select"
            entry.choices = _linked_choices(model_field.related_model, value)
        elif isinstance(model_field, models.BooleanField):
            entry.widget = "checkbox"
        elif model_field.choices:
            entry.widget = "select"
            entry.choices = [(str(code), str(label)) for code, label in model_field.choices]
        elif isinstance(model_field, models.TextField):
            entry.widget = "textarea"
        inputs.append(entry)
    return inputs
