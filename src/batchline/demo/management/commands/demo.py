"""`batchline demo`: migrate, load the demo plant (idempotent), print the accounts, serve.

While it serves, the demo plant's devices run in threads beside the server (unless --no-simulators):
the balances and the tablet press over OPC UA, and the room sensors over MQTT (to the broker at
BATCHLINE_ENV_MQTT_URL, by default the local Mosquitto; without a broker the rooms stay without
readings and the rest of the demo works).
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from batchline.demo import plant
from batchline.demo.management.commands.serve import DEFAULT_BIND, Looping
from batchline.environment.simulator import run_room_simulator
from batchline.equipment.simulator import DEMO_BALANCES, DEMO_PRESSES, run_balance_simulator
from batchline.identity.roles import role_label


class Command(BaseCommand):
    help = "Load the demo plant into the configured database and serve it (demo use only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="load and print, then stop")
        parser.add_argument("--no-simulators", action="store_true",
                            help="serve without the simulated balances, tablet press and room sensors")
        parser.add_argument("--bind", default=DEFAULT_BIND,
                            help=f"address:port to listen on (default {DEFAULT_BIND})")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Migrating the database ...")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Loading the demo plant (苏州工厂, oral solid dose) ...")
        result = plant.load()
        if result.changed:
            made = ", ".join(f"{count} {what}" for what, count in sorted(result.created.items()))
            self.stdout.write(f"Created {made}.")
        else:
            self.stdout.write("The demo plant was already loaded; nothing changed.")
        self._print_accounts(options["bind"])
        if options["no_serve"]:
            return
        simulators = [] if options["no_simulators"] else simulator_threads()
        for thread in simulators:
            thread.start()
        try:
            call_command("serve", bind=options["bind"])
        finally:
            for thread in simulators:
                thread.stop()
            for thread in simulators:
                thread.join(timeout=10)

    def _print_accounts(self, bind: str) -> None:
        host, _sep, port = bind.rpartition(":")
        if host in ("", "0.0.0.0", "[::]"):  # noqa: S104 - only for printing a URL to open
            host = "127.0.0.1"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Batchline demo: http://{host}:{port}/login/"))
        self.stdout.write(f"Demo accounts (DEMO ONLY, all with password {plant.DEMO_PASSWORD}):")
        for account in plant.ACCOUNTS:
            label = f"{role_label(account.role, 'zh-hans')} / {role_label(account.role, 'en')}"
            if account.signs_in:
                self.stdout.write(f"  {account.username:<12} {label:<36} {account.full_name}")
            else:
                self.stdout.write(f"  {account.username:<12} {label:<36} system account: API token only")
        self.stdout.write("")


def simulator_threads() -> list[Looping]:
    return [
        Looping("balance-simulator", lambda stop: run_balance_simulator(balances=DEMO_BALANCES, presses=DEMO_PRESSES,
                                                                         stop=stop)),
        Looping("room-simulator", lambda stop: run_room_simulator(broker_url=None, rooms=None, interval_seconds=10,
                                                                  excursion_probability=0.002, stop=stop)),
    ]
