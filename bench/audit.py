"""Audit-trail benchmark (issue 2): what the audit trail costs, as ratios against baselines run alongside.

    .venv/bin/python bench/audit.py            # the full suite: SQLite and PostgreSQL, 1 and 8 threads
    .venv/bin/python bench/audit.py --help     # sizes, one database, fewer threads

Writes. An *audited write* is a real business action through the service layer:
`masterdata.services.update_draft` renames a draft unit, which checks the permission, parses the
input, locks the item, saves it, and in the same transaction appends the hash-chained audit entry
and moves the record's chain head. Two baselines are measured in the same run, interleaved with it:

- *same rows*: each transaction writes the same three rows with raw SQL and the same commit
  pattern (UPDATE of the item, INSERT of the audit entry, UPDATE of the chain head), without the
  service layer: no permission check, no parsing, no locking reads, no hashing;
- *business row only*: each transaction is one plain INSERT of one item-sized row and nothing else.

Verification. `compliance.integrity.verify()` over a generated trail (default 100,000 entries in
10,000 chains, sealed) against *read + hash*: the same query over the same rows computing
`chain.entry_digest` (the same canonical bytes, the same SHA-256) without any check, and against
*hashlib only*: SHA-256 over those bytes pre-built in memory.

Every database is a throwaway one that this script creates: an SQLite file under var/bench/ and
the PostgreSQL database `batchline_bench` on the loopback interface (skipped with a message when
PostgreSQL is not reachable). Django settings are process-wide, so each database is measured in
its own subprocess (`--worker`); the driver collects their JSON and prints the tables.

Timings never decide anything here: the script reports figures, it asserts nothing about them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchkit import percentile, recreate_postgres_database, rotated, server_version, setup_django

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
SQLITE_FILE = BENCH_DIR / "audit.sqlite3"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/batchline_bench"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
AIM = 0.50  # issue 2: audited writes >= 50% of the plain rate; verification >= 50% of raw hashing
DEFAULT_WRITES = {"sqlite": 2000, "postgres": 3000}
ITEMS_PER_THREAD = 25
WARMUP_PER_THREAD = 20
PASSWORD = "Bench-Audit-2026!x"


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Audit-trail benchmark (issue 2): ratios against baselines.")
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"],
                        help="database(s) to measure (repeatable; default: both)")
    parser.add_argument("--threads", default="1,8", help="comma-separated thread counts (default 1,8)")
    parser.add_argument("--writes", type=int, default=None,
                        help="writes per variant and thread count (default: 2000 SQLite, 3000 PostgreSQL)")
    parser.add_argument("--entries", type=int, default=100_000,
                        help="audit entries to verify (default 100000)")
    parser.add_argument("--rounds", type=int, default=10,
                        help="interleaved rounds of the write variants (default 10)")
    parser.add_argument("--verify-rounds", type=int, default=5,
                        help="interleaved rounds of the verification variants (default 5)")
    parser.add_argument("--time-cap", type=float, default=120.0,
                        help="seconds one variant may run in one round before it stops early (default 120)")
    parser.add_argument("--postgres-url", default=os.environ.get("BATCHLINE_BENCH_POSTGRES_URL",
                                                                 DEFAULT_POSTGRES_URL),
                        help="throwaway PostgreSQL database, dropped and created (loopback only)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.db = args.db or ["sqlite", "postgres"]
    args.threads = [int(t) for t in str(args.threads).split(",") if t.strip()]
    if not args.threads or min(args.threads) < 1:
        parser.error("--threads needs positive numbers")
    host = urlsplit(args.postgres_url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        parser.error(f"--postgres-url must point at the loopback interface, not {host!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        (database,) = args.db
        print(json.dumps(run_worker(database, args)))
        return 0
    load_before = os.getloadavg()[0]
    results = [run_in_subprocess(database, args) for database in args.db]
    print_report(results, argv if argv is not None else sys.argv[1:], (load_before, os.getloadavg()[0]))
    return 0


def run_in_subprocess(database: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", database,
               "--threads", ",".join(str(t) for t in args.threads), "--entries", str(args.entries),
               "--rounds", str(args.rounds), "--verify-rounds", str(args.verify_rounds),
               "--time-cap", str(args.time_cap),
               "--postgres-url", args.postgres_url]
    if args.writes is not None:
        command += ["--writes", str(args.writes)]
    log(f"== {database}: {shlex.join(command[1:])}")
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        return {"database": database, "failed": f"worker exited with status {done.returncode} (see above)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Worker: one database, in its own process
# --------------------------------------------------------------------------------------------------

def run_worker(database: str, args: argparse.Namespace) -> dict[str, Any]:
    if database == "postgres":
        problem = recreate_postgres_database(args.postgres_url)
        if problem:
            log(f"PostgreSQL skipped: {problem}")
            return {"database": database, "skipped": problem}
        url = args.postgres_url
    else:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        for path in (SQLITE_FILE, Path(f"{SQLITE_FILE}-wal"), Path(f"{SQLITE_FILE}-shm")):
            path.unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_FILE}"
    setup_django(url)

    from django.core.management import call_command

    log(f"{database}: migrating a fresh database")
    call_command("migrate", verbosity=0)
    steward = make_steward()
    result: dict[str, Any] = {"database": database, "server": server_version()}
    result["verification"] = bench_verification(steward, args.entries, args.verify_rounds)
    writes = args.writes or DEFAULT_WRITES[database]
    lanes = make_lanes(steward, max(args.threads))
    result["writes"] = [bench_writes(steward, lanes[:threads], writes, args.rounds, args.time_cap)
                        for threads in args.threads]
    return result


def make_steward() -> Any:
    from batchline.identity import services

    return services.create_user(actor=None, username="bench.steward", full_name="王明 Wang Ming (bench)",
                                roles=["data_steward"], initial_password=PASSWORD)


# --------------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------------

@dataclass
class Lane:
    """One thread's own draft items, so that threads never contend on one record."""

    number: int
    item_ids: list[int]
    codes: list[str]
    names: list[str]  # current name_en of each item
    sequences: list[int]  # current length of each item's audit chain
    writes: int = 0

    def next_slot(self) -> int:
        self.writes += 1
        return self.writes % len(self.item_ids)

    def new_name(self, slot: int) -> str:
        return f"Bench unit {self.number}-{slot} revision {self.writes}"


