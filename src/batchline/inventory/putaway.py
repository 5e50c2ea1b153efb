"""Putaway (WMS-02): where a container should go, and moving it there when the location fits.

A location fits a container when it is approved, is a kind that takes putaway (storage, quarantine,
rejected goods), has the material's storage condition (ambient, cool 2–8 °C, cold, frozen), and its
kind suits the lot's status:

* quarantine: a quarantine location where the plant keeps quarantine physically apart
  (setting BATCHLINE_PHYSICAL_QUARANTINE, default True); otherwise a quarantine or a storage location;
* released or restricted: a storage location;
* rejected: a rejected-goods location (and only rejected lots go there).

Suggestions are the fitting locations, best first: the preferred kind, then the same warehouse as
the container, then locations that already hold the material, then the emptiest (fewest containers).
`put_away` moves the container's whole stock from wherever it is to the scanned location through
the ledger (movement type putaway) or refuses with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change
from batchline.core.errors import Conflict, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory import ledger
from batchline.inventory.choices import LotStatus, MovementType
from batchline.inventory.errors import LocationNotUsable
from batchline.inventory.locks import lock_lots
from batchline.inventory.models import Container, Movement, StockBalance
from batchline.inventory.retry import retrying
from batchline.inventory.scanning import location_from_scan
from batchline.masterdata.choices import LocationType, RecordStatus, StorageCondition
from batchline.masterdata.models import Location

PUTAWAY_TYPES = (LocationType.STORAGE, LocationType.QUARANTINE, LocationType.REJECTED)
DEFAULT_SUGGESTIONS = 5


def physical_quarantine() -> bool:
    """Whether quarantined stock must stand in a quarantine location (settings; default True)."""
    return bool(getattr(settings, "BATCHLINE_PHYSICAL_QUARANTINE", True))


def allowed_types(status: str) -> list[str]:
    """The location kinds a lot of this status may be put away to, preferred first."""
    if status == LotStatus.QUARANTINE:
        if physical_quarantine():
            return [LocationType.QUARANTINE]
        return [LocationType.QUARANTINE, LocationType.STORAGE]
    if status == LotStatus.REJECTED:
        return [LocationType.REJECTED]
    return [LocationType.STORAGE]


def refusal(container: Container, location: Location) -> str | None:
    """None when `location` fits `container` (WMS-02); else why not, in the reader's language."""
    lot, material = container.lot, container.lot.material
    if location.status != RecordStatus.APPROVED:
        return str(_("it is not approved (status: {status}).").format(
            status=RecordStatus(location.status).label))
    kind = LocationType(location.location_type)
    if kind in (LocationType.DISPENSARY, LocationType.LINE_SIDE):
        return str(_("it is a {kind} location; those are supplied by picking, not by putaway.").format(
            kind=kind.label))
    if kind not in PUTAWAY_TYPES:
        return str(_("it is a {kind} location; putaway goes to storage, quarantine or rejected-goods "
                     "locations.").format(kind=kind.label))
    if location.storage_condition != material.storage_condition:
        return str(_("material {material} needs {needed} storage; this location is {actual}.").format(
            material=material.code, needed=StorageCondition(material.storage_condition).label,
            actual=StorageCondition(location.storage_condition).label))
    allowed = allowed_types(lot.status)
    if kind in allowed:
        return None
    status = LotStatus(lot.status)
    if status == LotStatus.QUARANTINE:
        return str(_("lot {lot} is in quarantine; with physical quarantine it goes to a quarantine location.")
                   .format(lot=lot.number))
    if status == LotStatus.REJECTED:
        return str(_("lot {lot} is rejected; it goes to a rejected-goods location.").format(lot=lot.number))
    if kind == LocationType.REJECTED:
        return str(_("only rejected lots go to a rejected-goods location; lot {lot} is {status}.").format(
            lot=lot.number, status=status.label))
    return str(_("lot {lot} is {status}; it goes to a storage location, not a quarantine location.").format(
        lot=lot.number, status=status.label))


