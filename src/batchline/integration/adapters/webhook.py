"""Webhook transport: one signed HTTP POST per message (standard library only).

2xx means delivered. 408, 429, 5xx, timeouts and network errors are retryable (the receiver may
recover); any other status, including redirects, is not: retrying the same request cannot succeed,
so the relay dead-letters the message at once and the error tells the engineer why.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from batchline.core import clock
from batchline.core.models import Destination
from batchline.integration import signing
from batchline.integration.adapters import DeliveryFailed

RETRYABLE_STATUSES = {408, 429}
RESPONSE_EXCERPT = 200  # characters of the receiver's answer kept in the error text


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would turn a redirected POST into a GET without a body; a redirect is reported as a
    failure instead, so the engineer registers the final URL."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


class WebhookAdapter:
    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_RefuseRedirects())

    def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
        if urlsplit(destination.url).scheme not in ("http", "https"):
            raise DeliveryFailed(f"not an http(s) URL: {destination.url!r}", retryable=False)
        headers = headers_for(destination, envelope, body)
        # the scheme is checked above: urllib's file:/ftp: handlers are never reached
        request = urllib.request.Request(destination.url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            with self._opener.open(request, timeout=destination.timeout_seconds) as response:
                response.read()  # let the receiver finish its answer before the connection closes
        except urllib.error.HTTPError as exc:
            raise _failure_for_status(exc.code, _excerpt(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, garbled answer
            reason = getattr(exc, "reason", exc)
            raise DeliveryFailed(f"no answer from {destination.url}: {reason}", retryable=True) from exc

    def close(self) -> None:
        """Nothing is kept open between deliveries."""


def headers_for(destination: Destination, envelope: dict[str, Any], body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Batchline-Webhook",
        "X-Batchline-Message-Id": str(envelope["message_id"]),
        "X-Batchline-Event-Type": str(envelope["event_type"]),
        # when this attempt was sent (UTC); the envelope's occurred_at says when the event happened
        "X-Batchline-Timestamp": clock.now().isoformat().replace("+00:00", "Z"),
        signing.SIGNATURE_HEADER: signing.sign(body, destination.secret),
    }


def _failure_for_status(status: int, excerpt: str) -> DeliveryFailed:
    retryable = status in RETRYABLE_STATUSES or status >= 500
    return DeliveryFailed(f"HTTP {status}: {excerpt}", retryable=retryable)


def _excerpt(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read().decode("utf-8", "replace")
    except OSError:
        text = ""
    finally:
        error.close()
    return text[:RESPONSE_EXCERPT] or str(error.reason)
