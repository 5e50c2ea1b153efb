"""Reading the warehouse: purchase orders (expected receipts), stock by material, lot, location and
status, lot history, location occupancy, alerts and counts. Reads only.

The status a stock row is shown with is the lot's *derived* state on the plant's day
(usability.lot_state: expired and retest-due override released and restricted); `state_case()` is
the same rule as a query expression, so that lists can filter, group and total by it (a test holds
the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When

from batchline.inventory.choices import AlertKind, CountStatus, DerivedLotState, LotStatus, MovementType
from batchline.inventory.models import (
    Container,
    CycleCount,
    Lot,
    Movement,
    PurchaseOrder,
    StockAlert,
    StockBalance,
    StockPolicy,
)
from batchline.inventory.usability import today
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Location, Material

# --- purchase orders ----------------------------------------------------------------------------------


def purchase_orders(*, source_system: str = "", status: str = "", supplier: str = "") -> QuerySet[PurchaseOrder]:
    qs = PurchaseOrder.objects.select_related("supplier").prefetch_related("lines__material", "lines__unit")
    if source_system:
        qs = qs.filter(source_system=source_system.upper())
    if status:
        qs = qs.filter(status=status)
    if supplier:
        qs = qs.filter(supplier__code=supplier)
    return qs


def purchase_order(source_system: str, po_number: str) -> PurchaseOrder | None:
    return purchase_orders(source_system=source_system).filter(po_number=po_number).first()


# --- derived lot state as a query ---------------------------------------------------------------------

def state_case(on: date | None = None, *, prefix: str = "lot__") -> Case:
    """usability.lot_state as an expression: quarantine and rejected stay; else expired, retest due,
    or the stored status."""
    on = on or today()
    status = f"{prefix}status"
    return Case(
        When(Q(**{f"{status}__in": [LotStatus.QUARANTINE, LotStatus.REJECTED]}), then=F(status)),
        When(Q(**{f"{prefix}expires_on__lte": on}), then=Value(DerivedLotState.EXPIRED.value)),
        When(Q(**{f"{prefix}retest_on__lte": on}), then=Value(DerivedLotState.RETEST_DUE.value)),
        default=F(status), output_field=CharField())


# The order states are listed in, and which one colours a location holding several (worst first).
STATE_ORDER = [DerivedLotState.REJECTED, DerivedLotState.EXPIRED, DerivedLotState.QUARANTINE,
               DerivedLotState.RETEST_DUE, DerivedLotState.RESTRICTED, DerivedLotState.RELEASED]
STATE_CHOICES = [(state.value, state.label) for state in STATE_ORDER]


@dataclass(frozen=True)
class StockFilter:
    """Filters of the stock views; empty means all. `material`: code or part of a name; `lot`: part of
    the lot or supplier lot number; `location` / `warehouse`: code; `status`: a DerivedLotState value."""

    material: str = ""
    lot: str = ""
    location: str = ""
    warehouse: str = ""
    status: str = ""
    container: str = ""

    @classmethod
    def from_query(cls, data: Any) -> StockFilter:
        return cls(**{name: str(data.get(name, "") or "").strip() for name in cls.__dataclass_fields__})


def stock(flt: StockFilter | None = None, *, on: date | None = None) -> QuerySet[StockBalance]:
    """Balance rows with stock, each annotated with `state` (the lot's derived state on the day `on`)."""
    flt = flt or StockFilter()
    qs = (StockBalance.objects.filter(on_hand__gt=0)
          .select_related("container", "lot", "material", "location__warehouse", "unit")
          .annotate(state=state_case(on)))
    if flt.material:
        qs = qs.filter(Q(material__code__iexact=flt.material) | Q(material__name_zh__icontains=flt.material)
                       | Q(material__name_en__icontains=flt.material))
    if flt.lot:
        qs = qs.filter(Q(lot__number__icontains=flt.lot) | Q(lot__supplier_lot__icontains=flt.lot))
    if flt.location:
        qs = qs.filter(location__code__iexact=flt.location)
    if flt.warehouse:
        qs = qs.filter(location__warehouse__code__iexact=flt.warehouse)
    if flt.container:
        qs = qs.filter(container__code__iexact=flt.container)
    if flt.status:
        qs = qs.filter(state=flt.status)
    return qs.order_by("material__code", "lot__expires_on", "lot__number", "container__serial", "location__code")


GROUPINGS: dict[str, list[str]] = {
    "material": ["material__code", "material__name_zh", "material__name_en", "unit__code"],
    "lot": ["lot_id", "lot__number", "material__code", "material__name_zh", "material__name_en", "unit__code",
            "lot__expires_on", "lot__retest_on"],
    "location": ["location__code", "location__warehouse__code", "location__location_type", "material__code",
                 "unit__code"],
}


def stock_summary(flt: StockFilter | None = None, *, by: str = "material",
                  on: date | None = None) -> list[dict[str, Any]]:
    """Stock totals grouped `by` material, lot or location, and by derived state: one row each, with
    `total` (base unit), `containers` and `state`."""
    keys = GROUPINGS[by]
    rows = (stock(flt, on=on).order_by().values(*keys, "state")
            .annotate(total=Sum("on_hand"), containers=Count("container", distinct=True)))
    order = {state.value: index for index, state in enumerate(STATE_ORDER)}
    return sorted(rows, key=lambda r: (*[str(r[k] or "") for k in keys[:2]], order.get(r["state"], 99)))


@dataclass
class StateTotals:
    """Stock of one material split by state, for the chart and the summary table."""

    material: str
    name_zh: str
    name_en: str
    unit: str
    by_state: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.by_state.values(), Decimal(0))


