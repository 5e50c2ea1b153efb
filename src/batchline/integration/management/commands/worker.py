"""`batchline worker`: runs the outbox relay until SIGTERM or SIGINT, with an optional health endpoint.

Several workers (on several hosts) may run against one PostgreSQL database: they never deliver the
same delivery concurrently (core.outbox, FOR UPDATE SKIP LOCKED). On SQLite run exactly one. The
worker does not seal the audit trail: production runs `batchline audit seal` from cron or keeps
`batchline serve` running.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from batchline.core import clock, outbox
from batchline.integration.adapters import adapter_for
from batchline.integration.relay import Relay

log = logging.getLogger("batchline.worker")

STALE_AFTER = timedelta(seconds=60)  # a relay whose last cycle is older than this is reported unhealthy


def health(relay: Relay) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of GET /health: 503 until the first cycle and when cycles stopped."""
    last = relay.last_cycle_at
    healthy = last is not None and clock.now() - last <= STALE_AFTER
    try:
        counts: dict[str, Any] = outbox.delivery_counts()
    except Exception:  # the database is unreachable: unhealthy, and say so
        log.warning("health check could not count deliveries", exc_info=True)
        counts, healthy = {"pending": None, "dead": None}, False
    finally:
        connection.close()  # the health thread's own connection is not kept between checks
    body = {"status": "ok" if healthy else "stale", **counts,
            "last_cycle_at": last.isoformat().replace("+00:00", "Z") if last else None}
    return (200 if healthy else 503), body


def start_health_server(address: str, relay: Relay) -> ThreadingHTTPServer:
    """A tiny HTTP server on its own thread answering GET /health; address is host:port (port 0 picks one)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--health expects host:port, got {address!r}")

    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server dispatches to
            if self.path != "/health":
                self.send_error(404)
                return
            status, body = health(relay)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: not logged
            pass

    server = ThreadingHTTPServer((host, int(port)), HealthHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-health", daemon=True).start()
    return server


class Command(BaseCommand):
    help = "Run the outbox relay: deliver events to webhooks, RabbitMQ and MQTT until stopped."
    # `batchline serve` runs the relay in a thread through call_command("worker", stop_event=...):
    # the stop event is then the caller's, and signals stay with the caller's main thread.
    stealth_options = ("stop_event",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one relay cycle and exit")
        parser.add_argument("--health", metavar="HOST:PORT",
                            help="serve GET /health on this loopback address, e.g. 127.0.0.1:8081")
        parser.add_argument("--batch", type=int, default=200,
                            help="events fanned out and deliveries tried per cycle (default 200)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        relay = Relay(adapter_factory=adapter_for, batch=options["batch"])
        if options["once"]:
            try:
                done = relay.run_once()
            finally:
                relay.close()
            self.stdout.write(f"Relay cycle done: {done} events fanned out and deliveries tried.")
            return
        stop: threading.Event = options.get("stop_event") or threading.Event()
        server = start_health_server(options["health"], relay) if options["health"] else None
        previous: dict[int, Any] = {}
        if options.get("stop_event") is None:

            def request_stop(_signum: int, _frame: FrameType | None) -> None:
                stop.set()  # the delivery in flight finishes, then the loop ends

            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, request_stop)
        try:
            self.stdout.write("Relay running" + (f"; health on http://{options['health']}/health" if server
                                                 else "") + ". SIGTERM or Ctrl-C stops it.")
            relay.run(stop)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if server is not None:
                server.shutdown()
                server.server_close()
        self.stdout.write("Relay stopped.")
