"""Warehouse benchmark (issue 4): FEFO allocate + pick postings per second through the service layer,
as a ratio against a raw-SQL version of the same lock-update-insert, measured in the same run.

    .venv/bin/python bench/warehouse.py            # the full run: 2,000 materials × 20 lots, 1,000,000 prior
                                                   # movements, 1 / 8 / 32 threads, spread and hot SKU
    .venv/bin/python bench/warehouse.py --quick    # a small look: 200 materials, 100,000 movements
    .venv/bin/python bench/warehouse.py --help

A *posting* is what a material request costs the warehouse from the order's requirement to the
material at the staging location, in two transactions, as a handheld does it:

- *service*: `inventory.allocation.request_material` (permission, input checks, unit conversion,
  the FEFO lots locked FOR KEY SHARE, the candidate balance rows FOR UPDATE in key order, the
  reservation, the request and its pick task, the audit entry and the outbox event) and then
  `inventory.picking.confirm_pick` with the container's code as the scan (scan resolution,
  usability at pick time, the lot, request, task and balance locks, the split of the container into
  a new one with SPLIT_OUT / SPLIT_IN / PICK movements through `inventory.ledger.post` and their
  outbox events, the task and request updates, the audit entry and its event);
- *raw SQL*: the same locks, updates and inserts of the stock rows with plain SQL in the same two
  transactions (the lots FOR KEY SHARE, the balance rows FOR UPDATE, reserved += q, the request and
  task rows; then the lot, request, task and balance locks, the new container, its two balance rows,
  on-hand and reserved -= q, the three movements, the task and request updates) — without the
  service layer: no permission check, no input parsing, no scan resolution, no audit entry, no
  outbox events.

Workloads: *spread* — each posting asks for 1 kg of a material drawn at random from all of them;
*hot* — every posting of every thread asks for 1 kg of the same material (one hot SKU): they all
contend for the same FEFO container. Variants run interleaved in rounds, the order rotated every
round; rates are totals over the rounds, the ratio is the median of the per-round ratios [lowest –
highest]; p50 / p99 are latencies of one posting (both transactions).

The data: `--materials` materials with `--lots` released lots each (2 containers per lot, expiry
dates spread so that FEFO order is not key order) at two storage locations, and `--movements` prior
ledger lines (one receipt per container, then count-gain / count-loss pairs that leave the balances
as they are), generated with INSERT ... SELECT generate_series (the ledger's triggers refuse only
UPDATE and DELETE; nothing here updates or deletes a ledger line).

Every database is a throwaway one that this script creates on the loopback interface:
`batchline_bench_warehouse` (dropped and created; `--postgres-url`, or BATCHLINE_BENCH_WAREHOUSE_URL,
loopback only, the name must start with batchline_bench). The measurement runs in its own
subprocess (`--worker`) because Django's settings are per process. Timings never decide anything:
the script reports figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchkit import percentile, recreate_postgres_database, rotated, server_version, setup_django

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/batchline_bench_warehouse"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
AIM_RATIO = 0.10  # issue 4: service postings >= 10% of the raw-SQL rate
AIM_P99_MS = 100.0  # issue 4: p99 < 100 ms at 32 threads
PASSWORD = "Bench-Warehouse-2026!x"
CONTAINERS_PER_LOT = 2
EACH_KG = Decimal(1000)  # per container; the hot material's hold HOT_KG
HOT_KG = Decimal(200_000)
WARMUP_PER_THREAD = 2
STORAGE = ("A-01", "A-02")
STAGING = "STG-01"
QUICK = {"materials": 200, "lots": 20, "movements": 100_000, "postings": 60, "rounds": 2}


# --------------------------------------------------------------------------------------------------
# Command line and driver
# --------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Warehouse benchmark (issue 4): FEFO allocate + pick postings, "
                                                 "service layer vs raw SQL, PostgreSQL.")
    parser.add_argument("--quick", action="store_true",
                        help="a small run: 200 materials, 100,000 movements, 60 postings, 2 rounds")
    parser.add_argument("--threads", default="1,8,32", help="comma-separated thread counts (default 1,8,32)")
    parser.add_argument("--modes", default="spread,hot", help="spread, hot or both (default spread,hot)")
    parser.add_argument("--materials", type=int, default=None, help="materials (default 2000)")
    parser.add_argument("--lots", type=int, default=None, help="released lots per material (default 20)")
    parser.add_argument("--movements", type=int, default=None, help="prior ledger lines (default 1000000)")
    parser.add_argument("--postings", type=int, default=None,
                        help="postings per variant, round and thread count, shared by the threads (default 240)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--time-cap", type=float, default=90.0,
                        help="seconds one variant may run in one round before it stops early (default 90)")
    parser.add_argument("--postgres-url", default=os.environ.get("BATCHLINE_BENCH_WAREHOUSE_URL",
                                                                 DEFAULT_POSTGRES_URL),
                        help="throwaway PostgreSQL database, dropped and created (loopback only)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else {"materials": 2000, "lots": 20, "movements": 1_000_000, "postings": 240,
                                         "rounds": 3}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.threads = [int(t) for t in str(args.threads).split(",") if t.strip()]
    args.modes = [m.strip() for m in str(args.modes).split(",") if m.strip()]
    if not args.threads or min(args.threads) < 1:
        parser.error("--threads needs positive numbers")
    if not set(args.modes) <= {"spread", "hot"} or not args.modes:
        parser.error("--modes: spread, hot or both")
    if args.materials < 1 or args.lots < 1 or args.movements < 0 or args.postings < 1 or args.rounds < 1:
        parser.error("sizes must be positive")
    host = urlsplit(args.postgres_url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        parser.error(f"--postgres-url must point at the loopback interface, not {host!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(args)))
        return 0
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    result = run_in_subprocess(args)
    print_report(result, argv if argv is not None else sys.argv[1:], (load_before, os.getloadavg()[0]),
                 time.perf_counter() - started)
    return 0


def run_in_subprocess(args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "--threads", ",".join(str(t) for t in args.threads), "--modes", ",".join(args.modes),
               "--materials", str(args.materials), "--lots", str(args.lots), "--movements", str(args.movements),
               "--postings", str(args.postings), "--rounds", str(args.rounds), "--time-cap", str(args.time_cap),
               "--postgres-url", args.postgres_url]
    log(f"== worker: {shlex.join(command[1:])}")
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        return {"failed": f"worker exited with status {done.returncode} (see above)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Worker: the database, in its own process
# --------------------------------------------------------------------------------------------------

def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    problem = recreate_postgres_database(args.postgres_url)
    if problem:
        log(f"PostgreSQL skipped: {problem}")
        return {"skipped": problem}
    setup_django(args.postgres_url)

    from django.core.management import call_command

    log("migrating a fresh database")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = build_world(args.materials, args.lots, args.movements)
    setup_seconds = time.perf_counter() - started
    log(f"data generated in {setup_seconds:.0f} s")
    result: dict[str, Any] = {"server": server_version(), "sizes": world.sizes, "setup_seconds": setup_seconds,
                              "runs": []}
    for mode in args.modes:
        for threads in args.threads:
            result["runs"].append(bench(world, mode, threads, args.postings, args.rounds, args.time_cap))
    result["sizes"]["movements_after"] = count_rows("inventory_movement")
    return result


def count_rows(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


# --------------------------------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------------------------------

@dataclass
class World:
    clerk: Any
    materials: list[str]  # codes; materials[0] is the hot one
    material_ids: dict[str, int]
    kg_id: int
    staging_id: int
    sizes: dict[str, int] = field(default_factory=dict)


def person(username: str, full_name: str, role: str) -> Any:
    from batchline.identity import services
    from batchline.identity.models import User

    user = services.create_user(actor=None, username=username, full_name=full_name, roles=[role],
                                initial_password=PASSWORD)
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    user.refresh_from_db()
    return user


def build_world(materials: int, lots: int, movements: int) -> World:
    """Master data through the services (a handful), materials and stock in bulk, the history in SQL."""
    import datetime as dt

    from django.db import connection, transaction

    from batchline.compliance.signatures import SignatureRequest
    from batchline.core import clock
    from batchline.inventory.models import Container, Lot, StockBalance
    from batchline.masterdata import services
    from batchline.masterdata.models import Location, Material, Supplier, Unit
    from batchline.masterdata.registry import kind_of

    steward = person("bench.steward", "王明 Wang Ming (bench)", "data_steward")
    qa = person("bench.qa", "李华 Li Hua (bench)", "qa_reviewer")
    clerk = person("bench.clerk", "陈静 Chen Jing (bench)", "warehouse")

    def approved(kind_slug: str, **data: Any) -> Any:
        kind = kind_of(kind_slug)
        item = services.create_item(actor=steward, kind=kind, data=data)
        return services.approve_item(actor=qa, kind=kind, item_id=item.pk, signature=SignatureRequest(
            password=PASSWORD, meaning="approve", username=qa.username))

    log(f"building {materials} materials × {lots} lots × {CONTAINERS_PER_LOT} containers, {movements} movements")
    approved("unit", code="kg", name_zh="千克", name_en="kilogram", dimension="mass", factor="1")
    approved("site", code="S1", name_zh="工厂", name_en="Plant")
    approved("warehouse", code="WH1", name_zh="仓库", name_en="Warehouse", site="S1")
    for code, kind in (("RCV-01", "receiving"), ("A-01", "storage"), ("A-02", "storage"), (STAGING, "staging")):
        approved("location", code=code, name_zh=code, name_en=code, warehouse="WH1", location_type=kind)
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    kg = Unit.objects.get(code="kg")
    supplier = Supplier.objects.get(code="SUP-01")
    locations = {loc.code: loc for loc in Location.objects.all()}
    now = clock.now()
    today = now.date()
    codes = [f"BM-{n:05d}" for n in range(materials)]
    with transaction.atomic():
        Material.objects.bulk_create([
            Material(code=code, name_zh=f"基准物料 {code}", name_en=f"Bench material {code}", status="approved",
                     version=1, created_at=now, created_by=steward, approved_at=now, approved_by=qa,
                     material_type="raw", base_unit=kg, shelf_life_days=1095, incoming_inspection_required=False)
            for code in codes], batch_size=2000)
    material_ids = dict(Material.objects.filter(code__in=codes).values_list("code", "pk"))
    shuffle = random.Random(4)
    for first in range(0, materials, 250):
        batch = codes[first:first + 250]
        with transaction.atomic():
            made = Lot.objects.bulk_create([
                Lot(number=f"B{material_ids[code]:05d}{n:02d}", material_id=material_ids[code], status="released",
                    supplier=supplier, supplier_lot=f"S-{n}", manufactured_on=today - dt.timedelta(days=400),
                    expires_on=today + dt.timedelta(days=60 + shuffle.randrange(900)),
                    received_at=now - dt.timedelta(days=400 - n), received_by=clerk, status_changed_at=now)
                for code in batch for n in range(lots)], batch_size=5000)
            containers = Container.objects.bulk_create([
                Container(lot=lot, serial=serial, code=f"{lot.number}-{serial:03d}", created_at=now)
                for lot in made for serial in range(1, CONTAINERS_PER_LOT + 1)], batch_size=5000)
            StockBalance.objects.bulk_create([
                StockBalance(container=c, lot=c.lot, material_id=c.lot.material_id,
                             location=locations[STORAGE[c.lot.material_id % 2]], unit=kg,
                             on_hand=HOT_KG if c.lot.material_id == material_ids[codes[0]] else EACH_KG,
                             updated_at=now) for c in containers], batch_size=5000)
    log("  lots, containers and balances written; now the ledger history")
    with connection.cursor() as cursor:
        # One receipt per container (the balances hold exactly that), then count-gain / count-loss pairs.
        cursor.execute(
            "INSERT INTO inventory_movement (movement_type, material_id, lot_id, container_id, from_location_id, "
            "to_location_id, quantity, unit_id, reason_code, reason, reference, actor_id, occurred_at, "
            "correlation_id) SELECT 'receipt', material_id, lot_id, container_id, NULL, location_id, on_hand, "
            "unit_id, '', '', 'PO-BENCH', %s, %s, '' FROM inventory_stockbalance ORDER BY id",
            [clerk.pk, now - dt.timedelta(days=400)])
        receipts = cursor.rowcount
        pairs = max(0, (movements - receipts) // 2)
        if pairs:
            cursor.execute(
                "WITH rows AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, material_id, lot_id, container_id, "
                "location_id, unit_id FROM inventory_stockbalance), total AS (SELECT count(*) AS c FROM rows) "
                "INSERT INTO inventory_movement (movement_type, material_id, lot_id, container_id, from_location_id, "
                "to_location_id, quantity, unit_id, reason_code, reason, reference, actor_id, occurred_at, "
                "correlation_id) "
                "SELECT CASE WHEN s.k = 0 THEN 'count_gain' ELSE 'count_loss' END, r.material_id, r.lot_id, "
                "r.container_id, CASE WHEN s.k = 1 THEN r.location_id END, CASE WHEN s.k = 0 THEN r.location_id END, "
                "0.5, r.unit_id, 'count_difference', 'bench history', 'CC-BENCH', %s, "
                "%s + (g * interval '20 seconds') + (s.k * interval '1 second'), '' "
                "FROM generate_series(0, %s - 1) AS g CROSS JOIN (VALUES (0), (1)) AS s(k) "
                "JOIN rows r ON r.n = g %% (SELECT c FROM total) ORDER BY g, s.k",
                [clerk.pk, now - dt.timedelta(days=390), pairs])
        cursor.execute("ANALYZE")
    world = World(clerk=clerk, materials=codes, material_ids=material_ids, kg_id=kg.pk,
                  staging_id=locations[STAGING].pk)
    world.sizes = {"materials": materials, "lots": count_rows("inventory_lot"),
                   "containers": count_rows("inventory_container"), "balances": count_rows("inventory_stockbalance"),
                   "movements_before": count_rows("inventory_movement")}
    return world


# --------------------------------------------------------------------------------------------------
# The two ways of posting
# --------------------------------------------------------------------------------------------------

@dataclass
class Lane:
    """One thread's stream of materials (the hot one, or its own random draw from all)."""

    number: int
    materials: list[str]
    hot: bool
    rng: random.Random
    done: int = 0

    def next_material(self) -> str:
        self.done += 1
        return self.materials[0] if self.hot else self.rng.choice(self.materials)

    def order(self, variant: str) -> str:
        return f"B-{variant[0]}{self.number:02d}-{self.done:06d}"


