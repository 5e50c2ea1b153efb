"""Webhook transport against a loopback HTTP receiver running in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from batchline.core.models import Destination
from batchline.integration import signing
from batchline.integration.adapters import DeliveryFailed
from batchline.integration.adapters.webhook import WebhookAdapter
from integration.transport import closed_port, message

SECRET = "s3cret-for-tests"


class Receiver:
    """What the plant's system would run: records each request and answers with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.answer = b'{"ok": true}'
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.hold = threading.Event()  # set → answer at once; cleared → wait (to provoke a timeout)
        self.hold.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                receiver.hold.wait(10)
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/batchline/events"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    receiver.hold.set()
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(5)


def destination(url: str, timeout_seconds: int = 5) -> Destination:
    return Destination(code="erp", name="ERP", kind="webhook", url=url, secret=SECRET,
                       timeout_seconds=timeout_seconds)


@pytest.mark.req("INT-01")
def test_receiver_gets_the_envelope_as_json(receiver: Receiver) -> None:
    env, body = message()
    WebhookAdapter().deliver(destination(receiver.url), env, body)
    headers, received = receiver.requests[0]
    assert received == body
    assert json.loads(received) == env
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Batchline-Message-Id"] == env["message_id"]
    assert headers["X-Batchline-Event-Type"] == "masterdata.material.approved"
    assert headers["X-Batchline-Timestamp"].endswith("Z")


@pytest.mark.req("INT-06")
def test_receiver_verifies_the_signature_with_the_shared_secret(receiver: Receiver) -> None:
    env, body = message()
    WebhookAdapter().deliver(destination(receiver.url), env, body)
    headers, received = receiver.requests[0]
    assert signing.verify(received, headers["X-Batchline-Signature"], SECRET)


@pytest.mark.req("INT-06")
def test_tampered_body_fails_verification(receiver: Receiver) -> None:
    env, body = message()
    WebhookAdapter().deliver(destination(receiver.url), env, body)
    headers, received = receiver.requests[0]
    tampered = received.replace(b"API-42", b"API-43")
    assert tampered != received
    assert not signing.verify(tampered, headers["X-Batchline-Signature"], SECRET)


@pytest.mark.req("INT-06")
def test_tampered_signature_fails_verification(receiver: Receiver) -> None:
    env, body = message()
    WebhookAdapter().deliver(destination(receiver.url), env, body)
    headers, received = receiver.requests[0]
    signature = headers["X-Batchline-Signature"]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not signing.verify(received, forged, SECRET)
    assert not signing.verify(received, signature, "another-secret")
    assert not signing.verify(received, None, SECRET)


@pytest.mark.req("INT-02")
def test_server_error_is_retryable_and_names_status_and_answer(receiver: Receiver) -> None:
    receiver.status, receiver.answer = 500, b"database unavailable" + b"x" * 500
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination(receiver.url), *message())
    assert failure.value.retryable
    assert str(failure.value) == "HTTP 500: database unavailable" + "x" * 180


@pytest.mark.req("INT-02")
@pytest.mark.parametrize("status", [408, 429, 503])
def test_receiver_asking_to_come_back_later_is_retryable(receiver: Receiver, status: int) -> None:
    receiver.status = status
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination(receiver.url), *message())
    assert failure.value.retryable


@pytest.mark.req("INT-02")
@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_refusal_by_the_receiver_is_not_retryable(receiver: Receiver, status: int) -> None:
    receiver.status, receiver.answer = status, b'{"error": "unknown material field"}'
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination(receiver.url), *message())
    assert not failure.value.retryable
    assert str(failure.value) == f'HTTP {status}: {{"error": "unknown material field"}}'


def test_redirect_is_not_followed_and_not_retryable(receiver: Receiver) -> None:
    receiver.status = 302
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination(receiver.url), *message())
    assert not failure.value.retryable
    assert len(receiver.requests) == 1


@pytest.mark.req("INT-02")
def test_closed_port_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination(f"http://127.0.0.1:{closed_port()}/hook"), *message())
    assert failure.value.retryable


@pytest.mark.req("INT-02")
def test_receiver_too_slow_to_answer_is_retryable(receiver: Receiver) -> None:
    receiver.hold.clear()  # the receiver takes the request and does not answer
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination(receiver.url, timeout_seconds=1), *message())
    assert failure.value.retryable


def test_url_that_is_not_http_is_refused_without_retry() -> None:
    with pytest.raises(DeliveryFailed) as failure:
        WebhookAdapter().deliver(destination("file:///etc/passwd"), *message())
    assert not failure.value.retryable
