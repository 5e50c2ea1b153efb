"""`batchline environment_ingest`: the room sensors' readings from MQTT into Batchline, until stopped.

Settings (or environment variables of the same names): BATCHLINE_ENV_MQTT_URL (mqtt://host:1883, with
user:password@ if the broker wants them), BATCHLINE_ENV_TOPIC_PREFIX (batchline/env),
BATCHLINE_ENV_MQTT_CLIENT_ID, BATCHLINE_ENV_MQTT_SHARE_GROUP. `batchline demo` runs it in a thread
through call_command("environment_ingest", stop_event=...): the stop event is then the caller's.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batchline.environment.mqtt_ingest import BATCH_SIZE, SESSION_EXPIRY_SECONDS, MqttIngest, broker_address


class Command(BaseCommand):
    help = "Take in room sensors' readings from MQTT (topic <prefix>/<room>/<sensor>) until SIGTERM or Ctrl-C."
    stealth_options = ("stop_event",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="broker URL (default: BATCHLINE_ENV_MQTT_URL or mqtt://127.0.0.1:1883)")
        parser.add_argument("--prefix", help="topic prefix (default: BATCHLINE_ENV_TOPIC_PREFIX or batchline/env)")
        parser.add_argument("--client-id", help="MQTT client id of the persistent session")
        parser.add_argument("--batch", type=int, default=BATCH_SIZE,
                            help=f"readings stored per transaction at most (default {BATCH_SIZE})")
        parser.add_argument("--session-expiry", type=int, default=SESSION_EXPIRY_SECONDS,
                            help="seconds the broker keeps undelivered readings while this process is away "
                                 f"(default {SESSION_EXPIRY_SECONDS})")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1 or options["session_expiry"] < 0:
            raise CommandError("--batch must be at least 1 and --session-expiry not negative")
        ingest = MqttIngest(options["url"], options["prefix"], client_id=options["client_id"],
                            batch_size=options["batch"], session_expiry=options["session_expiry"])
        try:
            broker_address(ingest.url)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop: threading.Event = options.get("stop_event") or threading.Event()
        previous: dict[int, Any] = {}
        if options.get("stop_event") is None:

            def request_stop(_signum: int, _frame: FrameType | None) -> None:
                stop.set()  # the batch in flight finishes, then the loop ends

            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, request_stop)
        self.stdout.write(f"Environment ingestion: {ingest.url}, topics {ingest.prefix}/<room>/<sensor>. "
                          "SIGTERM or Ctrl-C stops it.")
        try:
            ingest.run(stop)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        stats = ingest.stats
        self.stdout.write(f"Environment ingestion stopped: {stats.stored} stored, {stats.duplicates} duplicates, "
                          f"{stats.rejected} rejected.")
