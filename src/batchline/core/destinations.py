"""Destinations: where the relay sends events (a webhook URL, a RabbitMQ exchange, an MQTT topic prefix).

Configured by the plant's IT engineer. Each service is one transaction; the input is checked first
(a refusal names the field and writes nothing) and every change is audited with its old and new
values through core.events.audited_change. The caller (web or API) checks the permission
"integration.configure" first: core sits below identity.

Secrets never leave the database: the webhook secret is recorded in the audit trail as "***" only,
and a password inside a broker URL (amqp://user:password@host) is masked wherever the URL is shown.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ReasonRequired, ensure
from batchline.core.events import audited_change
from batchline.core.models import DEFAULT_MAX_ATTEMPTS, Destination, DestinationKind

RECORD_TYPE = "core.destination"
MASK = "***"
MIN_SECRET_LENGTH = 16
MAX_ATTEMPTS = (1, 100)
TIMEOUT_SECONDS = (1, 120)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
# "masterdata.material.approved", "masterdata.*" or "*"
_EVENT_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
_SCHEMES = {
    DestinationKind.WEBHOOK: ("http", "https"),
    DestinationKind.AMQP: ("amqp", "amqps"),
    DestinationKind.MQTT: ("mqtt", "mqtts"),
}
# The fields audited on a change, in the order they appear in the audit entry.
_AUDITED = ("name", "kind", "url", "exchange", "topic_prefix", "event_types", "max_attempts", "timeout_seconds",
            "active")
_CHANGEABLE = {"name", "kind", "url", "secret", "exchange", "topic_prefix", "event_types", "max_attempts",
               "timeout_seconds"}


def masked_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***: safe to show and to audit."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _invalid(message: Any, field: str, **params: Any) -> InvalidInput:
    return InvalidInput(message, field=field, **params)


def _whole_number(value: object, field: str, bounds: tuple[int, int]) -> int:
    """A whole number within bounds, given as an int or as digits (form input)."""
    low, high = bounds
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    ensure(number is not None and low <= number <= high,
           _invalid(_("Enter a whole number from {low} to {high}."), field, low=low, high=high))
    assert number is not None
    return number


def _event_types(value: object) -> list[str]:
    """A list of patterns; a text is split on commas, spaces and line breaks (form input)."""
    if isinstance(value, str):
        patterns = [p for p in re.split(r"[\s,]+", value) if p]
    elif isinstance(value, list | tuple):
        patterns = [str(p).strip() for p in value]
    else:
        patterns = []
    ensure(bool(patterns), _invalid(_("Name at least one event type, e.g. masterdata.* or *."), "event_types"))
    for pattern in patterns:
        ensure(bool(_EVENT_PATTERN.match(pattern)),
               _invalid(_("'{pattern}' is not an event type pattern: use names like "
                          "masterdata.material.approved, a prefix with .* or * alone."), "event_types",
                        pattern=pattern))
    return list(dict.fromkeys(patterns))  # without repeats, in the order given


def _url(kind: str, url: str) -> str:
    url = url.strip()
    schemes = _SCHEMES[DestinationKind(kind)]
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        _port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        scheme, host = "", None
    ensure(len(url) <= 500 and scheme in schemes and bool(host),
           _invalid(_("Enter a URL that starts with {schemes} and names a host."), "url",
                    schemes=" / ".join(f"{s}://" for s in schemes)))
    return url


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The destination's values, checked field by field (the first fault is refused) and with the
    fields that do not belong to the kind emptied."""
    name = str(values.get("name") or "").strip()
    ensure(bool(name) and len(name) <= 200, _invalid(_("Enter a name of at most 200 characters."), "name"))
    kind = str(values.get("kind") or "")
    ensure(kind in DestinationKind.values,
           _invalid(_("Choose one of: {kinds}."), "kind", kinds=", ".join(DestinationKind.values)))
    url = _url(kind, str(values.get("url") or ""))
    secret = str(values.get("secret") or "")
    exchange = str(values.get("exchange") or "").strip()
    topic_prefix = str(values.get("topic_prefix") or "").strip().strip("/")
    if kind == DestinationKind.WEBHOOK:
        ensure(MIN_SECRET_LENGTH <= len(secret) <= 200,
               _invalid(_("The webhook needs a secret of {n} to 200 characters to sign its messages."), "secret",
                        n=MIN_SECRET_LENGTH))
        exchange = topic_prefix = ""
    elif kind == DestinationKind.AMQP:
        ensure(bool(exchange) and len(exchange) <= 200 and not any(c.isspace() for c in exchange),
               _invalid(_("Enter the exchange name (no spaces, at most 200 characters)."), "exchange"))
        secret = topic_prefix = ""
    else:
        ensure(bool(topic_prefix) and len(topic_prefix) <= 200
               and not any(c in topic_prefix for c in "#+") and not any(c.isspace() for c in topic_prefix),
               _invalid(_("Enter the topic prefix (no spaces, no # or +, at most 200 characters)."),
                        "topic_prefix"))
        secret = exchange = ""
    return {
        "name": name, "kind": kind, "url": url, "secret": secret, "exchange": exchange,
        "topic_prefix": topic_prefix, "event_types": _event_types(values.get("event_types")),
        "max_attempts": _whole_number(values.get("max_attempts"), "max_attempts", MAX_ATTEMPTS),
        "timeout_seconds": _whole_number(values.get("timeout_seconds"), "timeout_seconds", TIMEOUT_SECONDS),
    }


