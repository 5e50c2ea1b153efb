"""PLC values over OPC UA (EQ-04, EQ-05, AC-06): which node holds which value of a piece of equipment
(the tag mapping), the live process values, and the PackML state and counters that OEE is computed from.

Tag mapping (`save_tag`, `remove_tag`; equipment.manage, audited): per equipment a small table of
name → kind, node id, unit and limits. Kinds: process_value (any number of them), and at most one
state (PackML), one good_count and one reject_count. A state tag may point at a variable holding the
state's name or PackML number, or at the PackML object itself (opcua.read_tags follows the nested
state machines). Removing a mapping keeps its values in the audit trail.

Quality rules are those of the balances: a value of bad or uncertain status, or without a source
timestamp, is reported as not good and never stored as a state or a count. Only registered, active
equipment that is qualified (a passed PQ / requalification not yet due, equipment.usability) delivers
data (AC-06).

`collect_states_and_counts()` stores a StateEvent when the state changed, and a CountSample when the
counters changed, each keyed by the source timestamp (idempotent: a second collection of the same
values adds nothing). `DevicePoller.run(stop)` collects from every mapped equipment every few
seconds, and reports a device it cannot reach (log and `health`), never silently skipping it. The
poller sees states as often as it polls: a state shorter than the interval can be missed.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import close_old_connections, transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core import clock
from batchline.core.errors import Conflict, DomainError, InvalidInput, NotFound, ensure
from batchline.core.quantity import to_decimal
from batchline.equipment import selectors
from batchline.equipment.balances import DeviceNotConnected, DeviceNotRegistered
from batchline.equipment.choices import TagKind
from batchline.equipment.errors import EquipmentRetired, NoChange
from batchline.equipment.models import CountSample, Equipment, EquipmentTag, StateEvent
from batchline.equipment.opcua import TagValue, parse_node_id, read_tags
from batchline.equipment.usability import qualification_reasons, today
from batchline.identity.authz import authorize
from batchline.masterdata import units

logger = logging.getLogger("batchline.equipment.tags")

MANAGE = "equipment.manage"
TAG_SAVED = "equipment.tag.saved"
TAG_REMOVED = "equipment.tag.removed"
SINGLE_KINDS = (TagKind.STATE, TagKind.GOOD_COUNT, TagKind.REJECT_COUNT)
NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
DEFAULT_POLL_SECONDS = 5.0


# --- errors --------------------------------------------------------------------------------------

class DeviceNotQualified(Conflict):
    code = "device_not_qualified"
    default_message = _("Equipment {equipment} may not deliver data: {reasons}")


class TagNotFound(NotFound):
    code = "tag_not_found"
    default_message = _("Equipment {equipment} has no tag {name}.")


class TagKindTaken(Conflict):
    code = "tag_kind_taken"
    default_message = _("Equipment {equipment} already maps its {kind} to tag {name}.")


# --- the device ----------------------------------------------------------------------------------

def registered_device(code: str, *, field: str = "equipment") -> Equipment:
    """Registered and active equipment (AC-06), any kind."""
    code = str(code or "").strip().upper()
    equipment = selectors.by_code(code) if code else None
    ensure(equipment is not None, DeviceNotRegistered(field=field, equipment=code or "—"))
    assert equipment is not None
    ensure(equipment.active, EquipmentRetired(field=field, equipment=equipment.code))
    return equipment


def ensure_delivers(equipment: Equipment) -> str:
    """AC-06 for PLC values: registered, active, qualified and connected → its endpoint."""
    found = qualification_reasons(equipment, today())
    ensure(not found, DeviceNotQualified(field="equipment", equipment=equipment.code,
                                         reasons=" ".join(str(r) for r in found)))
    ensure(equipment.opcua_endpoint, DeviceNotConnected(field="equipment", equipment=equipment.code))
    return equipment.opcua_endpoint


# --- the mapping ---------------------------------------------------------------------------------

def _limit(value: Any, name: str) -> Decimal | None:
    return None if value in (None, "") else to_decimal(value, field=name)


def _snapshot(tag: EquipmentTag) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else (format(value.normalize(), "f") if value else "0")

    return {"name": tag.name, "kind": tag.kind, "node_id": tag.node_id, "unit": tag.unit.code if tag.unit else None,
            "low_limit": text(tag.low_limit), "high_limit": text(tag.high_limit)}


def save_tag(*, actor: Any, equipment_code: str, name: str, kind: str, node_id: str, unit: str | None = None,
             low_limit: Any = None, high_limit: Any = None, reason: str = "") -> tuple[str, EquipmentTag]:
    """Map (created) or re-map (updated, with a reason) one value of the equipment to an OPC UA node."""
    authorize(actor, MANAGE)
    name = str(name or "").strip()
    ensure(NAME.match(name), InvalidInput(_("Use 1 to 60 lower-case letters, digits and '_', starting with a "
                                            "letter."), field="name"))
    ensure(kind in TagKind.values, InvalidInput(_("Choose a kind."), field="kind"))
    node_text = str(node_id or "").strip()
    ensure(0 < len(node_text) <= 200, InvalidInput(_("This field is required."), field="node_id", code="required"))
    parse_node_id(node_text)
    unit_row = units.unit(unit.strip(), field="unit") if unit and unit.strip() else None
    low, high = _limit(low_limit, "low_limit"), _limit(high_limit, "high_limit")
    ensure(low is None or high is None or low <= high, InvalidInput(_("The low limit cannot be above the high "
                                                                      "limit."), field="high_limit"))
    ensure(kind == TagKind.PROCESS_VALUE or (low is None and high is None and unit_row is None),
           InvalidInput(_("Only process values have a unit and limits."), field="kind"))
    with transaction.atomic():
        equipment = registered_device(equipment_code)
        Equipment.objects.select_for_update().filter(pk=equipment.pk).first()  # one mapping change at a time
        if kind in SINGLE_KINDS:
            other = equipment.tags.filter(kind=kind).exclude(name=name).first()
            ensure(other is None, TagKindTaken(field="kind", equipment=equipment.code,
                                               kind=TagKind(kind).label, name=getattr(other, "name", "")))
        tag = equipment.tags.select_for_update().filter(name=name).first()
        values = {"kind": kind, "node_id": node_text, "unit": unit_row, "low_limit": low, "high_limit": high}
        if tag is None:
            tag = EquipmentTag.objects.create(equipment=equipment, name=name, **values)
            after = _snapshot(tag)
            record_change(actor, tag, action="create", changes={k: [None, v] for k, v in after.items()},
                          event=TAG_SAVED, payload={"equipment": equipment.code, "outcome": "created", **after},
                          label=f"{equipment.code}.{name}")
            return "created", tag
        reason = require_reason(reason)
        before = _snapshot(tag)
        for key, value in values.items():
            setattr(tag, key, value)
        after = _snapshot(tag)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        ensure(changes, NoChange())
        tag.save()
        record_change(actor, tag, action="update", changes=changes, reason=reason, event=TAG_SAVED,
                      payload={"equipment": equipment.code, "outcome": "updated", **after},
                      label=f"{equipment.code}.{name}")
        return "updated", tag


def remove_tag(*, actor: Any, equipment_code: str, name: str, reason: str) -> None:
    """Remove a mapping; the audit trail keeps what it was and why it went."""
    authorize(actor, MANAGE)
    reason = require_reason(reason)
    with transaction.atomic():
        equipment = registered_device(equipment_code)
        tag = equipment.tags.select_for_update().filter(name=str(name or "").strip()).first()
        ensure(tag is not None, TagNotFound(field="name", equipment=equipment.code, name=name))
        assert tag is not None
        before = _snapshot(tag)
        record_change(actor, tag, action="delete", changes={k: [v, None] for k, v in before.items()},
                      reason=reason, event=TAG_REMOVED,
                      payload={"equipment": equipment.code, "reason": reason, **before},
                      label=f"{equipment.code}.{tag.name}")
        tag.delete()


def tags_of(equipment: Equipment) -> list[EquipmentTag]:
    return list(equipment.tags.select_related("unit").order_by("kind", "name"))


# --- live values ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcessValue:
    """One mapped value as read now. `within_limits` is None when not good, not a number or unlimited."""

    name: str
    kind: str
    node_id: str
    value: Decimal | int | bool | str | None
    unit: str
    status_code: str
    good: bool
    source_timestamp: datetime | None
    server_timestamp: datetime | None
    low_limit: Decimal | None
    high_limit: Decimal | None
    within_limits: bool | None


def _read(endpoint: str, tags: list[EquipmentTag]) -> dict[str, TagValue]:
    states = [t.node_id for t in tags if t.kind == TagKind.STATE]
    return read_tags(endpoint, [t.node_id for t in tags if t.kind != TagKind.STATE], states=states)


def _within(tag: EquipmentTag, value: Any, good: bool) -> bool | None:
    if not good or isinstance(value, bool) or not isinstance(value, Decimal | int):
        return None
    if tag.low_limit is None and tag.high_limit is None:
        return None
    number = Decimal(value)
    return (tag.low_limit is None or number >= tag.low_limit) and (tag.high_limit is None or number <= tag.high_limit)


def read_process_values(equipment_code: str) -> list[ProcessValue]:
    """Every mapped value of the equipment, read now in one session, with its quality and limits."""
    equipment = registered_device(equipment_code)
    endpoint = ensure_delivers(equipment)
    tags = tags_of(equipment)
    if not tags:
        return []
    read = _read(endpoint, tags)
    out = []
    for tag in tags:
        value = read[tag.node_id]
        out.append(ProcessValue(
            name=tag.name, kind=tag.kind, node_id=tag.node_id, value=value.value,
            unit=tag.unit.code if tag.unit else "", status_code=value.status_code, good=value.good,
            source_timestamp=value.source_timestamp, server_timestamp=value.server_timestamp,
            low_limit=tag.low_limit, high_limit=tag.high_limit, within_limits=_within(tag, value.value, value.good)))
    return out


# --- states and counts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectResult:
    equipment: str
    state: str | None  # the state read now (None: no good state value)
    states_added: int
    counts_added: int
    refused: list[str] = field(default_factory=list)  # "<tag>: <status>" of values not stored


def _count(value: TagValue) -> int | None:
    number = value.value
    if isinstance(number, Decimal) and number == number.to_integral_value():
        number = int(number)
    if not value.good or isinstance(number, bool) or not isinstance(number, int) or number < 0:
        return None
    return number


def collect_states_and_counts(equipment_code: str) -> CollectResult:
    """Read the PackML state and the good/reject counters and store what changed (see the module text)."""
    equipment = registered_device(equipment_code)
    endpoint = ensure_delivers(equipment)
    tags = {t.kind: t for t in tags_of(equipment) if t.kind in SINGLE_KINDS}
    if not tags:
        return CollectResult(equipment=equipment.code, state=None, states_added=0, counts_added=0)
    read = _read(endpoint, list(tags.values()))
    refused: list[str] = []
    received = clock.now()
    state, states_added, counts_added = None, 0, 0
    with transaction.atomic():
        if TagKind.STATE in tags:
            value = read[tags[TagKind.STATE].node_id]
            if value.good and isinstance(value.value, str) and value.source_timestamp is not None:
                state = value.value
                states_added = _store_state(equipment, state, value.source_timestamp, received)
            else:
                refused.append(f"{tags[TagKind.STATE].name}: {value.status_code}")
        if TagKind.GOOD_COUNT in tags and TagKind.REJECT_COUNT in tags:
            good_value, reject_value = (read[tags[TagKind.GOOD_COUNT].node_id],
                                        read[tags[TagKind.REJECT_COUNT].node_id])
            good, reject = _count(good_value), _count(reject_value)
            for tag_kind, number, value in ((TagKind.GOOD_COUNT, good, good_value),
                                            (TagKind.REJECT_COUNT, reject, reject_value)):
                if number is None:
                    refused.append(f"{tags[tag_kind].name}: {value.status_code if not value.good else 'not a count'}")
            if good is not None and reject is not None:
                stamps = [v.source_timestamp for v in (good_value, reject_value) if v.source_timestamp is not None]
                counts_added = _store_counts(equipment, good, reject, max(stamps), received)
    return CollectResult(equipment=equipment.code, state=state, states_added=states_added,
                         counts_added=counts_added, refused=refused)


def _store_state(equipment: Equipment, state: str, at: datetime, received: datetime) -> int:
    previous = StateEvent.objects.filter(equipment=equipment, source_timestamp__lte=at).order_by(
        "-source_timestamp", "-id").first()
    if previous is not None and (previous.source_timestamp == at or previous.state == state):
        return 0
    _event, created = StateEvent.objects.get_or_create(equipment=equipment, source_timestamp=at,
                                                       defaults={"state": state[:20], "received_at": received})
    return int(created)


def _store_counts(equipment: Equipment, good: int, reject: int, at: datetime, received: datetime) -> int:
    previous = CountSample.objects.filter(equipment=equipment, source_timestamp__lte=at).order_by(
        "-source_timestamp", "-id").first()
    if previous is not None and (previous.source_timestamp == at or (previous.good_count, previous.reject_count)
                                 == (good, reject)):
        return 0
    _sample, created = CountSample.objects.get_or_create(
        equipment=equipment, source_timestamp=at,
        defaults={"good_count": good, "reject_count": reject, "received_at": received})
    return int(created)


# --- the poller ----------------------------------------------------------------------------------

@dataclass
class PollStatus:
    ok: bool
    message: str
    since: datetime  # when the current run of successes or failures began
    last: datetime


class DevicePoller:
    """Collects states and counts from every active equipment with a state or counter mapping.

    `run(stop)` polls every `interval` seconds until `stop` is set (the demo server runs it in a
    thread; `batchline` commands can too). A device that fails is logged when it starts failing and
    when it recovers, and `health[code]` says how it stands; the other devices go on being polled.
    """

    def __init__(self, *, interval: float = DEFAULT_POLL_SECONDS, codes: list[str] | None = None) -> None:
        self.interval = interval
        self.codes = codes
        self.health: dict[str, PollStatus] = {}

    def equipment_codes(self) -> list[str]:
        if self.codes is not None:
            return list(self.codes)
        return list(Equipment.objects.filter(active=True, tags__kind__in=SINGLE_KINDS).exclude(opcua_endpoint="")
                    .order_by("code").values_list("code", flat=True).distinct())

    def poll_once(self) -> dict[str, PollStatus]:
        for code in self.equipment_codes():
            try:
                result = collect_states_and_counts(code)
            except DomainError as error:
                self._report(code, ok=False, message=error.render())
            except Exception as error:  # one device's unexpected failure must not skip the devices after it
                logger.exception("equipment %s: polling failed unexpectedly", code)
                self._report(code, ok=False, message=f"{type(error).__name__}: {error}")
            else:
                self._report(code, ok=not result.refused, message="; ".join(result.refused))
        return dict(self.health)

    def _report(self, code: str, *, ok: bool, message: str) -> None:
        now = clock.now()
        before = self.health.get(code)
        if before is None or before.ok != ok:
            if ok:
                logger.info("equipment %s: values collected again", code)
            else:
                logger.warning("equipment %s: values not collected: %s", code, message)
            self.health[code] = PollStatus(ok=ok, message=message, since=now, last=now)
        else:
            before.message, before.last = message, now

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the loop outlives a database hiccup; the next round tries again
                logger.exception("device polling failed")
            finally:
                close_old_connections()
            stop.wait(self.interval)
