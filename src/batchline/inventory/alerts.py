"""Stock alerts (WMS-08): safety stock, approaching expiry, expired stock, retest due, slow-moving stock.

`evaluate_alerts()` compares the stock with each material's policy (StockPolicy; a material without
one gets the defaults below) and brings the StockAlert table up to date: it raises an alert for each
condition that holds and has no open alert (one open alert per kind and subject: a material for
safety stock, a lot for the others), clears the open alerts whose condition ended, and emits
`inventory.alert.raised` / `inventory.alert.cleared` through the outbox for each. Alerts are the
system's own findings, not records a person changes: they are not written to the audit trail (the
policies that drive them are). The demo server runs it periodically; `batchline stock_alerts` runs it once.

Conditions, on the plant's calendar day:
- safety stock: released + quarantine stock of the material that has not expired is below the policy's
  safety stock (only where one is set);
- expired: a lot with stock whose expiry date has come;
- approaching expiry: a lot with stock that expires within the warning days;
- retest due: a lot with stock, not expired, whose retest date is within the warning days or past;
- slow-moving: a lot with stock that has not moved for the slow-moving days.
Rejected lots raise no lot alerts: they are blocked already and wait for scrap or return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core import clock
from batchline.core.errors import InvalidInput, NotFound, ensure
from batchline.core.outbox import emit
from batchline.core.quantity import Quantity, to_decimal
from batchline.identity.authz import authorize
from batchline.inventory.choices import AlertKind, LotStatus
from batchline.inventory.models import Lot, Movement, StockAlert, StockBalance, StockPolicy
from batchline.inventory.retry import retrying
from batchline.masterdata import units
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Material

ALERT_RAISED = "inventory.alert.raised"
ALERT_CLEARED = "inventory.alert.cleared"
ALERT_RECORD_TYPE = "inventory.stockalert"
MAX_DAYS = 3650


@dataclass(frozen=True)
class Policy:
    """The thresholds in force for one material (its StockPolicy row, or the defaults)."""

    safety_stock: Decimal | None
    expiry_warning_days: int
    retest_warning_days: int
    slow_moving_days: int


def _default(name: str) -> int:
    value = getattr(StockPolicy._meta.get_field(name), "default", None)
    assert isinstance(value, int)
    return value


DEFAULT_POLICY = Policy(safety_stock=None, expiry_warning_days=_default("expiry_warning_days"),
                        retest_warning_days=_default("retest_warning_days"),
                        slow_moving_days=_default("slow_moving_days"))


def policy_of(row: StockPolicy | None) -> Policy:
    if row is None:
        return DEFAULT_POLICY
    return Policy(row.safety_stock, row.expiry_warning_days, row.retest_warning_days, row.slow_moving_days)


Key = tuple[str, int, int | None]  # kind, material id, lot id


@dataclass(frozen=True)
class Condition:
    kind: AlertKind
    material_id: int
    lot_id: int | None
    details: dict[str, Any]

    @property
    def key(self) -> Key:
        return (self.kind.value, self.material_id, self.lot_id)


@dataclass(frozen=True)
class Summary:
    raised: int
    cleared: int
    open: int

    def as_dict(self) -> dict[str, int]:
        return {"raised": self.raised, "cleared": self.cleared, "open": self.open}


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


# --- finding the conditions ------------------------------------------------------------------------------

def conditions(*, on: date, now: datetime) -> list[Condition]:
    """Every alert condition that holds on the day `on` (at the moment `now`)."""
    policies = {row.material_id: policy_of(row) for row in StockPolicy.objects.all()}
    found: list[Condition] = []
    stocked = list(Lot.objects.exclude(status=LotStatus.REJECTED)
                   .filter(pk__in=StockBalance.objects.filter(on_hand__gt=0).values("lot_id"))
                   .select_related("material__base_unit").order_by("pk"))
    quantities = dict(StockBalance.objects.filter(lot__in=stocked).values("lot_id")
                      .annotate(total=Sum("on_hand")).values_list("lot_id", "total"))
    last_moved = dict(Movement.objects.filter(lot__in=stocked).values("lot_id")
                      .annotate(last=Max("occurred_at")).values_list("lot_id", "last"))
    for lot in stocked:
        policy = policies.get(lot.material_id, DEFAULT_POLICY)
        base = {"quantity": _plain(quantities.get(lot.pk, Decimal(0))), "unit": lot.material.base_unit.code}
        expired = lot.expires_on is not None and on >= lot.expires_on
        if expired:
            assert lot.expires_on is not None
            found.append(Condition(AlertKind.EXPIRED, lot.material_id, lot.pk, {
                **base, "expires_on": lot.expires_on.isoformat(), "days": (lot.expires_on - on).days}))
        elif lot.expires_on is not None and (lot.expires_on - on).days <= policy.expiry_warning_days:
            found.append(Condition(AlertKind.EXPIRY, lot.material_id, lot.pk, {
                **base, "expires_on": lot.expires_on.isoformat(), "days": (lot.expires_on - on).days}))
        if not expired and lot.retest_on is not None and (lot.retest_on - on).days <= policy.retest_warning_days:
            found.append(Condition(AlertKind.RETEST, lot.material_id, lot.pk, {
                **base, "retest_on": lot.retest_on.isoformat(), "days": (lot.retest_on - on).days}))
        moved = last_moved.get(lot.pk)
        if moved is not None and now - moved >= timedelta(days=policy.slow_moving_days):
            found.append(Condition(AlertKind.SLOW_MOVING, lot.material_id, lot.pk, {
                **base, "last_movement_at": moved.isoformat().replace("+00:00", "Z"), "days": (now - moved).days}))
    found += _below_safety_stock(policies, on)
    return found


def _below_safety_stock(policies: dict[int, Policy], on: date) -> list[Condition]:
    watched = {material_id: p.safety_stock for material_id, p in policies.items()
               if p.safety_stock is not None and p.safety_stock > 0}
    if not watched:
        return []
    usable_or_coming = (Q(lot__status__in=[LotStatus.RELEASED, LotStatus.QUARANTINE])
                        & (Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gt=on)))
    totals = dict(StockBalance.objects.filter(usable_or_coming, material_id__in=watched).values("material_id")
                  .annotate(total=Sum("on_hand")).values_list("material_id", "total"))
    materials = {m.pk: m for m in Material.objects.filter(pk__in=watched).select_related("base_unit")}
    found = []
    for material_id, safety in sorted(watched.items()):
        assert safety is not None
        total = totals.get(material_id) or Decimal(0)
        if total < safety:
            found.append(Condition(AlertKind.SAFETY_STOCK, material_id, None, {
                "quantity": _plain(total), "safety_stock": _plain(safety),
                "unit": materials[material_id].base_unit.code}))
    return found


# --- raising and clearing --------------------------------------------------------------------------------

@retrying
def evaluate_alerts(now: datetime | None = None) -> Summary:
    """Raise the alerts whose condition holds, clear those whose condition ended (one transaction)."""
    now = now or clock.now()
    on = now.astimezone(clock.site_zone()).date()
    raised = cleared = 0
    with transaction.atomic():
        current = {c.key: c for c in conditions(on=on, now=now)}
        locked = (StockAlert.objects.select_for_update(of=("self",)).filter(cleared_at__isnull=True)
                  .select_related("material", "lot").order_by("pk"))
        open_alerts = {(a.kind, a.material_id, a.lot_id): a for a in locked}
        for key, alert in open_alerts.items():
            if key not in current:
                alert.cleared_at = now
                alert.save(update_fields=["cleared_at"])
                _emit(ALERT_CLEARED, alert)
                cleared += 1
            elif alert.details != current[key].details:
                alert.details = current[key].details  # the figures move; the alert stays the same one
                alert.save(update_fields=["details"])
        for key, condition in current.items():
            if key in open_alerts:
                continue
            try:
                with transaction.atomic():
                    alert = StockAlert.objects.create(kind=condition.kind, material_id=condition.material_id,
                                                      lot_id=condition.lot_id, details=condition.details,
                                                      raised_at=now)
            except IntegrityError:  # another evaluation raised it a moment ago
                continue
            alert = StockAlert.objects.select_related("material", "lot").get(pk=alert.pk)
            _emit(ALERT_RAISED, alert)
            raised += 1
        still_open = StockAlert.objects.filter(cleared_at__isnull=True).count()
    return Summary(raised=raised, cleared=cleared, open=still_open)


def alert_payload(alert: StockAlert) -> dict[str, Any]:
    return {
        "alert_id": alert.pk,
        "kind": alert.kind,
        "material": alert.material.code,
        "lot": alert.lot.number if alert.lot else None,
        "details": alert.details,
        "raised_at": alert.raised_at.isoformat().replace("+00:00", "Z"),
        "cleared_at": alert.cleared_at.isoformat().replace("+00:00", "Z") if alert.cleared_at else None,
    }


def _emit(event: str, alert: StockAlert) -> None:
    emit(event, record_type=ALERT_RECORD_TYPE, record_id=alert.pk, payload=alert_payload(alert))


# --- policies ----------------------------------------------------------------------------------------------

@retrying
def set_stock_policy(*, actor: Any, material: Material | str, safety_stock: Any = None,
                     unit: str | None = None, expiry_warning_days: Any = DEFAULT_POLICY.expiry_warning_days,
                     retest_warning_days: Any = DEFAULT_POLICY.retest_warning_days,
                     slow_moving_days: Any = DEFAULT_POLICY.slow_moving_days, reason: str = "") -> StockPolicy:
    """Create or change a material's alert thresholds (audited; a change needs a reason). Safety stock
    is in `unit` (default: the material's base unit) and stored in the base unit; empty: none."""
    authorize(actor, "inventory.configure")
    code = material.code if isinstance(material, Material) else str(material or "").strip()
    found = Material.objects.select_related("base_unit").filter(code=code, status=RecordStatus.APPROVED).first()
    ensure(found is not None, NotFound(_("There is no approved material '{value}'."), field="material", value=code))
    assert found is not None
    values = {
        "safety_stock": _safety_stock(safety_stock, unit, found),
        "expiry_warning_days": _days(expiry_warning_days, "expiry_warning_days"),
        "retest_warning_days": _days(retest_warning_days, "retest_warning_days"),
        "slow_moving_days": _days(slow_moving_days, "slow_moving_days"),
    }
    with transaction.atomic():
        policy = StockPolicy.objects.select_for_update().filter(material=found).first()
        now = clock.now()
        if policy is None:
            policy = StockPolicy.objects.create(material=found, updated_at=now, updated_by=actor, **values)
            record_change(actor, policy, action="create", label=f"{found.code}",
                          changes={k: [None, _shown(v)] for k, v in values.items()}, reason=(reason or "").strip())
            return policy
        changes = {k: [_shown(getattr(policy, k)), _shown(v)] for k, v in values.items() if getattr(policy, k) != v}
        if not changes:
            return policy
        reason = require_reason(reason)
        for name, value in values.items():
            setattr(policy, name, value)
        policy.updated_at = now
        policy.updated_by = actor
        policy.save()
        record_change(actor, policy, action="update", label=f"{found.code}", changes=changes, reason=reason)
        return policy


def _shown(value: Any) -> Any:
    return _plain(value) if isinstance(value, Decimal) else value


def _safety_stock(value: Any, unit: str | None, material: Material) -> Decimal | None:
    if value in (None, ""):
        return None
    amount = to_decimal(value, field="safety_stock")
    ensure(amount >= 0, InvalidInput(_("The safety stock cannot be negative."), field="safety_stock",
                                     code="negative"))
    if unit and unit != material.base_unit.code:
        amount = units.convert(Quantity(amount, unit), material.base_unit.code, material=material).amount
    ensure(amount < Decimal(10) ** 12, InvalidInput(_("The quantity is too large."), field="safety_stock",
                                                    code="too_large"))
    return amount.quantize(Decimal("0.000001"))


def _days(value: Any, field: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    ensure(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DAYS, InvalidInput(
        _("Enter a whole number of days from 0 to {max}."), field=field, code="bad_days", max=MAX_DAYS))
    return int(value)