def _shown(field: str, value: Any) -> Any:
    """A value as the audit trail records it (no credentials)."""
    return masked_url(value) if field == "url" else value


def create_destination(*, actor: Any, code: str, name: str, kind: str, url: str, event_types: object,
                       secret: str = "", exchange: str = "", topic_prefix: str = "",
                       max_attempts: object = DEFAULT_MAX_ATTEMPTS, timeout_seconds: object = 10,
                       active: bool = True) -> Destination:
    """Register a destination. The caller checks "integration.configure" first."""
    code = (code or "").strip()
    ensure(bool(_CODE.match(code)),
           _invalid(_("The code is 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit."),
                    "code"))
    values = _checked({"name": name, "kind": kind, "url": url, "secret": secret, "exchange": exchange,
                       "topic_prefix": topic_prefix, "event_types": event_types, "max_attempts": max_attempts,
                       "timeout_seconds": timeout_seconds})
    with transaction.atomic():
        ensure(not Destination.objects.filter(code__iexact=code).exists(),
               Conflict(_("A destination with this code exists already."), field="code"))
        destination = Destination.objects.create(code=code, active=bool(active), created_at=clock.now(), **values)
        changes: dict[str, list[Any]] = {"code": [None, code]}
        changes.update({f: [None, _shown(f, getattr(destination, f))] for f in _AUDITED})
        if destination.secret:
            changes["secret"] = [None, MASK]
        audited_change(actor=actor, record_type=RECORD_TYPE, record_id=destination.pk, label=code,
                       action="create", changes=changes)
        return destination


def _locked(code: str) -> Destination:
    destination = Destination.objects.select_for_update().filter(code=code).first()
    ensure(destination is not None, NotFound(field="code"))
    assert destination is not None
    return destination


def update_destination(*, actor: Any, code: str, reason: str, **changes: Any) -> Destination:
    """Change a destination's settings (any of name, kind, url, secret, exchange, topic_prefix,
    event_types, max_attempts, timeout_seconds); the code does not change. An empty or missing
    secret keeps the current one; a URL given back masked keeps the current one."""
    for name in changes:
        ensure(name in _CHANGEABLE, _invalid(_("Unknown field '{name}'."), name, name=name))
    ensure(bool(reason and reason.strip()), ReasonRequired(field="reason"))
    with transaction.atomic():
        destination = _locked(code)
        current = {f: getattr(destination, f) for f in (*_AUDITED, "secret")}
        proposed = {**current, **{k: v for k, v in changes.items() if v is not None}}
        if not changes.get("secret"):
            proposed["secret"] = current["secret"]
        if proposed["url"] == masked_url(current["url"]):
            proposed["url"] = current["url"]
        values = _checked(proposed)
        diff: dict[str, list[Any]] = {
            f: [_shown(f, current[f]), _shown(f, values[f])]
            for f in _AUDITED if f in values and values[f] != current[f]
        }
        if values["url"] != current["url"] and "url" not in diff:
            diff["url"] = [MASK, MASK]  # only the password inside the URL changed
        if values["secret"] != current["secret"]:
            diff["secret"] = [MASK, MASK]
        ensure(bool(diff), Conflict(_("Nothing was changed."), code="no_change"))
        for field, value in values.items():
            setattr(destination, field, value)
        destination.save()
        audited_change(actor=actor, record_type=RECORD_TYPE, record_id=destination.pk, label=destination.code,
                       action="update", changes=diff, reason=reason.strip())
        return destination


def set_active(*, actor: Any, code: str, active: bool, reason: str) -> Destination:
    """Activate or deactivate a destination. A deactivated one gets no new deliveries and its
    pending ones wait until it is active again."""
    ensure(bool(reason and reason.strip()), ReasonRequired(field="reason"))
    with transaction.atomic():
        destination = _locked(code)
        ensure(destination.active != active,
               Conflict(_("The destination is already active.") if active
                        else _("The destination is already inactive."), code="no_change"))
        destination.active = active
        destination.save(update_fields=["active"])
        audited_change(actor=actor, record_type=RECORD_TYPE, record_id=destination.pk, label=destination.code,
                       action="activate" if active else "deactivate", changes={"active": [not active, active]},
                       reason=reason.strip())
        return destination
