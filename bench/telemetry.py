"""Room-telemetry benchmark (issue 5): sensor readings ingested per second from MQTT into stored,
limit-checked readings, as a ratio of the rate at which the same process receives the same messages
without storing them.

    .venv/bin/python bench/telemetry.py            # SQLite and PostgreSQL, 5 rounds of 20,000 readings
    .venv/bin/python bench/telemetry.py --help     # sizes, one database, batch size

Both variants run the real ingestion process, environment.mqtt_ingest.MqttIngest, against the real
broker (Mosquitto on the loopback interface): an MQTT 5 persistent session, QoS 1, manual PUBACK after
each batch. They differ in one thing:

- *ingest* (the subject): each batch goes through environment.ingestion.ingest_batch — JSON decoded
  with exact decimals, checked against the sensor registry, INSERT … ON CONFLICT DO NOTHING RETURNING,
  judged against the limits in force, sensor states updated, one transaction — then acknowledged;
- *receive only* (the baseline): each batch is acknowledged and dropped.

A publisher in its own process sends the readings (100 registered sensors in 20 rooms, every value
within limits, QoS 1) and keeps at most `--window` messages ahead of what the consumer acknowledged,
because the broker drops QoS 1 messages for a subscriber whose queue is full (Mosquitto's
max_queued_messages). The rate is readings handled from the publisher's start to the last
acknowledgement. Variants run interleaved in rounds with the order rotated; a ratio is the median of
per-round ratios. Every ingest round must end with exactly `--count` new stored readings.

Every database is a throwaway one the script creates: an SQLite file under var/bench/ and the
PostgreSQL database `batchline_bench_telemetry` on the loopback interface (skipped with a message when
PostgreSQL is not reachable). Django settings are per process, so each database is measured in its
own subprocess (`--worker`). The broker is `--mqtt-url` (default mqtt://127.0.0.1:1883, loopback
only). Timings decide nothing here: the script reports figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchkit import recreate_postgres_database, rotated, server_version, setup_django

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
SQLITE_FILE = BENCH_DIR / "telemetry.sqlite3"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/batchline_bench_telemetry"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
AIM_RATIO = 0.30  # issue 5: stored readings >= 30% of the raw receive rate
AIM_POSTGRES_RATE = 2000  # and at least 2,000 readings/s on PostgreSQL
ROOMS = 20
PASSWORD = "Bench-Telemetry-2026!x"
# (parameter, value as sent) for each room's five sensors: all within every grade's limits.
SENSORS = [("temperature", "21.3"), ("humidity", "48.7"), ("dp", "12.9"), ("particles_0_5", "1830"),
           ("particles_5_0", "12")]
GRADES = ["A", "B", "C", "D"]


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Room-telemetry benchmark (issue 5): MQTT ingestion vs receive.")
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"],
                        help="database(s) to measure (repeatable; default: both)")
    parser.add_argument("--count", type=int, default=20_000, help="readings per variant and round (default 20000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--batch", type=int, default=500, help="readings per ingestion transaction (default 500)")
    parser.add_argument("--window", type=int, default=1500,
                        help="messages the publisher may be ahead of the acknowledgements (default 1500)")
    parser.add_argument("--time-cap", type=float, default=120.0,
                        help="seconds one variant may run in one round before it stops early (default 120)")
    parser.add_argument("--postgres-url", default=os.environ.get("BATCHLINE_BENCH_TELEMETRY_POSTGRES_URL",
                                                                 DEFAULT_POSTGRES_URL),
                        help="throwaway PostgreSQL database, dropped and created (loopback only)")
    parser.add_argument("--mqtt-url", default=DEFAULT_MQTT_URL, help="the broker (loopback only)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.db = args.db or ["sqlite", "postgres"]
    if args.count < 100 or args.rounds < 1 or args.batch < 1 or args.window < 10:
        parser.error("--count >= 100, --rounds >= 1, --batch >= 1, --window >= 10")
    for url in (args.postgres_url, args.mqtt_url):
        host = urlsplit(url).hostname or ""
        if host not in LOOPBACK_HOSTS:
            parser.error(f"{url!r} must point at the loopback interface, not {host!r}")
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
               "--count", str(args.count), "--rounds", str(args.rounds), "--batch", str(args.batch),
               "--window", str(args.window), "--time-cap", str(args.time_cap),
               "--postgres-url", args.postgres_url, "--mqtt-url", args.mqtt_url]
    log(f"== {database}: {shlex.join(command[1:])}")
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        return {"database": database, "failed": f"worker exited with status {done.returncode} (see above)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Publisher: its own process, no Django
# --------------------------------------------------------------------------------------------------

def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        digit, length = length % 128, length // 128
        out.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def publish(url: str, specs: list[tuple[str, str, str, str]], count: int, base_ms: int, window: int,
            acknowledged: Any, ready: Any, go: Any) -> None:
    """Send `count` readings round-robin over `specs` (topic, sensor, parameter, value) with QoS 1, never
    more than `window` ahead of `acknowledged` (a shared counter the consumer moves).

    A minimal MQTT 3.1.1 client written for this benchmark: packets are built as bytes and written in
    bulk, PUBACKs are read on a second thread. A general client (paho) publishing QoS 1 from Python
    tops out at a few thousand messages a second on this machine and would be what is measured."""
    import socket
    import threading

    address = urlsplit(url)
    sock = socket.create_connection((address.hostname or "127.0.0.1", address.port or 1883), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_id = f"bench-pub-{uuid.uuid4().hex[:8]}"
    variable = _string("MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big")  # 3.1.1, clean session, keepalive
    body = variable + _string(client_id)
    sock.sendall(bytes([0x10]) + _remaining_length(len(body)) + body)
    if sock.recv(4)[:2] != bytes([0x20, 0x02]):
        raise RuntimeError("the broker refused the publisher")
    acked = [0]
    reader_done = threading.Event()

    def read_acks() -> None:
        buffer = b""
        while acked[0] < count:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            whole = len(buffer) // 4 * 4  # PUBACK: 0x40 0x02 id id
            acked[0] += whole // 4
            buffer = buffer[whole:]
        reader_done.set()

    threading.Thread(target=read_acks, daemon=True).start()
    units = {"temperature": "°C", "humidity": "%RH", "dp": "Pa", "particles_0_5": "/m3", "particles_5_0": "/m3"}
    heads = [_string(topic) for topic, _sensor, _parameter, _value in specs]
    sensors = len(specs)
    ready.set()
    go.wait()
    pending: list[bytes] = []
    for i in range(count):
        while i - acknowledged.value >= window:
            if pending:
                sock.sendall(b"".join(pending))
                pending = []
            time.sleep(0.0002)
        _topic, sensor, parameter, value = specs[i % sensors]
        millis = base_ms + i // sensors
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + f".{millis % 1000:03d}Z"
        payload = (f'{{"sensor": "{sensor}", "parameter": "{parameter}", "value": {value}, '
                   f'"unit": "{units[parameter]}", "ts": "{stamp}", "quality": "good", "seq": {i}}}').encode()
        packet_id = i % 65535 + 1
        rest = heads[i % sensors] + packet_id.to_bytes(2, "big") + payload
        pending.append(bytes([0x32]) + _remaining_length(len(rest)) + rest)
        if len(pending) >= 64:
            sock.sendall(b"".join(pending))
            pending = []
    if pending:
        sock.sendall(b"".join(pending))
    reader_done.wait(60)
    sock.sendall(bytes([0xE0, 0x00]))  # DISCONNECT
    sock.close()


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
    specs = make_plant()
    result: dict[str, Any] = {"database": database, "server": server_version(), "sensors": len(specs)}
    result.update(bench_ingestion(args, specs))
    return result


def make_plant() -> list[tuple[str, str, str, str]]:
    """20 approved rooms of grades A–D with five registered sensors each: the (room code, sensor id,
    parameter, value) the publisher sends, through the services as the application does."""
    from batchline.compliance.signatures import SignatureRequest
    from batchline.environment import services
    from batchline.identity import services as identity
    from batchline.identity.models import User
    from batchline.masterdata import services as masterdata
    from batchline.masterdata.registry import kind_of

    def person(username: str, role: str) -> Any:
        user = identity.create_user(actor=None, username=username, full_name=username, roles=[role],
                                    initial_password=PASSWORD)
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.refresh_from_db()
        return user

    steward, qa = person("bench.steward", "data_steward"), person("bench.qa", "qa_reviewer")

    def approve(kind: str, **data: Any) -> None:
        item = masterdata.create_item(actor=steward, kind=kind_of(kind), data=data)
        masterdata.approve_item(actor=qa, kind=kind_of(kind), item_id=item.pk, signature=SignatureRequest(
            password=PASSWORD, meaning="approve", username=qa.username))

    approve("site", code="BS", name_zh="基准工厂", name_en="Bench plant")
    approve("area", code="BA", name_zh="基准区", name_en="Bench area", site="BS")
    specs = []
    for number in range(ROOMS):
        room = f"BR{number:02d}"
        approve("room", code=room, name_zh=f"基准房间 {number}", name_en=f"Bench room {number}", area="BA",
                cleanroom_grade=GRADES[number % len(GRADES)])
        for parameter, value in SENSORS:
            device = f"{parameter.upper().replace('_', '')}-{room}"
            services.register_sensor(actor=qa, registration=services.SensorRegistration(
                device_id=device, room=room, parameter=parameter))
            specs.append((room, device, parameter, value))
    return specs


@dataclass
class Measured:
    counts: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return sum(self.counts) / sum(self.seconds)

    def round_rates(self) -> list[float]:
        return [c / s for c, s in zip(self.counts, self.seconds, strict=True)]


def ratio(subject: Measured, baseline: Measured) -> dict[str, float]:
    ratios = sorted(s / b for s, b in zip(subject.round_rates(), baseline.round_rates(), strict=True))
    return {"median": statistics.median(ratios), "low": ratios[0], "high": ratios[-1]}


def consumer(variant: str, url: str, prefix: str, batch: int) -> Any:
    from batchline.environment.mqtt_ingest import MqttIngest

    class ReceiveOnly(MqttIngest):
        def store(self, batch: list[Any]) -> None:
            return None  # acknowledged and dropped: what receiving alone costs

    kind = ReceiveOnly if variant == "receive" else MqttIngest
    return kind(url, prefix, client_id=f"bench-{variant}-{uuid.uuid4().hex[:8]}", batch_size=batch,
                session_expiry=60, max_wait=0.02)


def run_round(variant: str, args: argparse.Namespace, specs: list[tuple[str, str, str, str]],
              base_ms: int) -> tuple[int, float, dict[str, int]]:
    """One variant, one round: (messages handled, seconds, ingestion counts)."""
    from django.db import connection

    from batchline.environment.models import Reading

    prefix = f"bench-telemetry/{uuid.uuid4().hex[:10]}"
    topics = [(f"{prefix}/{room}/{device}", device, parameter, value) for room, device, parameter, value in specs]
    spawn = multiprocessing.get_context("spawn")
    acknowledged, ready, go = spawn.Value("q", 0), spawn.Event(), spawn.Event()
    ingest = consumer(variant, args.mqtt_url, prefix, args.batch)
    ingest.start()
    before = Reading.objects.count() if variant == "ingest" else 0
    publisher = spawn.Process(target=publish, args=(args.mqtt_url, topics, args.count, base_ms, args.window,
                                                    acknowledged, ready, go), daemon=True)
    publisher.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the publisher did not connect")
        connection.ensure_connection()
        started = time.perf_counter()
        go.set()
        deadline = started + args.time_cap
        while ingest.stats.received < args.count and time.perf_counter() < deadline:
            ingest.process(0.5)
            acknowledged.value = ingest.stats.received
        seconds = time.perf_counter() - started
    finally:
        ingest.close()
        publisher.join(timeout=60)
        if publisher.is_alive():
            publisher.kill()
    counts = {"received": ingest.stats.received, "stored": ingest.stats.stored,
              "duplicates": ingest.stats.duplicates, "rejected": ingest.stats.rejected,
              "batches": ingest.stats.batches}
    if variant == "ingest":
        counts["new_rows"] = Reading.objects.count() - before
        if counts["new_rows"] != args.count:
            log(f"  warning: {counts['new_rows']} readings stored, {args.count} sent")
    return ingest.stats.received, seconds, counts


def bench_ingestion(args: argparse.Namespace, specs: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    variants = ["ingest", "receive"]
    base_ms = int((time.time() - 3 * 86400) * 1000)  # past, and a fresh span for every run
    step = args.count // len(specs) + 10
    log(f"  warm-up: {min(args.count, 2000)} readings each")
    warm = argparse.Namespace(**{**vars(args), "count": min(args.count, 2000)})
    for name in variants:
        run_round(name, warm, specs, base_ms)
        base_ms += step
    measured = {name: Measured() for name in variants}
    details: dict[str, list[dict[str, int]]] = {name: [] for name in variants}
    for round_number in range(args.rounds):
        for name in rotated(variants, round_number):
            handled, seconds, counts = run_round(name, args, specs, base_ms)
            base_ms += step
            measured[name].counts.append(handled)
            measured[name].seconds.append(seconds)
            details[name].append(counts)
            log(f"  round {round_number + 1} {name}: {handled / seconds:,.0f}/s ({counts})")
    return {
        "count": args.count, "rounds": args.rounds, "batch": args.batch, "window": args.window,
        "rates": {name: m.rate for name, m in measured.items()},
        "round_rates": {name: m.round_rates() for name, m in measured.items()},
        "ratio": ratio(measured["ingest"], measured["receive"]),
        "stored": sum(d.get("new_rows", 0) for d in details["ingest"]),
        "sent": args.count * args.rounds,
        "complete": all(d["received"] == args.count for runs in details.values() for d in runs),
    }


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

def shown(measured: dict[str, float]) -> str:
    return f"{measured['median']:.2f} [{measured['low']:.2f}–{measured['high']:.2f}]"


def print_report(results: list[dict[str, Any]], argv: list[str], load: tuple[float, float]) -> None:
    print()
    print(f"Command: .venv/bin/python bench/telemetry.py{' ' + shlex.join(argv) if argv else ''}")
    print(f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
          f"{platform.platform()}; 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after")
    for result in results:
        if "skipped" in result or "failed" in result:
            print(f"{result['database']}: {result.get('skipped') or result.get('failed')}")
        else:
            print(f"{result['database']}: {result['server']}, {result['sensors']} sensors, "
                  f"{result['rounds']} rounds of {result['count']:,} readings, batches of {result['batch']}")
    print()
    print("MQTT readings: stored and limit-checked (ingest) vs received and acknowledged only, same run.")
    print("Rates are totals over the rounds; the ratio is the median of per-round ratios [lowest–highest].")
    print()
    print("| database | ingest readings/s | receive only msgs/s | ratio | stored / sent | complete |")
    print("|---|---:|---:|---:|---:|---|")
    for result in results:
        if "rates" not in result:
            continue
        rates = result["rates"]
        print(f"| {result['database']} | {rates['ingest']:,.0f} | {rates['receive']:,.0f} | "
              f"**{shown(result['ratio'])}** | {result['stored']:,} / {result['sent']:,} | "
              f"{'yes' if result['complete'] else 'NO'} |")
    print()
    print(f"Aim (issue 5): ingest / receive >= {AIM_RATIO:.2f}; at least {AIM_POSTGRES_RATE:,} readings/s on "
          "PostgreSQL.")
    for result in results:
        if "rates" not in result:
            continue
        met = result["ratio"]["median"] >= AIM_RATIO
        line = f"  {result['database']}: ratio {'met' if met else 'missed'} ({shown(result['ratio'])})"
        if result["database"] == "postgres":
            rate = result["rates"]["ingest"]
            line += f"; rate {'met' if rate >= AIM_POSTGRES_RATE else 'missed'} ({rate:,.0f}/s)"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
