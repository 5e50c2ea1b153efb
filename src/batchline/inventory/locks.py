"""Row locks for stock (DESIGN.md §3.8), the only way services lock warehouse rows.

Rules, so that concurrent terminals never deadlock each other in ordinary work:
1. Lock in table order: lots, then material requests and pick tasks, then balances, whatever
   subset an action needs (a status change locks the lot, its open pick tasks, their balances).
2. Within a table, lock in primary-key order, all the rows the action needs, in one statement.
3. Never lock a row of an earlier step again after locking a later one.
PostgreSQL can still report a deadlock or a serialization failure in a corner these rules do not
cover; `inventory.retry.retrying` runs the whole action again, so the user never sees one.
SQLite serialises writers (IMMEDIATE transactions), so these locks are no-ops there.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Q, QuerySet

from batchline.inventory.models import Lot, MaterialRequest, PickTask, StockBalance


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("stock rows are locked inside the business transaction only")


def lock_lots(ids: Iterable[int]) -> list[Lot]:
    _require_transaction()
    return list(Lot.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk"))


def lock_balances(ids: Iterable[int]) -> list[StockBalance]:
    _require_transaction()
    return list(StockBalance.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk"))


def lock_balances_at(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StockBalance]:
    """Lock the balance rows of (container id, location id) pairs that exist; → by pair."""
    _require_transaction()
    pairs = set(keys)
    if not pairs:
        return {}
    condition = Q()
    for container_id, location_id in pairs:
        condition |= Q(container_id=container_id, location_id=location_id)
    rows = StockBalance.objects.select_for_update().filter(condition).order_by("pk")
    return {(row.container_id, row.location_id): row for row in rows}


# --- material requests and pick tasks (inventory.allocation, inventory.picking) ---------------------
# Within rule 1's middle step: material requests first, then pick tasks.

def lock_requests(ids: Iterable[int]) -> list[MaterialRequest]:
    _require_transaction()
    return list(MaterialRequest.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk"))


def lock_tasks(ids: Iterable[int]) -> list[PickTask]:
    _require_transaction()
    return list(PickTask.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk"))


def share_lots(lots: QuerySet[Lot]) -> list[int]:
    """Lock the lots of `lots` FOR KEY SHARE, in primary-key order; → their ids. Many allocations can
    hold it on one lot at once, a status change (FOR UPDATE) waits for them, and a lot whose status
    changed while this one waited drops out, because PostgreSQL checks the filter again."""
    _require_transaction()
    ids = lots.order_by("pk").values_list("pk", flat=True)
    if not connection.features.has_select_for_update:
        return list(ids)
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return [row[0] for row in cursor.fetchall()]
