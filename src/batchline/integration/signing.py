"""Webhook signatures: HMAC-SHA256 of the exact body bytes, keyed with the destination's secret.

The header is `X-Batchline-Signature: sha256=<lowercase hex>`. `verify()` is written so a
receiver can copy it into their own code: it needs only the Python standard library.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Batchline-Signature"
SCHEME = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The value of the signature header for this body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is the signature of `body` under `secret`.

    Receivers must pass the raw request body exactly as received (before any JSON parsing), and
    compare in constant time so the comparison does not leak how many characters matched.
    """
    if not header or not header.startswith(SCHEME):
        return False
    expected = sign(body, secret)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))
