"""Template helpers of the warehouse stock screens: `{% load warehouse_stock %}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def qty(value: Any) -> str:
    """A stored quantity as people write it: 25, 24.5, 0.05 (never 25.000000 or 1E+2)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return format(value.normalize(), "f")