def make_lanes(steward: Any, count: int) -> list[Lane]:
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    unit = kind_of("unit")
    lanes = []
    for number in range(count):
        lane = Lane(number, [], [], [], [])
        for slot in range(ITEMS_PER_THREAD):
            code = f"BU{number:02d}-{slot:03d}"
            name = f"Bench unit {number}-{slot}"
            item = services.create_item(actor=steward, kind=unit, data={
                "code": code, "name_zh": f"基准单位 {number}-{slot}", "name_en": name, "symbol": "bu",
                "dimension": "count", "factor": "1"})
            lane.item_ids.append(item.pk)
            lane.codes.append(code)
            lane.names.append(name)
            lane.sequences.append(1)  # create_item wrote the chain's first entry
        lanes.append(lane)
    return lanes


def audited_write(steward: Any) -> Callable[[Lane], None]:
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    unit = kind_of("unit")

    def write(lane: Lane) -> None:
        slot = lane.next_slot()
        name = lane.new_name(slot)
        services.update_draft(actor=steward, kind=unit, item_id=lane.item_ids[slot], data={"name_en": name})
        lane.names[slot] = name
        lane.sequences[slot] += 1

    return write


INSERT_ENTRY = (
    "INSERT INTO compliance_auditentry (occurred_at, actor_id, actor_username, actor_name, action, "
    "record_type, record_id, record_label, sequence, changes, reason, signature_id, correlation_id, "
    "prev_hash, entry_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
UPDATE_HEAD = ("UPDATE compliance_auditchainhead SET sequence = %s, head_hash = %s "
               "WHERE record_type = %s AND record_id = %s")
INSERT_UNIT = (
    "INSERT INTO masterdata_unit (code, name_zh, name_en, status, version, created_at, created_by_id, "
    "approved_at, approved_by_id, dimension, factor, symbol) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# The baselines do no hashing: a fixed 64-character value stands where a digest would be.
PLACEHOLDER_HASH = "f" * 64


def same_rows_write(steward: Any) -> Callable[[Lane], None]:
    """The rows an audited write leaves behind, written with raw SQL in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    def write(lane: Lane) -> None:
        slot = lane.next_slot()
        name = lane.new_name(slot)
        record_id = str(lane.item_ids[slot])
        sequence = lane.sequences[slot] + 1
        changes = json.dumps({"name_en": [lane.names[slot], name]}, ensure_ascii=False, separators=(",", ":"))
        occurred_at = connection.ops.adapt_datetimefield_value(timezone.now())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE masterdata_unit SET name_en = %s WHERE id = %s",
                           [name, lane.item_ids[slot]])
            cursor.execute(INSERT_ENTRY, [
                occurred_at, steward.pk, steward.username, steward.full_name, "update", "masterdata.unit",
                record_id, lane.codes[slot], sequence, changes, "", None, uuid.uuid4().hex,
                PLACEHOLDER_HASH, PLACEHOLDER_HASH])
            cursor.execute(UPDATE_HEAD, [sequence, PLACEHOLDER_HASH, "masterdata.unit", record_id])
        lane.names[slot] = name
        lane.sequences[slot] = sequence

    return write


def same_rows_orm_write(steward: Any) -> Callable[[Lane], None]:
    """The same rows through Django's ORM but without the service layer: no permission check, no
    parsing, no row lock, no hashing. Audited / this is the price of the service layer itself;
    this / raw SQL is the price of the ORM."""
    from django.db import transaction
    from django.utils import timezone

    from batchline.compliance.models import AuditChainHead, AuditEntry
    from batchline.masterdata.models import Unit

    def write(lane: Lane) -> None:
        slot = lane.next_slot()
        name = lane.new_name(slot)
        record_id = str(lane.item_ids[slot])
        sequence = lane.sequences[slot] + 1
        changes = json.dumps({"name_en": [lane.names[slot], name]}, ensure_ascii=False, separators=(",", ":"))
        with transaction.atomic():
            Unit.objects.filter(pk=lane.item_ids[slot]).update(name_en=name)
            AuditEntry.objects.create(
                occurred_at=timezone.now(), actor=steward, actor_username=steward.username,
                actor_name=steward.full_name, action="update", record_type="masterdata.unit", record_id=record_id,
                record_label=lane.codes[slot], sequence=sequence, changes=changes, reason="",
                correlation_id=uuid.uuid4().hex, prev_hash=PLACEHOLDER_HASH, entry_hash=PLACEHOLDER_HASH)
            AuditChainHead.objects.filter(record_type="masterdata.unit", record_id=record_id).update(
                sequence=sequence, head_hash=PLACEHOLDER_HASH)
        lane.names[slot] = name
        lane.sequences[slot] = sequence

    return write


def business_row_write(steward: Any) -> Callable[[Lane], None]:
    """The stricter baseline: one plain INSERT of one item-sized row per transaction, nothing else."""
    from django.db import connection, transaction
    from django.utils import timezone

    def write(lane: Lane) -> None:
        lane.writes += 1
        created_at = connection.ops.adapt_datetimefield_value(timezone.now())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT_UNIT, [
                f"BP{lane.number:02d}-{lane.writes:07d}", f"基准单位 {lane.number}", lane.new_name(0),
                "draft", 1, created_at, steward.pk, None, None, "count", "1", "bu"])

    return write


@dataclass
class Measured:
    """What one variant did, round by round: counts (writes or entries) and seconds."""

    counts: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def add(self, count: int, seconds: float) -> None:
        self.counts.append(count)
        self.seconds.append(seconds)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def rate(self) -> float:
        return sum(self.counts) / sum(self.seconds)

    def round_rates(self) -> list[float]:
        return [count / seconds for count, seconds in zip(self.counts, self.seconds, strict=True)]


def ratio(subject: Measured, baseline: Measured) -> dict[str, float]:
    """Subject rate / baseline rate per round (the two ran minutes apart at most); median and range.

    The median of per-round ratios shrugs off a round in which a neighbour's job stole the CPU
    from one variant; the range shows how noisy the run was."""
    ratios = sorted(s / b for s, b in zip(subject.round_rates(), baseline.round_rates(), strict=True))
    return {"median": statistics.median(ratios), "low": ratios[0], "high": ratios[-1]}


def run_phase(write: Callable[[Lane], None], lanes: list[Lane], per_thread: int, time_cap: float,
              into: Measured) -> None:
    """Each lane's thread does `per_thread` writes (fewer if the time cap passes); wall time of all."""
    from django.db import connection, connections

    ready = threading.Barrier(len(lanes) + 1)
    ends: list[float] = []
    latencies: list[list[float]] = [[] for _ in lanes]
    errors: list[BaseException] = []
    stop_at = time.perf_counter() + time_cap

    def work(index: int, lane: Lane) -> None:
        try:
            connection.ensure_connection()  # connecting is not part of a write
            ready.wait()
            for _ in range(per_thread):
                started = time.perf_counter()
                write(lane)
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
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed: its error is raised below
        ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    into.add(sum(len(own) for own in latencies), max(ends) - started)
    for own in latencies:
        into.latencies.extend(own)


def bench_writes(steward: Any, lanes: list[Lane], writes: int, rounds: int,
                 time_cap: float) -> dict[str, Any]:
    threads = len(lanes)
    variants = {"audited": audited_write(steward), "same_rows": same_rows_write(steward),
                "same_rows_orm": same_rows_orm_write(steward), "business_row": business_row_write(steward)}
    for write in variants.values():  # warm-up: connections, caches, statement plans; not counted
        run_phase(write, lanes, WARMUP_PER_THREAD, time_cap, Measured())
    per_thread = max(1, writes // (threads * rounds))
    measured = {name: Measured() for name in variants}
    for round_number in range(rounds):
        for name in rotated(list(variants), round_number):
            run_phase(variants[name], lanes, per_thread, time_cap, measured[name])
    log(f"  {threads} thread(s): {rounds} rounds done")
    audited = measured["audited"]
    return {
        "threads": threads,
        "writes": {name: m.total for name, m in measured.items()},
        "rates": {name: m.rate for name, m in measured.items()},
        "ratio_same_rows": ratio(audited, measured["same_rows"]),
        "ratio_same_rows_orm": ratio(audited, measured["same_rows_orm"]),
        "ratio_business_row": ratio(audited, measured["business_row"]),
        "p50_ms": percentile(audited.latencies, 0.50) * 1000,
        "p99_ms": percentile(audited.latencies, 0.99) * 1000,
    }


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------

CHAIN_LENGTH = 10


def build_trail(steward: Any, entries: int) -> None:
    """A sealed trail of `entries` entries in chains of CHAIN_LENGTH: material records created, then
    changed with reasons. Hashed with chain.entry_digest exactly as record_change() hashes; written in
    bulk because the subject here is reading it back, not writing it (that is the write benchmark)."""
    import datetime as dt

    from django.db import transaction

    from batchline.compliance import chain, integrity
    from batchline.compliance.models import AuditChainHead, AuditEntry
    from batchline.core.canonical import canonical_json

    start = dt.datetime(2026, 1, 5, 0, 30, tzinfo=dt.UTC)
    batch: list[AuditEntry] = []
    heads: list[AuditChainHead] = []
    for number in range(-(-entries // CHAIN_LENGTH)):
        record_id, code = str(100_000 + number), f"RM-{number:06d}"
        prev_hash = chain.GENESIS
        length = min(CHAIN_LENGTH, entries - number * CHAIN_LENGTH)
        for sequence in range(1, length + 1):
            if sequence == 1:
                action, reason = "create", ""
                changes = canonical_json({
                    "code": [None, code], "name_zh": [None, f"微晶纤维素 {number}"],
                    "name_en": [None, f"Microcrystalline cellulose {number}"],
                    "material_type": [None, "excipient"],
                    "base_unit": [None, "kg"], "storage_condition": [None, "ambient"],
                    "shelf_life_days": [None, 1095], "retest_interval_days": [None, 365],
                    "incoming_inspection_required": [None, True], "gtin": [None, ""], "drug_code": [None, ""],
                    "description": [None, ""]})
            else:
                action, reason = "change", f"CC-2026-{number:05d}: supplier specification revised"
                changes = canonical_json({"retest_interval_days": [365 + sequence - 1, 365 + sequence],
                                          "version": [sequence - 1, sequence]})
            entry = AuditEntry(
                occurred_at=start + dt.timedelta(seconds=number * CHAIN_LENGTH + sequence), actor=steward,
                actor_username=steward.username, actor_name=steward.full_name, action=action,
                record_type="masterdata.material", record_id=record_id, record_label=code, sequence=sequence,
                changes=changes, reason=reason, signature=None, correlation_id=uuid.uuid4().hex,
                prev_hash=prev_hash)
            entry.entry_hash = chain.entry_digest(
                prev_hash=prev_hash, record_type=entry.record_type, record_id=record_id, sequence=sequence,
                occurred_at=entry.occurred_at, actor_id=steward.pk, actor_username=entry.actor_username,
                actor_name=entry.actor_name, action=action, record_label=code, changes=changes, reason=reason,
                signature_id=None, correlation_id=entry.correlation_id)
            prev_hash = entry.entry_hash
            batch.append(entry)
        heads.append(AuditChainHead(record_type="masterdata.material", record_id=record_id, sequence=length,
                                    head_hash=prev_hash))
        if len(batch) >= 5000:
            with transaction.atomic():
                AuditEntry.objects.bulk_create(batch, batch_size=1000)
            batch = []
    with transaction.atomic():
        AuditEntry.objects.bulk_create(batch, batch_size=1000)
        AuditChainHead.objects.bulk_create(heads, batch_size=1000)
    integrity.seal()


def trail_rows() -> Any:
    """The query verify() runs, row for row."""
    from batchline.compliance import integrity
    from batchline.compliance.models import AuditEntry

    return (AuditEntry.objects.order_by("record_type", "record_id", "sequence", "id")
            .values_list(*integrity.ENTRY_FIELDS).iterator(chunk_size=5000))


def read_and_hash() -> int:
    """Baseline: the same query and the same canonical bytes through the same SHA-256, no checks."""
    from batchline.compliance.chain import entry_digest

    count = 0
    for (_id, rtype, rid, sequence, occurred_at, actor_id, actor_username, actor_name, action, label, changes,
         reason, signature_id, correlation_id, prev_hash, _entry_hash) in trail_rows():
        entry_digest(
            prev_hash=prev_hash, record_type=rtype, record_id=rid, sequence=sequence, occurred_at=occurred_at,
            actor_id=actor_id, actor_username=actor_username, actor_name=actor_name, action=action,
            record_label=label, changes=changes, reason=reason, signature_id=signature_id,
            correlation_id=correlation_id)
        count += 1
    return count


def prebuilt_material() -> list[bytes]:
    """The exact bytes chain.entry_digest hashes, one per entry (proved below by their digests)."""
    from batchline.compliance import chain

    materials = []
    for row in trail_rows():
        (_id, rtype, rid, sequence, occurred_at, actor_id, actor_username, actor_name, action, label, changes,
         reason, signature_id, correlation_id, prev_hash, entry_hash) = row
        material = json.dumps(
            [prev_hash, rtype, rid, sequence, chain.timestamp(occurred_at), actor_id, actor_username,
             actor_name, action, label, changes, reason, signature_id, correlation_id],
            ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if hashlib.sha256(material).hexdigest() != entry_hash:
            raise RuntimeError("the benchmark's copy of the canonical bytes differs from compliance.chain")
        materials.append(material)
    return materials


def hash_only(materials: list[bytes]) -> int:
    for material in materials:
        hashlib.sha256(material).hexdigest()
    return len(materials)


def bench_verification(steward: Any, entries: int, rounds: int) -> dict[str, Any]:
    from batchline.compliance import integrity

    log(f"  building a sealed trail of {entries} entries")
    build_trail(steward, entries)
    report = integrity.verify()
    if not report.ok:
        raise RuntimeError(f"the generated trail does not verify: {report.summary()}")
    materials = prebuilt_material()
    variants: dict[str, Callable[[], int]] = {
        "verify": lambda: integrity.verify().entries,
        "read_and_hash": read_and_hash,
        "hash_only": lambda: hash_only(materials),
    }
    measured = {name: Measured() for name in variants}
    for round_number in range(rounds):
        for name in rotated(list(variants), round_number):
            started = time.perf_counter()
            counted = variants[name]()
            measured[name].add(counted, time.perf_counter() - started)
    log(f"  verification: {rounds} rounds done")
    return {
        "entries": report.entries,
        "records": report.records,
        "rates": {name: m.rate for name, m in measured.items()},
        "ratio_read_and_hash": ratio(measured["verify"], measured["read_and_hash"]),
        "ratio_hash_only": ratio(measured["verify"], measured["hash_only"]),
    }


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

def verdict(measured: dict[str, float]) -> str:
    return f"{'met' if measured['median'] >= AIM else 'missed'} ({shown(measured)})"


def shown(measured: dict[str, float]) -> str:
    return f"{measured['median']:.2f} [{measured['low']:.2f}–{measured['high']:.2f}]"


def print_report(results: list[dict[str, Any]], argv: list[str], load: tuple[float, float]) -> None:
    print()
    print(f"Command: .venv/bin/python bench/audit.py{' ' + shlex.join(argv) if argv else ''}")
    print(f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
          f"{platform.platform()}; 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after")
    for result in results:
        if "skipped" in result or "failed" in result:
            print(f"{result['database']}: {result.get('skipped') or result.get('failed')}")
        else:
            print(f"{result['database']}: {result['server']}")
    print()
    print("Audited writes (update_draft through the service layer) vs raw-SQL baselines, same run.")
    print("Rates are totals over the rounds; ratios are the median of per-round ratios [lowest–highest].")
    print()
    print("| database | threads | audited/s | p50 ms | p99 ms | same rows/s | ratio "
          "| same rows, ORM/s | ratio | business row only/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        for w in result.get("writes", []):
            rates = w["rates"]
            print(f"| {result['database']} | {w['threads']} | {rates['audited']:,.0f} | {w['p50_ms']:.1f} | "
                  f"{w['p99_ms']:.1f} | {rates['same_rows']:,.0f} | **{shown(w['ratio_same_rows'])}** | "
                  f"{rates['same_rows_orm']:,.0f} | {shown(w['ratio_same_rows_orm'])} | "
                  f"{rates['business_row']:,.0f} | {shown(w['ratio_business_row'])} |")
    print()
    print("Verification (entries/s) vs hashing the same bytes, same run:")
    print()
    print("| database | entries | verify()/s | read + hash/s | ratio | hashlib only/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        v = result.get("verification")
        if v:
            rates = v["rates"]
            print(f"| {result['database']} | {v['entries']:,} | {rates['verify']:,.0f} | "
                  f"{rates['read_and_hash']:,.0f} | **{shown(v['ratio_read_and_hash'])}** | "
                  f"{rates['hash_only']:,.0f} | {shown(v['ratio_hash_only'])} |")
    print()
    print(f"Aim (issue 2): audited / same rows >= {AIM:.2f}; verify / (read + hash) >= {AIM:.2f} (bold).")
    for result in results:
        for w in result.get("writes", []):
            print(f"  {result['database']}, {w['threads']} thread(s): writes {verdict(w['ratio_same_rows'])}")
        if result.get("verification"):
            checked = result["verification"]["ratio_read_and_hash"]
            print(f"  {result['database']}: verification {verdict(checked)}")


if __name__ == "__main__":
    sys.exit(main())
