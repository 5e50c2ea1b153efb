"""`batchline simulate balances|rooms`: the demo plant's devices, until SIGTERM or Ctrl-C.

- `balances`: an OPC UA server (the official Scales and PackML models) with the demo balances and the
  tablet press; the equipment register points at it (equipment/simulator.py).
- `rooms`: the room sensors of the registered, active sensors, published over MQTT to the topics
  `batchline environment_ingest` takes in (environment/simulator.py).

`batchline demo` runs both in threads next to the server; this command runs one on its own, e.g. on
a second machine or when the demo server runs as `batchline serve`.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batchline.environment.simulator import run_room_simulator
from batchline.equipment.simulator import DEFAULT_ENDPOINT, DEMO_BALANCES, DEMO_PRESSES, run_balance_simulator


class Command(BaseCommand):
    help = "Simulate the demo plant's balances and tablet press (OPC UA) or its room sensors (MQTT) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("devices", choices=["balances", "rooms"])
        parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                            help=f"balances: the OPC UA endpoint to serve (default {DEFAULT_ENDPOINT})")
        parser.add_argument("--broker", help="rooms: MQTT broker URL (default BATCHLINE_ENV_MQTT_URL or "
                                             "mqtt://127.0.0.1:1883)")
        parser.add_argument("--interval", type=float, default=10.0,
                            help="rooms: seconds between two readings of a sensor (default 10)")
        parser.add_argument("--excursions", type=float, default=0.002,
                            help="rooms: chance per room and interval that an excursion starts (default 0.002)")
        parser.add_argument("--seed", type=int, help="rooms: make the readings repeatable")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0 or not 0 <= options["excursions"] <= 1:
            raise CommandError("--interval must be positive and --excursions within 0..1")
        stop = threading.Event()

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            if options["devices"] == "balances":
                self.stdout.write(f"Serving the demo balances and tablet press on {options['endpoint']}. "
                                  "Ctrl-C stops.")
                run_balance_simulator(endpoint=options["endpoint"], balances=DEMO_BALANCES, presses=DEMO_PRESSES,
                                      stop=stop)
            else:
                self.stdout.write("Publishing the room sensors' readings. Ctrl-C stops.")
                stats = run_room_simulator(broker_url=options["broker"], rooms=None,
                                           interval_seconds=options["interval"],
                                           excursion_probability=options["excursions"], stop=stop,
                                           seed=options["seed"])
                self.stdout.write(f"Published {stats.published} readings, {stats.excursions} excursions.")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