@dataclass(frozen=True)
class Suggestion:
    location: Location
    preferred: bool  # the first kind allowed for the lot's status (quarantine where both are allowed)
    same_warehouse: bool
    holds_material: bool  # other containers of the material stand there already
    containers_here: int  # how many containers (any material) have stock there


def current_locations(container: Container) -> list[Location]:
    """Where the container has stock now."""
    ids = StockBalance.objects.filter(container=container, on_hand__gt=0).values_list("location_id", flat=True)
    return list(Location.objects.filter(pk__in=list(ids)).select_related("warehouse").order_by("code"))


def suggestions(container: Container, *, limit: int = DEFAULT_SUGGESTIONS) -> list[Suggestion]:
    lot, material = container.lot, container.lot.material
    here = current_locations(container)
    allowed = allowed_types(lot.status)
    candidates = (Location.objects.filter(status=RecordStatus.APPROVED, location_type__in=allowed,
                                          storage_condition=material.storage_condition)
                  .exclude(pk__in=[loc.pk for loc in here]))
    occupancy = dict(StockBalance.objects.filter(on_hand__gt=0, location__in=candidates)
                     .values_list("location_id").annotate(n=Count("container", distinct=True)))
    with_material = set(StockBalance.objects.filter(on_hand__gt=0, material=material, location__in=candidates)
                        .values_list("location_id", flat=True))
    warehouses = {loc.warehouse_id for loc in here}
    found = [Suggestion(location=loc, preferred=loc.location_type == allowed[0],
                        same_warehouse=loc.warehouse_id in warehouses, holds_material=loc.pk in with_material,
                        containers_here=occupancy.get(loc.pk, 0)) for loc in candidates]
    found.sort(key=lambda s: (not s.preferred, not s.same_warehouse, not s.holds_material, s.containers_here,
                              s.location.code))
    return found[:limit]


def suggest_locations(container: Container, *, limit: int = DEFAULT_SUGGESTIONS) -> list[Location]:
    """The fitting locations for `container`, best first (see the module's docstring)."""
    return [s.location for s in suggestions(container, limit=limit)]


@retrying
def put_away(*, actor: Any, container_id: int, location: str, reference: str = "") -> list[Movement]:
    """Move the container's whole stock to the location scanned or typed as `location` (a code or a
    location barcode); refuse a location that does not fit with LocationNotUsable and the reason."""
    authorize(actor, "inventory.move")
    target = location_from_scan(location, field="location")
    with transaction.atomic():
        found = Container.objects.filter(pk=container_id).values_list("lot_id", flat=True).first()
        ensure(found is not None, NotFound(_("There is no such container."), field="container"))
        assert found is not None
        lot = lock_lots([found])[0]  # the status decides where it may go: it must not change meanwhile
        container = Container.objects.select_related("lot__material__base_unit").get(pk=container_id)
        container.lot = lot
        reason = refusal(container, target)
        ensure(reason is None, LocationNotUsable(location=target.code, reason=reason, field="location"))
        rows = list(StockBalance.objects.filter(container=container, on_hand__gt=0)
                    .select_related("location").order_by("pk"))
        ensure(rows, Conflict(_("Container {container} has no stock to put away."), code="nothing_to_put_away",
                              field="container", container=container.code))
        ensure(any(row.location_id != target.pk for row in rows),
               Conflict(_("Container {container} is already at {location}."), code="already_there",
                        field="location", container=container.code, location=target.code))
        reserved = [row for row in rows if row.reserved > 0]
        ensure(not reserved, Conflict(
            _("Container {container} is reserved for a pick at {location}; finish or cancel the pick first."),
            code="container_reserved", field="container", container=container.code,
            location=reserved[0].location.code if reserved else ""))
        moving = [row for row in rows if row.location_id != target.pk]
        movements = ledger.post(actor, [
            ledger.Posting(MovementType.PUTAWAY, container, row.on_hand, from_location=row.location,
                           to_location=target, reference=reference[:60])
            for row in moving])
        record_change(actor, lot, action="put_away", changes={
            "container": [None, container.code],
            "location": [", ".join(row.location.code for row in moving), target.code],
        })
        return movements
