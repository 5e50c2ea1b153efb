"""The outbox relay: fans written events out to their destinations and delivers them, at least once,
in order per record, with retry, backoff and dead-lettering (the rules live in core.outbox).

Each delivery is its own short transaction: lock the row (SKIP LOCKED on PostgreSQL), call the
transport, record the outcome, commit. Several relays may run against one PostgreSQL database; on
SQLite run exactly one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from batchline.core import clock, outbox
from batchline.core.canonical import canonical_json
from batchline.core.models import Delivery, Destination
from batchline.integration.adapters import Adapter, DeliveryFailed, adapter_for

log = logging.getLogger("batchline.relay")

AdapterFactory = Callable[[Destination], Adapter]

IDLE_WAIT_SECONDS = 1.0  # how long an idle relay waits for the stop signal before looking again


def _configuration(destination: Destination) -> tuple[Any, ...]:
    """What an open adapter depends on: when any of it changes, the adapter is closed and remade."""
    return (destination.kind, destination.url, destination.secret, destination.exchange,
            destination.topic_prefix, destination.timeout_seconds)


class Relay:
    def __init__(self, adapter_factory: AdapterFactory = adapter_for, batch: int = 100,
                 idle_wait: float = IDLE_WAIT_SECONDS) -> None:
        self.adapter_factory = adapter_factory
        self.batch = batch
        self.idle_wait = idle_wait
        self.last_cycle_at: datetime | None = None
        # one open adapter per destination, kept between deliveries (AMQP channel, MQTT session)
        self._adapters: dict[int, tuple[tuple[Any, ...], Adapter]] = {}

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Fan out pending events, then deliver up to `batch` due deliveries one by one. Stops early
        (after the delivery in flight) when `stop` is set. Returns events fanned out + deliveries tried."""
        work = outbox.fan_out(self.batch)
        tried = 0
        while tried < self.batch and not (stop is not None and stop.is_set()):
            with transaction.atomic():
                claimed = outbox.claim_due(1, clock.now())
                if not claimed:
                    break
                self._deliver(claimed[0])
            tried += 1
        self.last_cycle_at = clock.now()
        return work + tried

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; when there is nothing to do, wait on `stop` (so a stop request is
        seen at once). A failing cycle (database unreachable) is logged and tried again."""
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once(stop)
                except Exception:
                    log.exception("relay cycle failed")
                    _close_connection()  # a broken connection is reopened by the next cycle
                    busy = 0
                if not busy:
                    stop.wait(self.idle_wait)
        finally:
            self.close()
            _close_connection()

    def close(self) -> None:
        for _config, adapter in self._adapters.values():
            _close_quietly(adapter)
        self._adapters.clear()

    def _adapter(self, destination: Destination) -> Adapter:
        config = _configuration(destination)
        held = self._adapters.get(destination.pk)
        if held is not None and held[0] == config:
            return held[1]
        self._drop(destination.pk)
        adapter = self.adapter_factory(destination)
        self._adapters[destination.pk] = (config, adapter)
        return adapter

    def _drop(self, destination_id: int) -> None:
        held = self._adapters.pop(destination_id, None)
        if held is not None:
            _close_quietly(held[1])

    def _deliver(self, delivery: Delivery) -> None:
        destination = delivery.destination
        envelope = outbox.envelope(delivery.event)
        body = canonical_json(envelope).encode()
        try:
            self._adapter(destination).deliver(destination, envelope, body)
        except DeliveryFailed as exc:
            self._drop(destination.pk)  # reconnect on the next attempt: the connection may be the fault
            outbox.record_failure(delivery, str(exc), exc.retryable)
        except Exception as exc:  # a transport bug or a missing client library: kept, retried, visible
            log.exception("delivery %s to %s failed unexpectedly", delivery.pk, destination.code)
            self._drop(destination.pk)
            outbox.record_failure(delivery, f"{type(exc).__name__}: {exc}", True)
        else:
            outbox.record_delivered(delivery)


def _close_connection() -> None:
    """The relay thread's own database connection is not left open; one that a caller's transaction
    still uses (a test, a caller running the relay inside its transaction) is left alone."""
    if not connection.in_atomic_block:
        connection.close()


def _close_quietly(adapter: Adapter) -> None:
    try:
        adapter.close()
    except Exception:  # closing a connection that already broke must not stop the relay
        log.warning("closing an adapter failed", exc_info=True)
