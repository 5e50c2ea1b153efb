"""The stock ledger: the one function that changes on-hand stock (WMS-06).

`post()` takes movements, locks the balance rows they touch in primary-key order, changes on-hand,
appends the movements to the ledger and emits one outbox event per movement, all in the caller's
transaction. A movement may only take what is *available* (on hand minus reserved): a service that
consumes a reservation (a pick) releases it first, under the same lock. Database CHECK constraints
back this up: a negative balance or a reservation above on-hand is refused by the database itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from batchline.core import clock
from batchline.core.context import correlation_id
from batchline.core.errors import ensure
from batchline.core.outbox import emit
from batchline.inventory.choices import MovementType
from batchline.inventory.errors import InsufficientStock, NotAtLocation
from batchline.inventory.locks import lock_balances_at
from batchline.inventory.models import Container, Movement, StockBalance
from batchline.masterdata.models import Location

LOT_RECORD_TYPE = "inventory.lot"
MOVEMENT_EVENT = "inventory.movement.{type}"  # e.g. inventory.movement.receipt; subscribe "inventory.movement.*"


@dataclass(frozen=True)
class Posting:
    """One movement to post. `quantity` is positive, in the material's base unit."""

    movement_type: MovementType
    container: Container  # with .lot and .lot.material loaded
    quantity: Decimal
    from_location: Location | None = None
    to_location: Location | None = None
    reason_code: str = ""
    reason: str = ""
    reference: str = ""


def post(actor: Any, postings: list[Posting]) -> list[Movement]:
    if not connection.in_atomic_block:
        raise RuntimeError("ledger.post() must run inside the business transaction")
    for posting in postings:
        if posting.quantity <= 0:
            raise ValueError("a movement quantity is positive; the direction is from/to")
        if posting.from_location is None and posting.to_location is None:
            raise ValueError("a movement takes from a location, puts into one, or both")
    now = clock.now()
    _create_missing_targets(postings, now)
    keys = {(p.container.pk, loc.pk) for p in postings for loc in (p.from_location, p.to_location) if loc}
    balances = lock_balances_at(keys)
    for posting in postings:
        if posting.from_location is not None:
            row = balances.get((posting.container.pk, posting.from_location.pk))
            ensure(row is not None and row.on_hand > 0,
                   NotAtLocation(container=posting.container.code, location=posting.from_location.code))
            assert row is not None
            ensure(row.available >= posting.quantity, InsufficientStock(
                container=posting.container.code, location=posting.from_location.code, available=row.available,
                requested=posting.quantity, unit=posting.container.lot.material.base_unit.code))
            row.on_hand -= posting.quantity
        if posting.to_location is not None:
            balances[(posting.container.pk, posting.to_location.pk)].on_hand += posting.quantity
    for row in balances.values():
        row.updated_at = now
    StockBalance.objects.bulk_update(balances.values(), ["on_hand", "updated_at"])
    movements = Movement.objects.bulk_create([_movement(actor, posting, now) for posting in postings])
    for posting, movement in zip(postings, movements, strict=True):
        emit(MOVEMENT_EVENT.format(type=movement.movement_type), record_type=LOT_RECORD_TYPE,
             record_id=posting.container.lot.pk, payload=payload(movement, posting, actor))
    return movements


def _create_missing_targets(postings: list[Posting], now: Any) -> None:
    """Balance rows for containers arriving where they have never been (zero, then locked and
    increased like any other row). ignore_conflicts: another terminal may create the same row."""
    StockBalance.objects.bulk_create([
        StockBalance(container=p.container, lot=p.container.lot, material=p.container.lot.material,
                     location=p.to_location, unit=p.container.lot.material.base_unit, updated_at=now)
        for p in postings if p.to_location is not None
    ], ignore_conflicts=True)


def _movement(actor: Any, posting: Posting, now: Any) -> Movement:
    lot = posting.container.lot
    return Movement(movement_type=posting.movement_type, material=lot.material, lot=lot,
                    container=posting.container, from_location=posting.from_location,
                    to_location=posting.to_location, quantity=posting.quantity, unit=lot.material.base_unit,
                    reason_code=posting.reason_code, reason=posting.reason, reference=posting.reference,
                    actor=actor, occurred_at=now, correlation_id=correlation_id())


def payload(movement: Movement, posting: Posting, actor: Any) -> dict[str, Any]:
    """The outbound content of a movement (ERP goods receipt / issue, INTERFACES.md)."""
    lot = posting.container.lot
    return {
        "movement_id": movement.pk,
        "movement_type": movement.movement_type,
        "material": lot.material.code,
        "lot": lot.number,
        "supplier_lot": lot.supplier_lot,
        "container": posting.container.code,
        "from_location": posting.from_location.code if posting.from_location else None,
        "to_location": posting.to_location.code if posting.to_location else None,
        "quantity": str(movement.quantity),
        "unit": lot.material.base_unit.code,
        "reason_code": movement.reason_code,
        "reference": movement.reference,
        "posted_by": getattr(actor, "username", "system"),
        "posted_at": movement.occurred_at.isoformat().replace("+00:00", "Z"),
    }