def service_posting(world: World) -> Callable[[Lane], None]:
    from batchline.inventory.allocation import request_material
    from batchline.inventory.models import PickTask
    from batchline.inventory.picking import confirm_pick

    def post(lane: Lane) -> None:
        material = lane.next_material()
        made = request_material(actor=world.clerk, order_ref=lane.order("service"), material_code=material,
                                quantity="1", unit="kg", need_by=today(), to_location=STAGING)
        task_id, container = PickTask.objects.filter(request=made).values_list("pk", "container__code").get()
        confirm_pick(actor=world.clerk, task_id=task_id, scanned=container)

    return post


def today() -> Any:
    from batchline.inventory.usability import today as site_today

    return site_today()


LOCK_LOTS = (
    "SELECT l.id FROM inventory_lot l WHERE l.material_id = %(material)s AND l.status = 'released' "
    "AND (l.expires_on IS NULL OR l.expires_on > %(day)s) AND (l.retest_on IS NULL OR l.retest_on > %(day)s) "
    "AND l.id IN (SELECT b.lot_id FROM inventory_stockbalance b JOIN masterdata_location loc ON loc.id = b.location_id "
    "WHERE b.material_id = %(material)s AND loc.location_type IN ('storage', 'receiving', 'quarantine') "
    "AND b.on_hand > b.reserved) ORDER BY l.id FOR KEY SHARE"
)
LOCK_ROWS = (
    "SELECT b.id, b.lot_id, b.container_id, b.location_id, b.on_hand - b.reserved, l.expires_on, l.received_at "
    "FROM inventory_stockbalance b JOIN inventory_lot l ON l.id = b.lot_id "
    "JOIN masterdata_location loc ON loc.id = b.location_id "
    "WHERE b.material_id = %(material)s AND b.lot_id = ANY(%(lots)s) "
    "AND loc.location_type IN ('storage', 'receiving', 'quarantine') AND b.on_hand > b.reserved "
    "ORDER BY b.id FOR UPDATE OF b"
)


