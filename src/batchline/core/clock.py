"""Time: the server assigns every record time in UTC; people see the site's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    """The server's current time, timezone-aware UTC. The only clock services use."""
    return timezone.now()


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.BATCHLINE_SITE_TIME_ZONE)


def to_site(moment: datetime) -> datetime:
    return moment.astimezone(site_zone())


def format_site(moment: datetime | None) -> str:
    """`2026-11-22 14:03:07 CST (UTC+08:00)`: what screens, exports and signature manifests show."""
    if moment is None:
        return ""
    local = to_site(moment)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"