def totals_by_state(flt: StockFilter | None = None, *, on: date | None = None) -> list[StateTotals]:
    """Per material (each in its base unit: units of different materials are never added up)."""
    materials: dict[str, StateTotals] = {}
    for row in stock_summary(flt, by="material", on=on):
        entry = materials.setdefault(row["material__code"], StateTotals(
            row["material__code"], row["material__name_zh"], row["material__name_en"], row["unit__code"]))
        entry.by_state[row["state"]] = entry.by_state.get(row["state"], Decimal(0)) + row["total"]
    return [materials[code] for code in sorted(materials)]


def containers_by_state(flt: StockFilter | None = None, *, on: date | None = None) -> dict[str, int]:
    """How many containers (with stock) are in each state: comparable across materials and units."""
    rows = (stock(flt, on=on).order_by().values("state")  # type: ignore[misc]  # an annotation
            .annotate(containers=Count("container", distinct=True)))
    found = {row["state"]: row["containers"] for row in rows}
    return {state.value: found.get(state.value, 0) for state in STATE_ORDER}


# --- locations ----------------------------------------------------------------------------------------------

@dataclass
class LocationCell:
    """One location on the map: what it holds and the state that colours it (the worst present)."""

    location: Location
    containers: int = 0
    lots: int = 0
    states: dict[str, int] = field(default_factory=dict)  # state → containers

    @property
    def state(self) -> str:
        for candidate in STATE_ORDER:
            if self.states.get(candidate.value):
                return candidate.value
        return "empty"


def location_map(*, warehouse: str = "", on: date | None = None) -> dict[Any, list[LocationCell]]:
    """Every approved location by warehouse (in code order), with its occupancy."""
    locations = (Location.objects.filter(status=RecordStatus.APPROVED).select_related("warehouse")
                 .order_by("warehouse__code", "code"))
    if warehouse:
        locations = locations.filter(warehouse__code__iexact=warehouse)
    cells = {loc.pk: LocationCell(loc) for loc in locations}
    rows = (stock(on=on).filter(location_id__in=list(cells)).order_by()
            .values("location_id", "state")  # type: ignore[misc]  # state: an annotation
            .annotate(containers=Count("container", distinct=True)))
    for row in rows:
        cell = cells[row["location_id"]]
        cell.states[row["state"]] = row["containers"]
        cell.containers += row["containers"]
    lots = (StockBalance.objects.filter(on_hand__gt=0, location_id__in=cells).order_by().values("location_id")
            .annotate(lots=Count("lot", distinct=True)))
    for row in lots:
        cells[row["location_id"]].lots = row["lots"]
    grouped: dict[Any, list[LocationCell]] = {}
    for cell in cells.values():
        grouped.setdefault(cell.location.warehouse, []).append(cell)
    return grouped


# --- lots ----------------------------------------------------------------------------------------------------

def lot_by_number(number: str) -> Lot | None:
    return (Lot.objects.select_related("material__base_unit", "supplier", "received_by",
                                       "purchase_order_line__purchase_order")
            .filter(number=(number or "").strip()).first())


