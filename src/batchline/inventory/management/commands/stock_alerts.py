"""`batchline stock_alerts`: evaluate the stock alerts once (WMS-08): raise, clear, emit events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from batchline.inventory.alerts import evaluate_alerts


class Command(BaseCommand):
    help = "Evaluate the stock alerts once: safety stock, expiry, retest due, slow-moving stock."

    def handle(self, *args: Any, **options: Any) -> None:
        summary = evaluate_alerts()
        self.stdout.write(f"Raised {summary.raised}, cleared {summary.cleared}; {summary.open} alerts open.")
