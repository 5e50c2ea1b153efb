"""`batchline equipment_holds`: write expired clean-hold and dirty-hold times into the logbook (EQ-03).

Each expiry is logged once, with the `equipment.equipment.hold_expired` event, so that people and other
systems hear of it when it happens. Run it every few minutes (cron, a systemd timer); running it more
often or twice changes nothing. Usability does not depend on it: an expired clean-hold refuses use
whether or not this command has run (equipment.usability).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from batchline.equipment.holds import flag_expired_holds


class Command(BaseCommand):
    help = "Log each expired clean-hold and dirty-hold time once (logbook entry and outbox event)."

    def handle(self, *args: Any, **options: Any) -> None:
        flagged = flag_expired_holds()
        self.stdout.write(f"{flagged} hold time(s) flagged.")
