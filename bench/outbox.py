"""Outbox benchmark (issue 3): what the transactional outbox and the relay cost, as ratios against
publishing the same messages directly with the client library, in the same run.

    .venv/bin/python bench/outbox.py              # RabbitMQ and webhook, PostgreSQL, 1 and 2 relays
    .venv/bin/python bench/outbox.py --quick      # a short look (fewer events, one round)
    .venv/bin/python bench/outbox.py --help

Throughput. A producer commits N events, one business transaction each (`core.outbox.emit`, as a
service does), while `batchline worker` processes (the relay, as deployed) fan them out and deliver
them. The rate is N divided by the time from the first commit to the last acknowledgement the relay
recorded. The baseline publishes the same N envelopes directly: `pika` with publisher confirms,
persistent and mandatory, to the same exchange (RabbitMQ), or `urllib` POSTs with the same headers
to the same receiver (webhook). Variants run interleaved in rounds.

Latency. The producer commits events at a fixed rate (default 500/s) for a few seconds while the
relays run; latency is `delivered_at − occurred_at` of each delivery: from the event's creation
in the business transaction to the moment the relay recorded the broker's confirm (or the
receiver's 2xx). p50 and p99 over all events.

The database is the throwaway PostgreSQL database `batchline_bench_outbox` on the loopback
interface, dropped and created by this script; RabbitMQ and the webhook receiver are on loopback
too. Timings never decide anything here: the script prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchkit import percentile, setup_django

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/batchline_bench_outbox"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
AIM_RATIO = 0.50  # issue 3: >= 50% of direct publishing throughput
AIM_P99_SECONDS = 1.0  # issue 3: p99 under 1 s at 500 events/s
EXCHANGE = "batchline.bench.outbox"
QUEUE = "batchline.bench.outbox.sink"
WAIT_CAP = 300  # seconds the bench waits for the relays to finish one phase


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Outbox benchmark (issue 3): ratios against direct publishing.")
    parser.add_argument("--transport", action="append", choices=["amqp", "webhook"],
                        help="transport(s) to measure (repeatable; default: both)")
    parser.add_argument("--events", type=int, default=3000, help="events per throughput run (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--relays", default="1,2", help="comma-separated numbers of relay processes (default 1,2)")
    parser.add_argument("--rate", type=int, default=500, help="events/s in the latency run (default 500)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run (default 10)")
    parser.add_argument("--quick", action="store_true", help="1 round, 1000 events, 5 s latency run")
    parser.add_argument("--postgres-url", default=os.environ.get("BATCHLINE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="throwaway PostgreSQL database, dropped and created (loopback only)")
    parser.add_argument("--amqp-url", default=os.environ.get("BATCHLINE_BENCH_AMQP_URL", DEFAULT_AMQP_URL),
                        help="RabbitMQ on loopback (default amqp://guest:guest@127.0.0.1:5672/)")
    args = parser.parse_args(argv)
    args.transport = args.transport or ["amqp", "webhook"]
    args.relays = [int(n) for n in str(args.relays).split(",") if n.strip()]
    if args.quick:
        args.rounds, args.events, args.seconds = 1, 1000, 5.0
    if not args.relays or min(args.relays) < 1 or args.events < 1 or args.rate < 1:
        parser.error("--relays, --events and --rate need positive numbers")
    for url in (args.postgres_url, args.amqp_url):
        host = urlsplit(url).hostname or ""
        if host not in LOOPBACK_HOSTS:
            parser.error(f"{url} must point at the loopback interface, not {host!r}")
    if not urlsplit(args.postgres_url).path.lstrip("/").startswith("batchline_bench"):
        parser.error("the benchmark database's name must start with batchline_bench")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Setup
# --------------------------------------------------------------------------------------------------

def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                         password=parts.password, dbname="postgres", connect_timeout=3, autocommit=True) as admin:
        name = parts.path.lstrip("/")
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Receiver:
    """A webhook receiver on loopback that answers 200 to every POST and counts them."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:  # the name http.server dispatches to
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner.lock:
                    owner.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/batchline"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def declare_sink(amqp_url: str) -> None:
    """A durable exchange with one queue bound for every routing key, emptied (the broker must have
    somewhere to put the messages, or mandatory publishing returns them)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(QUEUE, durable=True)
    channel.queue_bind(QUEUE, EXCHANGE, routing_key="#")
    channel.queue_purge(QUEUE)
    connection.close()


def purge_sink(amqp_url: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().queue_purge(QUEUE)
    connection.close()


def use_destination(transport: str, receiver: Receiver, amqp_url: str) -> None:
    """Exactly one active destination: the transport being measured."""
    from batchline.core import clock
    from batchline.core.models import Destination

    Destination.objects.update(active=False)
    fields: dict[str, Any] = ({"kind": "amqp", "url": amqp_url, "exchange": EXCHANGE} if transport == "amqp"
                              else {"kind": "webhook", "url": receiver.url, "secret": "bench-secret"})
    Destination.objects.update_or_create(code=f"bench-{transport}", defaults={
        "name": f"bench {transport}", "event_types": ["*"], "active": True, "created_at": clock.now(), **fields})


def clear_outbox() -> None:
    from batchline.core.models import Delivery, OutboxEvent

    Delivery.objects.all().delete()
    OutboxEvent.objects.all().delete()


# --------------------------------------------------------------------------------------------------
# The messages, the producer and the relays
# --------------------------------------------------------------------------------------------------

def payload(n: int) -> dict[str, Any]:
    """A material-master-sized payload: what a typical event carries."""
    return {"code": f"RM-{n:06d}", "name_zh": "微晶纤维素", "name_en": "Microcrystalline cellulose",
            "material_type": "raw", "base_unit": "kg", "storage_condition": "ambient", "shelf_life_days": 1095,
            "retest_interval_days": 365, "incoming_inspection_required": True, "gtin": "", "version": 1}


def emit_one(n: int) -> None:
    from django.db import transaction

    from batchline.core import outbox

    with transaction.atomic():
        outbox.emit("masterdata.material.approved", record_type="masterdata.material", record_id=n,
                    payload=payload(n))


def produce(count: int, rate: float | None) -> float:
    """Commit `count` events, one per transaction, as fast as possible or paced at `rate`/s; → start."""
    start = time.perf_counter()
    for n in range(count):
        if rate:
            due = start + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        emit_one(n)
    return start


@contextlib.contextmanager
def relays(count: int, database_url: str) -> Iterator[None]:
    """`batchline worker` processes, as deployed; stopped with SIGTERM (graceful) at the end."""
    env = {**os.environ, "BATCHLINE_DATABASE_URL": database_url, "BATCHLINE_VAR_DIR": str(BENCH_DIR),
           "BATCHLINE_DEBUG": "0"}
    command = [str(Path(sys.executable).with_name("batchline")), "worker"]
    processes = [subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
                 for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def wait_delivered(count: int) -> None:
    from batchline.core.models import Delivery, DeliveryStatus, OutboxEvent

    deadline = time.monotonic() + WAIT_CAP
    while time.monotonic() < deadline:
        if (OutboxEvent.objects.count() == count
                and Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == count):
            return
        time.sleep(0.05)
    raise SystemExit(f"the relays did not deliver {count} events within {WAIT_CAP} s")


def delivery_times() -> tuple[list[float], float]:
    """Per delivery: delivered_at − occurred_at (s); and the last delivered_at as a wall-clock time."""
    from batchline.core.models import Delivery

    rows = list(Delivery.objects.values_list("event__occurred_at", "delivered_at"))
    latencies = [(delivered - occurred).total_seconds() for occurred, delivered in rows]
    return latencies, max(delivered for _occurred, delivered in rows).timestamp()


def relayed(transport: str, events: int, relay_count: int, args: argparse.Namespace) -> dict[str, float]:
    clear_outbox()
    with relays(relay_count, args.postgres_url):
        wall_start = time.time()
        produce(events, None)
        wait_delivered(events)
    _latencies, last = delivery_times()
    elapsed = last - wall_start
    return {"events": events, "seconds": elapsed, "per_second": events / elapsed}


# --------------------------------------------------------------------------------------------------
# Direct publishing with the client library (the baseline)
# --------------------------------------------------------------------------------------------------

def bodies(count: int) -> list[tuple[dict[str, Any], bytes]]:
    """The same envelopes the relay sends, in the same canonical JSON."""
    from batchline.core import clock
    from batchline.core.canonical import canonical_json

    out = []
    for n in range(count):
        envelope = {"message_id": str(uuid.uuid4()), "event_type": "masterdata.material.approved",
                    "schema_version": "1", "occurred_at": clock.now().isoformat().replace("+00:00", "Z"),
                    "source_system": "batchline", "record_type": "masterdata.material", "record_id": str(n),
                    "correlation_id": "", "payload": payload(n)}
        out.append((envelope, canonical_json(envelope).encode()))
    return out


def direct_amqp(count: int, amqp_url: str) -> dict[str, float]:
    import pika

    messages = bodies(count)
    start = time.perf_counter()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    for envelope, body in messages:
        channel.basic_publish(EXCHANGE, envelope["event_type"], body, mandatory=True, properties=pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=envelope["message_id"],
            type=envelope["event_type"]))
    connection.close()
    elapsed = time.perf_counter() - start
    return {"events": count, "seconds": elapsed, "per_second": count / elapsed}


def direct_webhook(count: int, url: str) -> dict[str, float]:
    from batchline.integration import signing

    messages = bodies(count)
    start = time.perf_counter()
    for envelope, body in messages:
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Batchline-Message-Id": envelope["message_id"],
                   signing.SIGNATURE_HEADER: signing.sign(body, "bench-secret")}
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    elapsed = time.perf_counter() - start
    return {"events": count, "seconds": elapsed, "per_second": count / elapsed}


# --------------------------------------------------------------------------------------------------
# Runs and report
# --------------------------------------------------------------------------------------------------

def throughput(transport: str, receiver: Receiver, args: argparse.Namespace) -> dict[str, Any]:
    use_destination(transport, receiver, args.amqp_url)
    runs: dict[str, list[dict[str, float]]] = {"direct": []}
    runs.update({f"relay x{n}": [] for n in args.relays})
    for round_number in range(args.rounds):
        names = list(runs)
        names = names[round_number % len(names):] + names[:round_number % len(names)]  # rotate the order
        for name in names:
            if transport == "amqp":
                purge_sink(args.amqp_url)
            if name == "direct":
                measured = (direct_amqp(args.events, args.amqp_url) if transport == "amqp"
                            else direct_webhook(args.events, receiver.url))
            else:
                measured = relayed(transport, args.events, int(name.split("x")[1]), args)
            log(f"{transport} round {round_number + 1} {name}: {measured['per_second']:.0f} events/s")
            runs[name].append(measured)
    totals = {name: sum(r["events"] for r in rs) / sum(r["seconds"] for r in rs) for name, rs in runs.items()}
    return {name: {"per_second": rate, "ratio": rate / totals["direct"]} for name, rate in totals.items()}


def latency(transport: str, receiver: Receiver, args: argparse.Namespace, relay_count: int) -> dict[str, Any]:
    use_destination(transport, receiver, args.amqp_url)
    if transport == "amqp":
        purge_sink(args.amqp_url)
    clear_outbox()
    count = int(args.rate * args.seconds)
    with relays(relay_count, args.postgres_url):
        start = time.perf_counter()
        produce(count, args.rate)
        produced = count / (time.perf_counter() - start)
        wait_delivered(count)
    latencies, _last = delivery_times()
    return {"relays": relay_count, "target_rate": args.rate, "produced_rate": produced, "events": count,
            "p50_ms": percentile(latencies, 0.50) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": max(latencies) * 1000, "mean_ms": statistics.fmean(latencies) * 1000}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    recreate_database(args.postgres_url)
    setup_django(args.postgres_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    receiver = Receiver()
    if "amqp" in args.transport:
        declare_sink(args.amqp_url)
    load = os.getloadavg()[0]
    results = {}
    for transport in args.transport:
        results[transport] = {"throughput": throughput(transport, receiver, args),
                              "latency": latency(transport, receiver, args, max(args.relays))}
    print_report(results, server, argv if argv is not None else sys.argv[1:], (load, os.getloadavg()[0]))
    return 0


def print_report(results: dict[str, Any], server: str, argv: list[str], load: tuple[float, float]) -> None:
    print(f"\nOutbox benchmark — PostgreSQL {server}, {os.cpu_count()} CPUs, load {load[0]:.1f} → {load[1]:.1f}")
    print(f"command: .venv/bin/python bench/outbox.py {' '.join(argv)}".rstrip())
    for transport, result in results.items():
        print(f"\n{transport}: throughput (events committed and acknowledged per second)")
        for name, figures in result["throughput"].items():
            aim = "" if name == "direct" else ("  aim ≥ 50%: met" if figures["ratio"] >= AIM_RATIO
                                               else "  aim ≥ 50%: NOT met")
            print(f"  {name:<10} {figures['per_second']:8.0f}/s  ratio {figures['ratio']:.2f}{aim}")
        lat = result["latency"]
        verdict = "met" if lat["p99_ms"] < AIM_P99_SECONDS * 1000 else "NOT met"
        print(f"{transport}: latency at {lat['target_rate']}/s (produced {lat['produced_rate']:.0f}/s, "
              f"{lat['events']} events, {lat['relays']} relays): p50 {lat['p50_ms']:.0f} ms, "
              f"p99 {lat['p99_ms']:.0f} ms, max {lat['max_ms']:.0f} ms  aim p99 < 1 s: {verdict}")
    print("\n" + json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    raise SystemExit(main())
