"""The outbox relay and `batchline worker` (INT-01, INT-02): delivery through an injected adapter,
retry and dead-lettering, adapter reuse, graceful stop, the health endpoint, two relays in parallel
on PostgreSQL, and one end-to-end delivery through the real webhook adapter."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from batchline.core import clock, outbox
from batchline.core.canonical import canonical_json
from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent
from batchline.integration import signing
from batchline.integration.adapters import DeliveryFailed
from batchline.integration.management.commands import worker
from batchline.integration.relay import Relay
from conftest import requires_postgresql

WAIT = 30  # seconds a test waits for a condition before it fails


class RecordingAdapter:
    """Acknowledges every message and remembers what it got (thread-safe)."""

    def __init__(self, log: list[tuple[str, str, bytes]], lock: threading.Lock | None = None) -> None:
        self.log = log
        self.lock = lock or threading.Lock()
        self.closed = False

    def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
        with self.lock:
            self.log.append((destination.code, envelope["message_id"], body))

    def close(self) -> None:
        self.closed = True


class FailingAdapter:
    def __init__(self, retryable: bool = True) -> None:
        self.retryable = retryable
        self.calls = 0

    def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
        self.calls += 1
        raise DeliveryFailed("HTTP 503 from receiver" if self.retryable else "HTTP 400 from receiver",
                             retryable=self.retryable)

    def close(self) -> None:
        pass


def destination(code: str = "erp", patterns: list[str] | None = None, **fields: Any) -> Destination:
    values: dict[str, Any] = {"name": code, "kind": "webhook", "url": f"http://127.0.0.1:9/{code}",
                              "event_types": patterns or ["*"], "created_at": clock.now(), **fields}
    return Destination.objects.create(code=code, **values)


def emit(record_id: object = 1, event_type: str = "masterdata.material.approved") -> OutboxEvent:
    with transaction.atomic():
        return outbox.emit(event_type, record_type="masterdata.material", record_id=record_id,
                           payload={"code": f"M-{record_id}"})


def make_due_now() -> None:
    """Skip the backoff wait (the test checks the backoff itself in tests/core)."""
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=clock.now() - timedelta(seconds=1))


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_relay_delivers_the_canonical_envelope_and_marks_it_delivered() -> None:
    destination()
    event = emit()
    got: list[tuple[str, str, bytes]] = []
    Relay(adapter_factory=lambda d: RecordingAdapter(got)).run_once()
    assert got == [("erp", str(event.message_id), canonical_json(outbox.envelope(event)).encode())]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_a_batch_of_many_records_is_delivered_in_event_order_in_one_cycle() -> None:
    destination()
    events = [emit(record_id=n) for n in range(120)]
    got: list[tuple[str, str, bytes]] = []
    tried = Relay(adapter_factory=lambda d: RecordingAdapter(got), claim_size=50).run_once()
    assert tried == 240  # 120 fanned out + 120 delivered, over three claims
    assert [message_id for _code, message_id, _body in got] == [str(e.message_id) for e in events]
    assert set(Delivery.objects.values_list("status", "attempts")) == {("delivered", 1)}


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_an_unreachable_destination_is_tried_once_per_batch_while_the_others_are_served() -> None:
    destination("down")
    destination("up")
    for n in range(5):
        emit(record_id=n)
    failing = FailingAdapter()
    got: list[tuple[str, str, bytes]] = []
    Relay(adapter_factory=lambda d: failing if d.code == "down" else RecordingAdapter(got)).run_once()
    assert failing.calls == 1 and len(got) == 5
    down = Delivery.objects.filter(destination__code="down")
    assert sorted(down.values_list("attempts", flat=True)) == [0, 0, 0, 0, 1]
    assert set(down.values_list("status", flat=True)) == {"pending"}


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_failing_destination_is_retried_then_dead_lettered_at_max_attempts() -> None:
    destination(max_attempts=3)
    emit()
    adapter = FailingAdapter()
    relay = Relay(adapter_factory=lambda d: adapter)
    relay.run_once()
    for _retry in range(2):
        assert Delivery.objects.get().status == "pending"
        make_due_now()
        relay.run_once()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, adapter.calls) == ("dead", 3, 3)
    assert delivery.last_error == "HTTP 503 from receiver"


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_failed_delivery_waits_for_its_backoff() -> None:
    destination()
    emit()
    adapter = FailingAdapter()
    relay = Relay(adapter_factory=lambda d: adapter)
    relay.run_once()
    relay.run_once()
    assert adapter.calls == 1
    assert Delivery.objects.get().next_attempt_at > clock.now()


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_non_retryable_failure_is_dead_lettered_at_once() -> None:
    destination(max_attempts=10)
    emit()
    Relay(adapter_factory=lambda d: FailingAdapter(retryable=False)).run_once()
    assert (Delivery.objects.get().status, Delivery.objects.get().attempts) == ("dead", 1)


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_unexpected_adapter_error_is_recorded_as_a_retryable_failure() -> None:
    destination()
    emit()

    def broken(d: Destination) -> Any:
        raise ImportError("No module named 'pika'")

    Relay(adapter_factory=broken).run_once()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("pending", "ImportError: No module named 'pika'")


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_later_event_of_a_record_is_not_delivered_while_the_earlier_one_fails() -> None:
    destination()
    emit(record_id=7)
    emit(record_id=7)
    got: list[tuple[str, str, bytes]] = []
    failing = True

    class FirstFails(RecordingAdapter):
        def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
            if failing:
                raise DeliveryFailed("HTTP 503", retryable=True)
            super().deliver(destination, envelope, body)

    relay = Relay(adapter_factory=lambda d: FirstFails(got))
    relay.run_once()
    assert got == [] and Delivery.objects.filter(attempts=0).count() == 1
    failing = False
    make_due_now()
    relay.run_once()
    order = list(OutboxEvent.objects.order_by("id").values_list("message_id", flat=True))
    assert [message_id for _code, message_id, _body in got] == [str(m) for m in order]


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_adapter_is_kept_between_deliveries_and_remade_when_the_destination_changes() -> None:
    target = destination()
    made: list[RecordingAdapter] = []
    got: list[tuple[str, str, bytes]] = []

    def factory(d: Destination) -> RecordingAdapter:
        made.append(RecordingAdapter(got))
        return made[-1]

    relay = Relay(adapter_factory=factory)
    emit(record_id=1)
    emit(record_id=2)
    relay.run_once()
    assert len(made) == 1
    Destination.objects.filter(pk=target.pk).update(url="http://127.0.0.1:9/new")
    emit(record_id=3)
    relay.run_once()
    assert (len(made), made[0].closed, made[1].closed) == (2, True, False)
    relay.close()
    assert made[1].closed


@pytest.mark.req("INT-02")
@pytest.mark.django_db
def test_events_of_a_rolled_back_transaction_are_never_delivered() -> None:
    destination()

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        outbox.emit("masterdata.material.approved", record_type="masterdata.material", record_id=1, payload={})
        raise Rollback
    got: list[tuple[str, str, bytes]] = []
    Relay(adapter_factory=lambda d: RecordingAdapter(got)).run_once()
    assert got == [] and not Delivery.objects.exists()


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_stop_request_lets_the_delivery_in_flight_finish_and_takes_no_more() -> None:
    destination()
    emit(record_id=1)
    emit(record_id=2)
    stop = threading.Event()
    got: list[tuple[str, str, bytes]] = []

    class StopsAfterFirst(RecordingAdapter):
        def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
            stop.set()  # SIGTERM arrives while this message is on the wire
            super().deliver(destination, envelope, body)

    Relay(adapter_factory=lambda d: StopsAfterFirst(got)).run(stop)
    assert len(got) == 1
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["delivered", "pending"]


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_worker_once_runs_one_cycle_and_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    destination()
    event = emit()
    got: list[tuple[str, str, bytes]] = []
    monkeypatch.setattr(worker, "adapter_for", lambda d: RecordingAdapter(got))
    call_command("worker", "--once")
    assert [message_id for _code, message_id, _body in got] == [str(event.message_id)]


@pytest.mark.req("INT-01")
def test_worker_runs_until_its_stop_event_is_set(committed_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # how `batchline serve` runs the relay in a thread: call_command("worker", stop_event=...)
    destination()
    event = emit()
    got: list[tuple[str, str, bytes]] = []
    delivered = threading.Event()

    class Signalling(RecordingAdapter):
        def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
            super().deliver(destination, envelope, body)
            delivered.set()

    monkeypatch.setattr(worker, "adapter_for", lambda d: Signalling(got))
    stop = threading.Event()
    thread = threading.Thread(target=call_command, args=("worker",),
                              kwargs={"stop_event": stop, "stdout": io.StringIO()})
    thread.start()
    assert delivered.wait(WAIT)
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert [message_id for _code, message_id, _body in got] == [str(event.message_id)]


def get_health(server: Any) -> tuple[int, dict[str, Any]]:
    host, port = server.server_address[:2]
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=WAIT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def health_server(committed_db: None) -> Iterator[tuple[Relay, Any]]:
    relay = Relay(adapter_factory=lambda d: FailingAdapter(retryable=False))
    server = worker.start_health_server("127.0.0.1:0", relay)
    yield relay, server
    server.shutdown()
    server.server_close()


@pytest.mark.req("INT-01")
def test_health_answers_ok_with_counts_after_a_recent_cycle(health_server: tuple[Relay, Any]) -> None:
    relay, server = health_server
    destination()
    emit(record_id=1)
    emit(record_id=2)
    relay.run_once()  # the adapter refuses both for good: both dead-lettered
    status, body = get_health(server)
    assert (status, body["status"], body["pending"], body["dead"]) == (200, "ok", 0, 2)
    assert body["last_cycle_at"] is not None


@pytest.mark.req("INT-01")
def test_health_answers_503_when_the_last_cycle_is_stale(health_server: tuple[Relay, Any]) -> None:
    relay, server = health_server
    relay.last_cycle_at = clock.now() - timedelta(seconds=61)
    status, body = get_health(server)
    assert (status, body["status"]) == (503, "stale")


@pytest.mark.req("INT-01")
def test_health_answers_503_before_the_first_cycle(health_server: tuple[Relay, Any]) -> None:
    _relay, server = health_server
    assert get_health(server)[0] == 503


@pytest.mark.req("INT-01")
@requires_postgresql
def test_two_relays_in_parallel_deliver_every_message_exactly_once(committed_db: None) -> None:
    destination("erp", ["masterdata.*"])
    destination("lims", ["*"])
    for record_id in range(150):
        emit(record_id=record_id % 40)  # several events per record: ordering and locking interleave
    got: list[tuple[str, str, bytes]] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []

    def run_relay() -> None:
        try:
            Relay(adapter_factory=lambda d: RecordingAdapter(got, lock), batch=10, idle_wait=0.05).run(stop)
        except BaseException as exc:  # surfaced by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run_relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = clock.now() + timedelta(seconds=WAIT)
    while Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists() or not Delivery.objects.exists():
        assert clock.now() < deadline, "the relays did not deliver everything in time"
        stop.wait(0.05)
    stop.set()
    for thread in threads:
        thread.join(WAIT)
    assert failures == []
    sent = [(code, message_id) for code, message_id, _body in got]
    expected = {(d.destination.code, str(d.event.message_id))
                for d in Delivery.objects.select_related("event", "destination")}
    assert len(expected) == 300
    assert len(sent) == len(set(sent)), "a message was delivered twice"
    assert set(sent) == expected
    connection.close()


class Receiver(BaseHTTPRequestHandler):
    """A loopback webhook receiver: answers 500 first, then 200, and keeps what it received."""

    received: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.req("INT-01")
@pytest.mark.django_db
def test_webhook_receiver_answering_500_then_200_gets_the_signed_message_after_backoff() -> None:
    Receiver.received, Receiver.answers = [], [500]
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        destination("hook", url=f"http://127.0.0.1:{port}/events", secret="s3cret", timeout_seconds=WAIT)
        event = emit()
        relay = Relay()  # the real adapter_for: the webhook adapter
        relay.run_once()
        assert Delivery.objects.get().status == "pending" and Delivery.objects.get().last_error
        make_due_now()
        relay.run_once()
        relay.close()
    finally:
        server.shutdown()
        server.server_close()
    assert Delivery.objects.get().status == "delivered"
    headers, body = Receiver.received[-1]
    assert len(Receiver.received) == 2
    assert json.loads(body)["message_id"] == str(event.message_id)
    assert headers["X-Batchline-Message-Id"] == str(event.message_id)
    assert signing.verify(body, headers[signing.SIGNATURE_HEADER], "s3cret")


@requires_postgresql
@pytest.mark.req("INT-01")
def test_an_idle_relay_on_postgresql_is_woken_by_a_new_event_not_by_its_poll(committed_db: None) -> None:
    destination()
    got: list[tuple[str, str, bytes]] = []
    arrived = threading.Event()

    class Signalling(RecordingAdapter):
        def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
            super().deliver(destination, envelope, body)
            arrived.set()

    relay = Relay(adapter_factory=lambda d: Signalling(got), idle_wait=3600)  # polling alone: an hour
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + WAIT
        while relay.last_cycle_at is None and time.monotonic() < deadline:  # the relay is now idle
            stop.wait(0.01)
        event = emit()
        assert arrived.wait(WAIT), "the relay was not woken by the new event"
    finally:
        stop.set()
        thread.join(WAIT)
    assert [message_id for _code, message_id, _body in got] == [str(event.message_id)]
