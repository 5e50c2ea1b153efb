"""Template helpers of the environment screens: `{% load environment_values %}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def measured(value: Any) -> str:
    """A stored value as the sensor would show it: 21.5, 400000, 0.05 (never 21.5000 or 4E+5)."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return format(value.normalize(), "f")
