"""core: base building blocks every context uses (errors, time, quantities, events, outbox)."""
