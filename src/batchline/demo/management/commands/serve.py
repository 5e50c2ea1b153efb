"""`batchline serve`: the production-style server (gunicorn) plus the plant's background work.

Design choice: gunicorn runs as a child process and this command stays as its parent. The background
work runs in threads of this parent process, so it never lives in a process that gunicorn forks
(forking a process that has a running thread with an open database connection is unsafe), and each
runs exactly once however many workers serve requests:

- the audit seal, every BATCHLINE_AUDIT_SEAL_MINUTES (AT-08);
- the outbox relay (`batchline worker`);
- the stock alerts (`batchline stock_alerts`), every BATCHLINE_STOCK_ALERT_MINUTES;
- the equipment hold times (`batchline equipment_holds`), every BATCHLINE_EQUIPMENT_HOLD_MINUTES;
- the room sensors' readings from MQTT (`batchline environment_ingest`), unless --no-ingest;
- the equipment states and counts over OPC UA (equipment.tags.DevicePoller), unless --no-device-polling.

A plant that runs ingestion or polling elsewhere (a second host) turns them off here. Stopping this
command (Ctrl-C or SIGTERM) stops gunicorn gracefully and the threads with it.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from batchline.compliance import integrity
from batchline.equipment.holds import flag_expired_holds
from batchline.equipment.tags import DevicePoller
from batchline.inventory.alerts import evaluate_alerts

log = logging.getLogger("batchline.serve")

DEFAULT_BIND = "127.0.0.1:8000"


class Periodic(threading.Thread):
    """Does `action` at start and then every `interval` seconds until stopped."""

    def __init__(self, name: str, interval_seconds: float, action: Callable[[], Any],
                 on_done: Callable[[Any], Any] | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval_seconds
        self.action = action
        self.on_done = on_done
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.run_once()
            connection.close()  # this thread's own connection: not held open between runs
            self.stopped.wait(self.interval)

    def run_once(self) -> None:
        try:
            done = self.action()
            if self.on_done is not None:
                self.on_done(done)
        except Exception:  # a failed run must not stop the server; the next interval tries again
            log.exception("%s failed", self.name)

    def stop(self) -> None:
        self.stopped.set()


class AuditSealer(Periodic):
    """Seals the audit trail at start and then every `interval` seconds until stopped."""

    def __init__(self, interval_seconds: float, on_seal: Callable[[Any], Any] | None = None) -> None:
        super().__init__("audit-sealer", interval_seconds, integrity.seal, on_seal)


class Looping(threading.Thread):
    """Runs `body(stop)`, a loop of its own that returns once `stop` is set."""

    def __init__(self, name: str, body: Callable[[threading.Event], Any]) -> None:
        super().__init__(name=name, daemon=True)
        self.body = body
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            self.body(self.stopped)
        except Exception:  # e.g. a broker address that does not parse: the server goes on without it
            log.exception("%s stopped", self.name)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


def background(*, ingest: bool, device_polling: bool) -> list[Periodic | Looping]:
    """The threads `batchline serve` runs beside gunicorn (see the module's description)."""
    threads: list[Periodic | Looping] = [
        AuditSealer(settings.BATCHLINE_AUDIT_SEAL_MINUTES * 60,
                    on_seal=lambda s: log.info("audit seal %s: %s entries", s.pk, s.entry_count)),
        # Started by command name: demo may not import integration (sibling layers). A deployment with
        # more hosts runs `batchline worker` instead or as well (PostgreSQL keeps relays apart).
        Looping("outbox-relay", lambda stop: call_command("worker", stop_event=stop)),
        Periodic("stock-alerts", settings.BATCHLINE_STOCK_ALERT_MINUTES * 60, evaluate_alerts),
        Periodic("equipment-holds", settings.BATCHLINE_EQUIPMENT_HOLD_MINUTES * 60, flag_expired_holds),
    ]
    if ingest:
        threads.append(Looping("environment-ingest",
                               lambda stop: call_command("environment_ingest", stop_event=stop)))
    if device_polling:
        threads.append(Looping("device-poller", DevicePoller().run))
    return threads


def gunicorn_command(bind: str, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "batchline.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--access-logfile", "-",
        "--graceful-timeout", "20",
        "--no-control-socket",  # nothing here uses gunicorn's control socket; two servers must not share one
    ]


class Command(BaseCommand):
    help = ("Serve Batchline with gunicorn (static files by WhiteNoise), seal the audit trail periodically "
            "and run the outbox relay.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=DEFAULT_BIND,
                            help=f"address:port to listen on (default {DEFAULT_BIND})")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
        parser.add_argument("--no-ingest", action="store_true",
                            help="do not take in the room sensors' readings here (another host does)")
        parser.add_argument("--no-device-polling", action="store_true",
                            help="do not poll the equipment over OPC UA here (another host does)")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        threads = background(ingest=not options["no_ingest"], device_polling=not options["no_device_polling"])
        for thread in threads:
            thread.start()
        self.stdout.write(f"Serving on http://{options['bind']}/ with {options['workers']} workers; "
                          f"in the background: {', '.join(t.name for t in threads)}. Ctrl-C stops.")
        server = subprocess.Popen(gunicorn_command(options["bind"], options["workers"]))  # noqa: S603

        def forward(signum: int, _frame: FrameType | None) -> None:
            server.send_signal(signum)

        previous = signal.signal(signal.SIGTERM, forward)
        try:
            returncode = server.wait()
        except KeyboardInterrupt:  # the terminal sent SIGINT to gunicorn as well; let it finish
            returncode = server.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
            for thread in threads:
                thread.stop()
            for thread in threads:
                thread.join(timeout=30)  # the delivery or batch in flight finishes
        if returncode not in (0, -signal.SIGTERM, -signal.SIGINT):
            raise CommandError(f"gunicorn stopped with exit code {returncode}", returncode=returncode or 1)
