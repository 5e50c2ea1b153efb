"""Weighing on a connected balance and its daily check (EQ-04, MES-06, AC-06).

`read_weight()` is the one way a weight enters Batchline from a balance. It refuses, each with its own
error and the reason in the message, in this order:

1. the balance is not registered, retired or not a balance (AC-06: only registered devices deliver data);
2. it has no OPC UA endpoint and node in the register;
3. it is not usable for weighing (equipment.usability: status, qualification, calibration, clean-hold);
4. it has no passed daily check today, or today's check failed (see below);
5. the device does not answer (DeviceUnreachable), has no such Scales node, or reports another serial
   number than the register (AC-06: a swapped balance on the same endpoint);
6. the value is not good: a bad or uncertain status code, no source timestamp (DeviceValueNotGood);
7. the weight is not stable;
8. the device's unit is not the balance's weighing unit;
9. overload, or a gross weight above the maximum load; underload, or a net weight below the balance's
   minimum weight. Below the minimum weight the relative measurement uncertainty exceeds what the
   balance was qualified for (USP <41>, Ph. Eur. 2.1.7), so the weight is refused, not merely flagged:
   a GMP weighing of that quantity belongs on a smaller balance.

The daily check (`perform_daily_check()`) is a recorded procedure: test weights (id, nominal value,
tolerance, in the balance's weighing unit) are read from the balance one after the other — or typed,
marked as manual, for a balance without connection — and each passes when |reading − nominal| ≤
tolerance. The check passes when every point passes. It writes a BalanceCheck for the site-calendar
day, a logbook entry, the audit entry and the `equipment.balance_check.recorded` event.

A failed check blocks weighing for the rest of the day. A later passing check on the same day counts
only when a calibration was recorded after the failure (the balance was investigated and adjusted):
otherwise weighing waits for tomorrow's check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.errors import Conflict, InvalidInput, NotFound, ensure
from batchline.core.quantity import to_decimal
from batchline.equipment import logbook, selectors
from batchline.equipment.choices import EquipmentKind, LogKind, Result
from batchline.equipment.errors import EquipmentRetired
from batchline.equipment.models import BalanceCheck, Equipment
from batchline.equipment.opcua import BalanceReading, DeviceValueNotGood, read_balance
from batchline.equipment.usability import PASSED, Use, assert_usable, today
from batchline.identity.authz import authorize

OPERATE = "equipment.operate"
CHECK_RECORDED = "equipment.balance_check.recorded"
MAX_CHECK_POINTS = 10


# --- errors --------------------------------------------------------------------------------------

class DeviceNotRegistered(NotFound):
    """AC-06: data only from registered devices."""

    code = "device_not_registered"
    default_message = _("{equipment} is not registered equipment: only registered, qualified devices may deliver "
                        "data.")


class NotABalance(Conflict):
    code = "not_a_balance"
    default_message = _("Equipment {equipment} is not a balance.")


class DeviceNotConnected(Conflict):
    code = "device_not_connected"
    default_message = _("Equipment {equipment} has no OPC UA endpoint and node in the register.")


class DeviceIdentityMismatch(Conflict):
    code = "device_identity_mismatch"
    default_message = _("The device at {endpoint} reports serial number {reported}, but {equipment} is registered "
                        "with {registered}: its data is refused.")


class DailyCheckMissing(Conflict):
    code = "daily_check_missing"
    default_message = _("Balance {equipment} has no passed daily check today ({day}): perform the daily check "
                        "first.")


class DailyCheckFailed(Conflict):
    code = "daily_check_failed"
    default_message = _("The daily check of balance {equipment} failed today at {time}: weighing is blocked until "
                        "the balance is calibrated again and passes a new daily check.")


class WeightNotStable(Conflict):
    code = "weight_not_stable"
    default_message = _("The weight on balance {equipment} is not stable: wait until it settles.")


class WeighingUnitMismatch(Conflict):
    code = "weighing_unit_mismatch"
    default_message = _("Balance {equipment} reports the unit '{reported}', but it is registered for {unit}.")


class AboveMaximumLoad(Conflict):
    code = "above_maximum_load"
    default_message = _("Balance {equipment} is overloaded: {gross} {unit} on a maximum load of {max_load} {unit}.")


class BelowMinimumWeight(Conflict):
    code = "below_minimum_weight"
    default_message = _("{net} {unit} is below the minimum weight of balance {equipment} ({minimum} {unit}): "
                        "use a balance suited to this quantity.")


# --- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeightReading:
    """A weight accepted for GMP use: good, stable, in range, from a registered, usable, checked balance."""

    equipment: str
    net: Decimal
    tare: Decimal
    gross: Decimal
    unit: str
    status_code: str
    source_timestamp: datetime
    server_timestamp: datetime | None
    read_at: datetime
    serial_number: str


@dataclass(frozen=True)
class CheckState:
    """Where today's daily check of a balance stands; `usable` is what weighing asks."""

    day: date
    usable: bool
    latest: BalanceCheck | None
    failed: BalanceCheck | None  # the last failed check today that still blocks weighing


