"""`batchline serve`: the production-style server (gunicorn) plus the periodic audit seal.

Design choice: gunicorn runs as a child process and this command stays as its parent. The sealer
is a thread of this parent process, so it never lives in a process that gunicorn forks (forking a
process that has a running thread with an open database connection is unsafe), and there is exactly
one sealer however many workers serve requests. Stopping this command (Ctrl-C or SIGTERM) stops
gunicorn gracefully and the sealer with it.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from batchline.compliance import integrity

log = logging.getLogger("batchline.serve")

DEFAULT_BIND = "127.0.0.1:8000"


class AuditSealer(threading.Thread):
    """Seals the audit trail at start and then every `interval` seconds until stopped."""

    def __init__(self, interval_seconds: float, on_seal: Any = None) -> None:
        super().__init__(name="audit-sealer", daemon=True)
        self.interval = interval_seconds
        self.on_seal = on_seal
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.seal_once()
            connection.close()  # this thread's own connection: not held open between seals
            self.stopped.wait(self.interval)

    def seal_once(self) -> None:
        try:
            made = integrity.seal()
            if self.on_seal is not None:
                self.on_seal(made)
        except Exception:  # a failed seal must not stop the server; the next interval tries again
            log.exception("sealing the audit trail failed")

    def stop(self) -> None:
        self.stopped.set()


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

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        minutes = settings.BATCHLINE_AUDIT_SEAL_MINUTES
        sealer = AuditSealer(minutes * 60, on_seal=lambda s: log.info("audit seal %s: %s entries", s.pk,
                                                                       s.entry_count))
        sealer.start()
        # The outbox relay runs next to the sealer, in this parent process, for the same reason. It is
        # started by command name: demo may not import integration (sibling layers). A deployment with
        # more hosts runs `batchline worker` instead or as well (PostgreSQL keeps relays apart).
        relay_stop = threading.Event()
        relay = threading.Thread(target=call_command, args=("worker",), kwargs={"stop_event": relay_stop},
                                 name="outbox-relay", daemon=True)
        relay.start()
        self.stdout.write(f"Serving on http://{options['bind']}/ with {options['workers']} workers; "
                          f"sealing the audit trail every {minutes} min. Ctrl-C stops.")
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
            sealer.stop()
            relay_stop.set()
            relay.join(timeout=30)  # the delivery in flight finishes
        if returncode not in (0, -signal.SIGTERM, -signal.SIGINT):
            raise CommandError(f"gunicorn stopped with exit code {returncode}", returncode=returncode or 1)
