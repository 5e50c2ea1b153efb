"""Template helpers shared by every screen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.translation import get_language

from batchline.core.clock import format_site

register = template.Library()


@register.filter
def site_time(moment: datetime | None) -> str:
    """A stored UTC time as the site sees it, with its zone: 2026-11-22 14:03:07 CST (UTC+08:00)."""
    return format_site(moment)


@register.filter
def localized_name(item: Any) -> str:
    """name_zh or name_en of a master-data item, in the reader's language."""
    language = get_language() or "zh-hans"
    if hasattr(item, "name"):
        return item.name(language)
    return str(item)


@register.simple_tag
def meaning_label(signature: Any) -> str:
    language = get_language() or "zh-hans"
    return signature.meaning_zh if language.startswith("zh") else signature.meaning_en