def _plain(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f") if value != 0 else "0"


# --- the balance ---------------------------------------------------------------------------------

def registered_balance(code: str, *, field: str = "equipment") -> Equipment:
    """The registered, active balance with this code, or the AC-06 refusal."""
    code = str(code or "").strip().upper()
    equipment = selectors.by_code(code) if code else None
    ensure(equipment is not None, DeviceNotRegistered(field=field, equipment=code or "—"))
    assert equipment is not None
    ensure(equipment.active, EquipmentRetired(field=field, equipment=equipment.code))
    ensure(equipment.kind == EquipmentKind.BALANCE, NotABalance(field=field, equipment=equipment.code))
    return equipment


def connection_of(equipment: Equipment) -> tuple[str, str]:
    ensure(equipment.opcua_endpoint and equipment.opcua_node,
           DeviceNotConnected(field="equipment", equipment=equipment.code))
    return equipment.opcua_endpoint, equipment.opcua_node


def live_reading(equipment: Equipment) -> BalanceReading:
    """What the balance shows now, whatever its quality (for the live display): raises only when the
    device cannot be read at all. Never use it as a weighing result: that is read_weight()."""
    endpoint, node = connection_of(equipment)
    return read_balance(endpoint, node, readability=equipment.readability, accept_bad=True)


# --- the daily check state -----------------------------------------------------------------------

def check_state(equipment: Equipment, *, on: date | None = None) -> CheckState:
    """Today's (or `on`'s) daily checks of the balance: usable when the latest passed and no failure
    since the last calibration still blocks it."""
    day = on or today()
    checks = list(BalanceCheck.objects.filter(equipment=equipment, valid_on=day).order_by("performed_at", "id"))
    latest = checks[-1] if checks else None
    failures = [c for c in checks if c.result not in PASSED]
    failed = failures[-1] if failures else None
    if failed is not None:
        # A pass after the failure counts only when a calibration was recorded between the two.
        recovered = (latest is not None and latest.result in PASSED and latest.performed_at > failed.performed_at
                     and equipment.calibrations.filter(result__in=PASSED, recorded_at__gt=failed.performed_at,
                                                       recorded_at__lt=latest.performed_at).exists())
        if not recovered:
            return CheckState(day=day, usable=False, latest=latest, failed=failed)
    usable = latest is not None and latest.result in PASSED
    return CheckState(day=day, usable=usable, latest=latest, failed=None)


def ensure_daily_check(equipment: Equipment) -> CheckState:
    state = check_state(equipment)
    if state.failed is not None:
        raise DailyCheckFailed(field="equipment", equipment=equipment.code,
                               time=clock.format_site(state.failed.performed_at))
    ensure(state.usable, DailyCheckMissing(field="equipment", equipment=equipment.code, day=state.day.isoformat()))
    return state


# --- weighing ------------------------------------------------------------------------------------

def read_weight(*, actor: Any, equipment_code: str) -> WeightReading:
    """The current weight of a balance, for GMP use (the rules are in the module text)."""
    authorize(actor, OPERATE)
    equipment = registered_balance(equipment_code)
    endpoint, node = connection_of(equipment)
    assert_usable(equipment, for_=Use.WEIGHING)
    ensure_daily_check(equipment)
    reading = accept(equipment, read_balance(endpoint, node, readability=equipment.readability))
    assert reading.weight is not None and reading.source_timestamp is not None
    return WeightReading(
        equipment=equipment.code, net=reading.weight, tare=reading.tare if reading.tare is not None else Decimal(0),
        gross=reading.gross if reading.gross is not None else reading.weight, unit=reading.unit,
        status_code=reading.status_code, source_timestamp=reading.source_timestamp,
        server_timestamp=reading.server_timestamp, read_at=clock.now(), serial_number=reading.serial_number)


def accept(equipment: Equipment, reading: BalanceReading, *, check_range: bool = True) -> BalanceReading:
    """Refuse a reading that is not good, not stable, from another device, in another unit or (with
    `check_range`) outside the balance's weighing range; return it otherwise."""
    ensure(reading.good and reading.weight is not None and reading.source_timestamp is not None,
           DeviceValueNotGood(field="equipment", status=reading.status_code))
    registered = equipment.serial_number.strip()
    # A registered serial number must be reported back: a device that does not say who it is is not trusted.
    ensure(not registered or reading.serial_number == registered,
           DeviceIdentityMismatch(field="equipment", endpoint=reading.endpoint, reported=reading.serial_number,
                                  equipment=equipment.code, registered=registered))
    ensure(reading.stable, WeightNotStable(field="equipment", equipment=equipment.code))
    unit = equipment.weighing_unit.code if equipment.weighing_unit else ""
    ensure(reading.unit == unit, WeighingUnitMismatch(field="equipment", equipment=equipment.code,
                                                      reported=reading.unit, unit=unit))
    if check_range:
        assert reading.weight is not None
        gross = reading.gross if reading.gross is not None else reading.weight
        ensure(not reading.overload and (equipment.max_load is None or gross <= equipment.max_load),
               AboveMaximumLoad(field="equipment", equipment=equipment.code, gross=_plain(gross), unit=unit,
                                max_load=_plain(equipment.max_load)))
        minimum = equipment.minimum_weight or Decimal(0)
        ensure(not reading.underload and reading.weight >= minimum and reading.weight > 0,
               BelowMinimumWeight(field="equipment", equipment=equipment.code, net=_plain(reading.weight), unit=unit,
                                  minimum=_plain(minimum)))
    return reading


# --- the daily check -----------------------------------------------------------------------------

def _points(points: Any) -> list[dict[str, Any]]:
    ensure(isinstance(points, list | tuple) and points,
           InvalidInput(_("A daily check needs at least one test weight."), field="points"))
    ensure(len(points) <= MAX_CHECK_POINTS, InvalidInput(_("At most {count} test weights."), field="points",
                                                         count=MAX_CHECK_POINTS))
    out = []
    seen = set()
    for index, point in enumerate(points):
        prefix = f"points.{index}"
        ensure(isinstance(point, dict), InvalidInput(_("Expected a JSON object."), field=prefix))
        weight_id = str(point.get("weight_id") or "").strip()
        ensure(weight_id and len(weight_id) <= 40, InvalidInput(_("Give the test weight's id (at most 40 characters)."),
                                                                field=f"{prefix}.weight_id"))
        ensure(weight_id not in seen, InvalidInput(_("Test weight {weight_id} is listed twice."),
                                                   field=f"{prefix}.weight_id", weight_id=weight_id))
        seen.add(weight_id)
        nominal = to_decimal(point.get("nominal"), field=f"{prefix}.nominal")
        tolerance = to_decimal(point.get("tolerance"), field=f"{prefix}.tolerance")
        ensure(nominal > 0, InvalidInput(_("Must be greater than zero."), field=f"{prefix}.nominal",
                                         code="not_positive"))
        ensure(tolerance > 0, InvalidInput(_("Must be greater than zero."), field=f"{prefix}.tolerance",
                                           code="not_positive"))
        typed = point.get("reading")
        reading = None if typed in (None, "") else to_decimal(typed, field=f"{prefix}.reading")
        out.append({"weight_id": weight_id, "nominal": nominal, "tolerance": tolerance, "reading": reading})
    return out


def perform_daily_check(*, actor: Any, equipment_code: str, points: Any,
                        readings: Sequence[BalanceReading | None] | None = None) -> BalanceCheck:
    """Record the daily check of a balance.

    `points`: [{weight_id, nominal, tolerance, reading?}] in the balance's weighing unit. For each
    point the reading is, in this order: the typed `reading` (recorded as manual), the balance reading
    captured for it earlier in the same procedure (`readings[i]`, from read_balance), or the balance
    read now (the test weight is on the pan). Balance readings must be good, stable and in the
    balance's unit; otherwise nothing is recorded.
    """
    authorize(actor, OPERATE)
    checked = _points(points)
    equipment = registered_balance(equipment_code)
    assert_usable(equipment, for_=Use.WEIGHING)
    unit = equipment.weighing_unit.code if equipment.weighing_unit else ""
    captured = list(readings or [])
    recorded: list[dict[str, Any]] = []
    for index, point in enumerate(checked):
        recorded.append(_measure(equipment, point, captured[index] if index < len(captured) else None, unit))
    result = Result.PASS if all(p["pass"] for p in recorded) else Result.FAIL
    with transaction.atomic():
        equipment = logbook.lock(equipment.pk)
        ensure(equipment.active, EquipmentRetired(field="equipment", equipment=equipment.code))
        now = clock.now()
        day = today(now)
        check = BalanceCheck.objects.create(equipment=equipment, performed_at=now, performed_by=actor, valid_on=day,
                                            points=recorded, result=result)
        payload = {"equipment": equipment.code, "check_id": check.pk, "valid_on": day.isoformat(),
                   "performed_at": logbook.iso(now), "performed_by": actor.username, "result": result, "unit": unit,
                   "points": recorded}
        logbook.record(actor, equipment, kind=LogKind.CHECK, action="daily_check",
                       details={"points": len(recorded), "result": result,
                                "failed": ", ".join(p["weight_id"] for p in recorded if not p["pass"])},
                       reference=f"check {check.pk}", audit_record=check,
                       changes={"valid_on": [None, day], "result": [None, result], "points": [None, recorded]},
                       event=CHECK_RECORDED, payload=payload)
    return check


def _measure(equipment: Equipment, point: dict[str, Any], captured: BalanceReading | None,
             unit: str) -> dict[str, Any]:
    """One test weight: read (or typed), compared with its tolerance, as BalanceCheck.points stores it."""
    if point["reading"] is not None:
        value, source, status, source_time = point["reading"], "manual", "", None
    else:
        if captured is None:
            endpoint, node = connection_of(equipment)
            captured = read_balance(endpoint, node, readability=equipment.readability, accept_bad=True)
        accept(equipment, captured, check_range=False)
        value, source, status = captured.weight, "balance", captured.status_code
        source_time = logbook.iso(captured.source_timestamp)
    assert value is not None
    deviation = value - point["nominal"]
    return {"weight_id": point["weight_id"], "nominal": _plain(point["nominal"]), "reading": _plain(value),
            "tolerance": _plain(point["tolerance"]), "deviation": _plain(deviation), "unit": unit,
            "source": source, "status_code": status, "source_timestamp": source_time,
            "pass": abs(deviation) <= point["tolerance"]}


def checks(equipment: Equipment) -> Any:
    """The balance's daily checks, newest first (history screens and the API)."""
    return BalanceCheck.objects.filter(equipment=equipment).select_related("performed_by").order_by(
        "-performed_at", "-id")
