"""The outbox relay: fans written events out to their destinations and delivers them, at least once,
in order per record, with retry, backoff and dead-lettering (the rules live in core.outbox).

Deliveries go in small batches, each its own transaction: claim and lock up to `claim_size` due
rows (SKIP LOCKED on PostgreSQL), call the transport for each in order, record the outcomes, commit.
A destination whose transport fails with a retryable error (broker down, receiver unreachable) is
not tried again within the cycle: its remaining messages wait for the next cycle untouched.
Several relays may run against one PostgreSQL database; on SQLite run exactly one.
"""

from __future__ import annotations

import logging
import threading
import time
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
CLAIM_SIZE = 50  # deliveries locked and sent per transaction: fewer round trips, short enough locks


def _configuration(destination: Destination) -> tuple[Any, ...]:
    """What an open adapter depends on: when any of it changes, the adapter is closed and remade."""
    return (destination.kind, destination.url, destination.secret, destination.exchange,
            destination.topic_prefix, destination.timeout_seconds)


class Relay:
    def __init__(self, adapter_factory: AdapterFactory = adapter_for, batch: int = 200,
                 idle_wait: float = IDLE_WAIT_SECONDS, claim_size: int = CLAIM_SIZE) -> None:
        self.adapter_factory = adapter_factory
        self.batch = batch
        self.claim_size = claim_size
        self.idle_wait = idle_wait
        self.last_cycle_at: datetime | None = None
        # one open adapter per destination, kept between deliveries (AMQP channel, MQTT session)
        self._adapters: dict[int, tuple[tuple[Any, ...], Adapter]] = {}

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Fan out pending events, then deliver up to `batch` due deliveries, `claim_size` per
        transaction. Stops early (after the delivery in flight) when `stop` is set. Returns events
        fanned out + deliveries tried."""
        work = outbox.fan_out(self.batch)
        tried = 0
        unreachable: set[int] = set()  # destinations whose transport failed in this cycle
        while tried < self.batch and not _stopping(stop):
            with transaction.atomic():
                claimed = outbox.claim_due(min(self.claim_size, self.batch - tried), clock.now(),
                                           skip_destinations=unreachable)
                if not claimed:
                    break
                tried += self._deliver_claimed(claimed, stop, unreachable)
        self.last_cycle_at = clock.now()
        return work + tried

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; when there is nothing to do, wait up to `idle_wait` for a new
        event (PostgreSQL wakes the relay at once) or the stop request. A failing cycle (database
        unreachable) is logged and tried again."""
        waiter = NewEventWaiter()
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once(stop)
                except Exception:
                    log.exception("relay cycle failed")
                    _close_connection()  # a broken connection is reopened by the next cycle
                    busy = 0
                if not busy:
                    waiter.wait(stop, self.idle_wait)
        finally:
            waiter.close()
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

    def _deliver_claimed(self, claimed: list[Delivery], stop: threading.Event | None, unreachable: set[int]) -> int:
        """Send each claimed delivery in order, except to destinations found unreachable (added to
        `unreachable`); → how many were tried. Outcomes are recorded in the claiming transaction: the
        successes in one statement, each failure with its error."""
        delivered: list[Delivery] = []
        tried = 0
        for delivery in claimed:
            if _stopping(stop):
                break
            if delivery.destination_id in unreachable:
                continue
            tried += 1
            failure = self._deliver(delivery)
            if failure is None:
                delivered.append(delivery)
                continue
            error, retryable = failure
            outbox.record_failure(delivery, error, retryable)
            if retryable:
                unreachable.add(delivery.destination_id)
        outbox.record_delivered(delivered)
        return tried

    def _deliver(self, delivery: Delivery) -> tuple[str, bool] | None:
        """Hand one message to its destination's transport: None when acknowledged, else the error
        and whether retrying can help."""
        destination = delivery.destination
        envelope = outbox.envelope(delivery.event)
        body = canonical_json(envelope).encode()
        try:
            self._adapter(destination).deliver(destination, envelope, body)
        except DeliveryFailed as exc:
            self._drop(destination.pk)  # reconnect on the next attempt: the connection may be the fault
            return str(exc), exc.retryable
        except Exception as exc:  # a transport bug or a missing client library: kept, retried, visible
            log.exception("delivery %s to %s failed unexpectedly", delivery.pk, destination.code)
            self._drop(destination.pk)
            return f"{type(exc).__name__}: {exc}", True
        return None


class NewEventWaiter:
    """How an idle relay waits: on PostgreSQL it LISTENs on the channel that a trigger on the outbox
    NOTIFYs at every commit that wrote events (core migration 0005), so a new event is picked up at
    once; elsewhere, or when listening fails, it simply waits. Backoff retries are found by the
    next cycle either way (at most `idle_wait` later)."""

    CHANNEL = "batchline_outbox"
    SLICE = 0.25  # seconds: how soon a stop request is seen while listening

    def __init__(self) -> None:
        self._listener: Any = None
        if connection.vendor == "postgresql":
            try:
                import psycopg

                self._listener = psycopg.connect(**connection.get_connection_params(), autocommit=True)
                self._listener.execute(f"LISTEN {self.CHANNEL}")
            except Exception:  # the relay still works without it, only with the polling delay
                log.warning("cannot LISTEN for new outbox events; polling instead", exc_info=True)
                self._listener = None

    def wait(self, stop: threading.Event, seconds: float) -> None:
        if self._listener is None:
            stop.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        try:
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                if any(True for _ in self._listener.notifies(timeout=min(self.SLICE, left), stop_after=1)):
                    return
        except Exception:
            log.warning("listening for new outbox events failed; polling instead", exc_info=True)
            self.close()

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None


def _stopping(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


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
