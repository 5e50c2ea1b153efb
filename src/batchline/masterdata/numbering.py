"""Number rules (MD-04): lot, batch, order and inspection numbers, configurable, never duplicated."""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core import clock
from batchline.core.errors import InvalidInput, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.masterdata.choices import CounterReset
from batchline.masterdata.models import IssuedNumber, NumberCounter, NumberRule

PLACEHOLDERS = {"prefix", "yyyy", "yy", "mm", "dd", "seq"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _check_pattern(pattern: str) -> None:
    try:
        names = [(name, spec) for _t, name, spec, _c in string.Formatter().parse(pattern) if name is not None]
    except ValueError:
        raise InvalidInput(_("The pattern has unbalanced braces."), field="pattern", code="bad_pattern") from None
    unknown = sorted({n for n, _s in names} - PLACEHOLDERS)
    ensure(not unknown, InvalidInput(_("Unknown placeholder {{{name}}} in the pattern."), field="pattern",
                                     code="bad_pattern", name=unknown[0] if unknown else ""))
    # The placeholders are passed as parameters: a message without parameters is shown unformatted,
    # so doubled braces would reach the reader as {{seq}}.
    ensure(any(n == "seq" for n, _s in names),
           InvalidInput(_("The pattern must contain {seq}, e.g. {example}."), field="pattern",
                        code="bad_pattern", seq="{seq}", example="{seq:05}"))
    try:  # a placeholder's format ({seq:x}, {yyyy:05}) must work, or next_number() would fail later
        pattern.format(prefix="P", yyyy="2026", yy="26", mm="01", dd="01", seq=1)
    except (ValueError, TypeError, IndexError):
        raise InvalidInput(_("A format in the pattern is not valid; numbers use e.g. {example}."),
                           field="pattern", code="bad_pattern", example="{seq:05}") from None


def save_rule(*, actor: Any, key: str, pattern: str, prefix: str = "", reset: str = CounterReset.YEARLY,
              description: str = "", reason: str = "") -> NumberRule:
    """Create a rule, or change one (a change needs a reason: issued numbers depend on it)."""
    authorize(actor, "masterdata.configure")
    ensure(_KEY.match(key or ""), InvalidInput(_("Rule keys are lower-case letters, digits and _."), field="key"))
    ensure(reset in CounterReset.values, InvalidInput(_("Unknown counter reset."), field="reset"))
    _check_pattern(pattern)
    with transaction.atomic():
        rule = NumberRule.objects.select_for_update().filter(key=key).first()
        new = {"pattern": pattern, "prefix": prefix, "reset": reset, "description": description}
        if rule is None:
            rule = NumberRule.objects.create(key=key, **new)
            record_change(actor, rule, action="create", changes={k: [None, v] for k, v in new.items()})
            return rule
        reason = require_reason(reason)
        changes = {k: [getattr(rule, k), v] for k, v in new.items() if getattr(rule, k) != v}
        for k, v in new.items():
            setattr(rule, k, v)
        rule.save()
        record_change(actor, rule, action="update", changes=changes, reason=reason)
    return rule


def _period(reset: str, at: datetime) -> str:
    return {CounterReset.NEVER: "-", CounterReset.YEARLY: f"{at:%Y}", CounterReset.MONTHLY: f"{at:%Y%m}",
            CounterReset.DAILY: f"{at:%Y%m%d}"}[CounterReset(reset)]


def _format(rule: NumberRule, at: datetime, seq: int) -> str:
    return rule.pattern.format(prefix=rule.prefix, yyyy=f"{at:%Y}", yy=f"{at:%y}", mm=f"{at:%m}",
                               dd=f"{at:%d}", seq=seq)


def preview(rule: NumberRule) -> str:
    """The number next_number() would issue now, for a saved or an unsaved rule. Reads only: no
    counter moves and nothing is issued, so the number shown may be taken by the time it is used."""
    _check_pattern(rule.pattern)
    at = clock.now().astimezone(clock.site_zone())
    value = 0
    if rule.pk is not None:
        counter = NumberCounter.objects.filter(rule=rule, period=_period(rule.reset, at)).first()
        value = counter.value if counter is not None else 0
    for _attempt in range(1000):
        value += 1
        number = _format(rule, at, value)
        if rule.pk is None or not IssuedNumber.objects.filter(rule=rule, number=number).exists():
            return number
    raise RuntimeError(f"number rule {rule.key} could not find a free number")


def next_number(key: str) -> str:
    """Issue the next number of a rule. The counter row is locked; the issued-number table's unique
    constraint refuses any repeat, even after a pattern change, and the counter moves past it."""
    at = clock.now().astimezone(clock.site_zone())
    with transaction.atomic():
        rule = NumberRule.objects.filter(key=key).first()
        if rule is None:
            raise NotFound(_("There is no number rule '{key}'."), key=key)
        period = _period(rule.reset, at)
        counter, _created = NumberCounter.objects.select_for_update().get_or_create(rule=rule, period=period)
        counter = NumberCounter.objects.select_for_update().get(pk=counter.pk)
        for _attempt in range(1000):
            counter.value += 1
            number = _format(rule, at, counter.value)
            try:
                with transaction.atomic():
                    IssuedNumber.objects.create(rule=rule, number=number, issued_at=clock.now())
            except IntegrityError:
                continue
            counter.save(update_fields=["value"])
            return number
    raise RuntimeError(f"number rule {key} could not find a free number")