def raw_posting(world: World) -> Callable[[Lane], None]:
    """The same locks, updates and inserts of the stock rows as the service, in plain SQL."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    quantity = Decimal(1)

    def post(lane: Lane) -> None:
        material = world.material_ids[lane.next_material()]
        day = today()
        with transaction.atomic(), connection.cursor() as cursor:  # allocate
            cursor.execute(LOCK_LOTS, {"material": material, "day": day})
            lots = [row[0] for row in cursor.fetchall()]
            cursor.execute(LOCK_ROWS, {"material": material, "lots": lots})
            rows = cursor.fetchall()
            # FEFO, then the smallest row that covers the quantity (the service's plan for one row)
            covering = [r for r in rows if r[4] >= quantity]
            row = min(covering, key=lambda r: (r[5] or dt.date.max, r[6], r[1], r[4], r[0]))
            balance_id, lot_id, container_id, location_id = row[0], row[1], row[2], row[3]
            now = timezone.now()
            cursor.execute("UPDATE inventory_stockbalance SET reserved = reserved + %s, updated_at = %s WHERE id = %s",
                           [quantity, now, balance_id])
            cursor.execute(
                "INSERT INTO inventory_materialrequest (order_ref, source_system, material_id, lot_id, quantity, "
                "unit_id, need_by, to_location_id, status, allocated_quantity, picked_quantity, created_at, "
                "created_by_id) VALUES (%s, 'BATCHLINE', %s, NULL, %s, %s, %s, %s, 'allocated', %s, 0, %s, %s) "
                "RETURNING id", [lane.order("raw"), material, quantity, world.kg_id, day, world.staging_id, quantity,
                                 now, world.clerk.pk])
            request_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO inventory_picktask (request_id, lot_id, container_id, from_location_id, quantity, "
                "status, picked_quantity, picked_container_id, created_at, done_at, done_by_id) "
                "VALUES (%s, %s, %s, %s, %s, 'open', 0, NULL, %s, NULL, NULL) RETURNING id",
                [request_id, lot_id, container_id, location_id, quantity, now])
            task_id = cursor.fetchone()[0]
        with transaction.atomic(), connection.cursor() as cursor:  # pick, splitting the container
            cursor.execute("SELECT id, number FROM inventory_lot WHERE id = %s FOR NO KEY UPDATE", [lot_id])
            lot_number = cursor.fetchone()[1]
            cursor.execute("SELECT id FROM inventory_materialrequest WHERE id = %s FOR UPDATE", [request_id])
            cursor.execute("SELECT id FROM inventory_picktask WHERE id = %s FOR UPDATE", [task_id])
            cursor.execute("SELECT on_hand, reserved FROM inventory_stockbalance WHERE id = %s FOR UPDATE",
                           [balance_id])
            cursor.execute("SELECT max(serial) FROM inventory_container WHERE lot_id = %s", [lot_id])
            serial = cursor.fetchone()[0] + 1
            now = timezone.now()
            cursor.execute(
                "INSERT INTO inventory_container (lot_id, serial, code, split_from_id, created_at, labels_printed) "
                "VALUES (%s, %s, %s, %s, %s, 0) RETURNING id",
                [lot_id, serial, f"{lot_number}-{serial:03d}", container_id, now])
            new_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO inventory_stockbalance (container_id, lot_id, material_id, location_id, unit_id, on_hand, "
                "reserved, updated_at) VALUES (%s, %s, %s, %s, %s, 0, 0, %s), (%s, %s, %s, %s, %s, %s, 0, %s)",
                [new_id, lot_id, material, location_id, world.kg_id, now,
                 new_id, lot_id, material, world.staging_id, world.kg_id, quantity, now])
            cursor.execute("UPDATE inventory_stockbalance SET on_hand = on_hand - %s, reserved = reserved - %s, "
                           "updated_at = %s WHERE id = %s", [quantity, quantity, now, balance_id])
            reference = f"{lane.order('raw')} #{request_id}"[:60]
            moves = [("split_out", container_id, location_id, None), ("split_in", new_id, None, location_id),
                     ("pick", new_id, location_id, world.staging_id)]
            cursor.execute(
                "INSERT INTO inventory_movement (movement_type, material_id, lot_id, container_id, from_location_id, "
                "to_location_id, quantity, unit_id, reason_code, reason, reference, actor_id, occurred_at, "
                "correlation_id) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, '', '', %s, %s, %s, '')"] * 3),
                [value for kind, container, source, target in moves
                 for value in (kind, material, lot_id, container, source, target, quantity, world.kg_id, reference,
                               world.clerk.pk, now)])
            cursor.execute("UPDATE inventory_picktask SET status = 'done', picked_quantity = %s, picked_container_id = "
                           "%s, done_at = %s, done_by_id = %s WHERE id = %s",
                           [quantity, new_id, now, world.clerk.pk, task_id])
            cursor.execute("UPDATE inventory_materialrequest SET picked_quantity = %s, status = 'picked' WHERE id = %s",
                           [quantity, request_id])

    return post


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------

@dataclass
class Measured:
    counts: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, count: int, seconds: float) -> None:
        self.counts.append(count)
        self.seconds.append(seconds)

    @property
    def rate(self) -> float:
        return sum(self.counts) / sum(self.seconds) if sum(self.seconds) else 0.0

    def round_rates(self) -> list[float]:
        return [c / s if s else 0.0 for c, s in zip(self.counts, self.seconds, strict=True)]


def ratio(subject: Measured, baseline: Measured) -> dict[str, float]:
    """Subject rate / baseline rate per round; the median and the range."""
    ratios = sorted(s / b for s, b in zip(subject.round_rates(), baseline.round_rates(), strict=True) if b)
    return {"median": statistics.median(ratios), "low": ratios[0], "high": ratios[-1]}


def run_phase(post: Callable[[Lane], None], lanes: list[Lane], per_thread: int, time_cap: float,
              into: Measured) -> None:
    """Each lane's thread makes `per_thread` postings (fewer once the time cap passes); wall time of all."""
    from django.db import connection, connections

    ready = threading.Barrier(len(lanes) + 1)
    ends: list[float] = []
    latencies: list[list[float]] = [[] for _ in lanes]
    errors: list[BaseException] = []
    stop_at = time.perf_counter() + time_cap

    def work(index: int, lane: Lane) -> None:
        try:
            connection.ensure_connection()  # connecting is not part of a posting
            ready.wait()
            for _ in range(per_thread):
                started = time.perf_counter()
                post(lane)
                finished = time.perf_counter()
                latencies[index].append(finished - started)
                if finished > stop_at:
                    break
            ends.append(time.perf_counter())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            ready.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, lane)) for i, lane in enumerate(lanes)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    into.add(sum(len(own) for own in latencies), max(ends) - started)
    for own in latencies:
        into.latencies.extend(own)