def lots(*, material: str = "", text: str = "") -> QuerySet[Lot]:
    qs = Lot.objects.select_related("material__base_unit", "supplier")
    if material:
        qs = qs.filter(material__code__iexact=material)
    if text:
        qs = qs.filter(Q(number__icontains=text) | Q(supplier_lot__icontains=text))
    return qs


def lot_balances(lot: Lot) -> QuerySet[StockBalance]:
    return (StockBalance.objects.filter(lot=lot, on_hand__gt=0).select_related("container", "location", "unit")
            .order_by("container__serial", "location__code"))


def lot_containers(lot: Lot) -> list[dict[str, Any]]:
    """Each container of the lot with its stock (by location), reserved quantity and whether it was sampled."""
    sampled = sampled_container_ids(lot)
    balances: dict[int, list[StockBalance]] = {}
    for row in lot_balances(lot):
        balances.setdefault(row.container_id, []).append(row)
    out = []
    for container in Container.objects.filter(lot=lot).order_by("serial"):
        rows = balances.get(container.pk, [])
        out.append({"container": container, "balances": rows,
                    "on_hand": sum((r.on_hand for r in rows), Decimal(0)),
                    "reserved": sum((r.reserved for r in rows), Decimal(0)),
                    "sampled": container.pk in sampled})
    return out


def lot_total(lot: Lot) -> Decimal:
    total = StockBalance.objects.filter(lot=lot).aggregate(total=Sum("on_hand"))["total"]
    return total if total is not None else Decimal(0)


def sampled_container_ids(lot: Lot) -> set[int]:
    """Containers a sample was withdrawn from (movements.withdraw_sample)."""
    return set(Movement.objects.filter(lot=lot, movement_type=MovementType.SAMPLE)
               .values_list("container_id", flat=True))


def lot_history(lot: Lot) -> QuerySet[Movement]:
    """Every movement of the lot, oldest first, with who posted it (times are UTC; show in the site zone)."""
    return (Movement.objects.filter(lot=lot)
            .select_related("container", "from_location", "to_location", "actor", "unit").order_by("id"))


def movements(*, container: str = "", location: str = "", movement_type: str = "") -> QuerySet[Movement]:
    qs = Movement.objects.select_related("container", "lot", "material", "from_location", "to_location",
                                         "actor", "unit")
    if container:
        qs = qs.filter(container__code__iexact=container)
    if location:
        qs = qs.filter(Q(from_location__code__iexact=location) | Q(to_location__code__iexact=location))
    if movement_type:
        qs = qs.filter(movement_type=movement_type)
    return qs.order_by("-id")


# --- alerts, counts, policies --------------------------------------------------------------------------

def stock_alerts(*, open_only: bool = True, kind: str = "", material: str = "") -> QuerySet[StockAlert]:
    qs = StockAlert.objects.select_related("material__base_unit", "lot")
    if open_only:
        qs = qs.filter(cleared_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    if material:
        qs = qs.filter(material__code__iexact=material)
    return qs.order_by("-raised_at", "-id")


def open_alert_counts() -> dict[str, int]:
    rows = StockAlert.objects.filter(cleared_at__isnull=True).values("kind").annotate(n=Count("id"))
    found = {row["kind"]: row["n"] for row in rows}
    return {kind.value: found.get(kind.value, 0) for kind in AlertKind}


def cycle_counts(*, status: str = "", location: str = "") -> QuerySet[CycleCount]:
    qs = CycleCount.objects.select_related("location", "created_by", "counted_by", "decided_by")
    if status:
        qs = qs.filter(status=status)
    if location:
        qs = qs.filter(location__code__iexact=location)
    return qs


def counts_awaiting_approval(user: Any) -> QuerySet[CycleCount]:
    """Counted counts someone else counted (the approver must not be the counter)."""
    return cycle_counts(status=CountStatus.COUNTED).exclude(counted_by=user)


def stock_policies() -> QuerySet[StockPolicy]:
    return StockPolicy.objects.select_related("material__base_unit", "updated_by").order_by("material__code")


def materials_with_stock() -> QuerySet[Material]:
    return (Material.objects.filter(pk__in=StockBalance.objects.filter(on_hand__gt=0).values("material_id"))
            .order_by("code"))
