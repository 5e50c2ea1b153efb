"""Turning submitted values (form, API, CSV: strings or JSON) into a master-data item's content.

One parser for every entry point, so that a value accepted on screen is accepted by the API and
the import, and refused everywhere with the same message. Every error is collected, not just the
first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from zoneinfo import available_timezones

from django.db import models
from django.utils.translation import gettext as _

from batchline.core.errors import InvalidInput
from batchline.core.quantity import to_decimal
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.errors import ContentInvalid
from batchline.masterdata.models import MasterRecord

_TRUE = {"1", "true", "yes", "y", "是", "on"}
_FALSE = {"0", "false", "no", "n", "否", "off", ""}


def gs1_check_digit_ok(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _parse(field: models.Field, raw: Any) -> Any:
    if isinstance(field, models.ForeignKey):
        if raw in (None, ""):
            return None
        target = cast(type[MasterRecord], field.related_model)
        code = getattr(raw, "code", None) if isinstance(raw, models.Model) else str(raw).strip()
        found = target.objects.filter(code=code).first()
        if found is None or found.status == RecordStatus.RETIRED:
            raise ValueError(_("No {kind} with code '{code}'.").format(kind=field.verbose_name, code=code))
        return found
    if isinstance(field, models.BooleanField):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(_("'{value}' is not yes or no.").format(value=raw))
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if isinstance(field, models.DecimalField):
        try:
            number = to_decimal(raw)
        except InvalidInput as exc:
            raise ValueError(exc.render()) from None
        if -number.as_tuple().exponent > field.decimal_places:  # type: ignore[operator]
            raise ValueError(_("At most {places} decimal places.").format(places=field.decimal_places))
        return number
    if isinstance(field, models.PositiveIntegerField | models.IntegerField):
        if isinstance(raw, bool | float):
            raise ValueError(_("'{value}' is not a whole number.").format(value=raw))
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(_("'{value}' is not a whole number.").format(value=raw)) from None
        if value < 0:
            raise ValueError(_("Must not be negative."))
        return value
    text = str(raw).strip()
    if field.max_length and len(text) > field.max_length:
        raise ValueError(_("At most {n} characters (got {got}).").format(n=field.max_length, got=len(text)))
    if field.choices and text not in {str(c[0]) for c in field.choices}:
        allowed = ", ".join(str(c[0]) for c in field.choices)
        raise ValueError(_("'{value}' is not one of: {allowed}.").format(value=text, allowed=allowed))
    return text


def parse_content(model: type[MasterRecord], data: dict[str, Any], *,
                  base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate `data` over `base` (the current content, for partial changes) and return the full
    content, or raise ContentInvalid listing every problem."""
    unknown = sorted(set(data) - set(model.content_fields))
    errors: list[tuple[str, str]] = [(name, _("Unknown field '{name}'.").format(name=name)) for name in unknown]
    values: dict[str, Any] = dict(base) if base is not None else _defaults(model)
    for name in model.content_fields:
        if name not in data:
            continue
        field = model._meta.get_field(name)
        try:
            values[name] = _parse(field, data[name])  # type: ignore[arg-type]
        except ValueError as exc:
            errors.append((name, str(exc)))
    for name in model.content_fields:
        field = cast(models.Field, model._meta.get_field(name))
        if any(e[0] == name for e in errors):
            continue
        value = values.get(name)
        if value is None and not (field.null or field.blank or isinstance(field, models.BooleanField)):
            errors.append((name, _("This field is required.")))
        if value is None and isinstance(field, models.CharField | models.TextField):
            values[name] = ""
        if value is None and isinstance(field, models.BooleanField):
            values[name] = field.default if isinstance(field.default, bool) else False
    if not errors:
        errors.extend(_rules(model, values))
    if errors:
        raise ContentInvalid(errors)
    return values


def _defaults(model: type[MasterRecord]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for name in model.content_fields:
        field = model._meta.get_field(name)
        if field.has_default():  # type: ignore[union-attr]
            defaults[name] = field.get_default()  # type: ignore[union-attr]
    return defaults


def _rules(model: type[MasterRecord], v: dict[str, Any]) -> list[tuple[str, str]]:
    """Business rules beyond single fields."""
    errors: list[tuple[str, str]] = []
    code = v.get("code", "")
    if code and (code != code.strip() or any(c.isspace() for c in code)):
        errors.append(("code", _("Codes contain no spaces.")))
    gtin = v.get("gtin")
    if gtin and (not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14) or not gs1_check_digit_ok(gtin)):
        errors.append(("gtin", _("'{gtin}' is not a valid GTIN (length or check digit).").format(gtin=gtin)))
    gln = v.get("gln")
    if gln and (not gln.isdigit() or len(gln) != 13 or not gs1_check_digit_ok(gln)):
        errors.append(("gln", _("'{gln}' is not a valid GLN.").format(gln=gln)))
    for name in ("factor",):
        if name in v and v[name] is not None and v[name] <= Decimal(0):
            errors.append((name, _("Must be greater than zero.")))
    if "time_zone" in v and v["time_zone"] not in available_timezones():
        errors.append(("time_zone", _("Unknown time zone '{tz}'.").format(tz=v["time_zone"])))
    if "from_unit" in v and v.get("from_unit") is not None and v.get("from_unit") == v.get("to_unit"):
        errors.append(("to_unit", _("A conversion needs two different units.")))
    drug_code = v.get("drug_code")
    if drug_code and (not drug_code.isdigit() or len(drug_code) != 7):
        errors.append(("drug_code", _("The drug identification code is 7 digits.")))
    return errors


def content_of(item: MasterRecord) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.content_fields}


def portable(content: dict[str, Any]) -> dict[str, Any]:
    """Content as JSON-friendly values: linked items by code, decimals as strings."""
    out: dict[str, Any] = {}
    for name, value in content.items():
        if isinstance(value, models.Model):
            out[name] = value.code  # type: ignore[attr-defined]
        elif isinstance(value, Decimal):
            out[name] = format(value, "f")  # never exponent notation (1E-9): a plain decimal string
        else:
            out[name] = value
    return out