def bench(world: World, mode: str, threads: int, postings: int, rounds: int, time_cap: float) -> dict[str, Any]:
    lanes = [Lane(n, world.materials, mode == "hot", random.Random(f"{mode}-{threads}-{n}")) for n in range(threads)]
    variants = {"service": service_posting(world), "raw": raw_posting(world)}
    for post in variants.values():  # warm-up: connections, caches, statement plans; not counted
        run_phase(post, lanes, WARMUP_PER_THREAD, time_cap, Measured())
    per_thread = max(1, postings // threads)
    measured = {name: Measured() for name in variants}
    for round_number in range(rounds):
        for name in rotated(list(variants), round_number):
            run_phase(variants[name], lanes, per_thread, time_cap, measured[name])
    service, raw = measured["service"], measured["raw"]
    log(f"  {mode}, {threads} thread(s): service {service.rate:.1f}/s, raw {raw.rate:.1f}/s, "
        f"service p99 {percentile(service.latencies, 0.99) * 1000:.0f} ms")
    return {
        "mode": mode, "threads": threads, "postings": {name: sum(m.counts) for name, m in measured.items()},
        "rates": {name: m.rate for name, m in measured.items()},
        "ratio": ratio(service, raw),
        "service_p50_ms": percentile(service.latencies, 0.50) * 1000,
        "service_p99_ms": percentile(service.latencies, 0.99) * 1000,
        "raw_p50_ms": percentile(raw.latencies, 0.50) * 1000,
        "raw_p99_ms": percentile(raw.latencies, 0.99) * 1000,
    }


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

def shown(measured: dict[str, float]) -> str:
    return f"{measured['median']:.2f} [{measured['low']:.2f}–{measured['high']:.2f}]"


def print_report(result: dict[str, Any], argv: list[str], load: tuple[float, float], wall: float) -> None:
    print()
    print(f"Command: .venv/bin/python bench/warehouse.py{' ' + shlex.join(argv) if argv else ''}")
    print(f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, {platform.platform()}; "
          f"1-minute load average {load[0]:.1f} before, {load[1]:.1f} after; wall time {wall / 60:.1f} min")
    if "skipped" in result or "failed" in result:
        print(f"postgres: {result.get('skipped') or result.get('failed')}")
        return
    sizes = result["sizes"]
    print(f"Database: {result['server']}; {sizes['materials']:,} materials, {sizes['lots']:,} lots, "
          f"{sizes['containers']:,} containers, {sizes['balances']:,} balance rows, "
          f"{sizes['movements_before']:,} prior movements ({sizes['movements_after']:,} after the run); "
          f"generated in {result['setup_seconds']:.0f} s")
    print()
    print("FEFO allocate + pick postings (request_material + confirm_pick, 1 kg, split) vs raw SQL, same run.")
    print("Rates are totals over the rounds; ratios are the median of per-round ratios [lowest–highest].")
    print()
    print("| workload | threads | service/s | p50 ms | p99 ms | raw SQL/s | p50 ms | p99 ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in result["runs"]:
        print(f"| {run['mode']} | {run['threads']} | {run['rates']['service']:,.1f} | {run['service_p50_ms']:.0f} | "
              f"{run['service_p99_ms']:.0f} | {run['rates']['raw']:,.1f} | {run['raw_p50_ms']:.0f} | "
              f"{run['raw_p99_ms']:.0f} | **{shown(run['ratio'])}** |")
    print()
    print(f"Aim (issue 4): service >= {AIM_RATIO:.0%} of the raw-SQL rate; p99 < {AIM_P99_MS:.0f} ms at 32 threads.")
    for run in result["runs"]:
        met = "met" if run["ratio"]["median"] >= AIM_RATIO else "missed"
        line = f"  {run['mode']}, {run['threads']} thread(s): ratio {met} ({shown(run['ratio'])})"
        if run["threads"] == 32:
            verdict = "met" if run["service_p99_ms"] < AIM_P99_MS else "missed"
            line += f"; p99 {verdict} ({run['service_p99_ms']:.0f} ms)"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
