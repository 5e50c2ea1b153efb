"""Idempotency keys for the API's write endpoints (INTERFACES.md, INT-04).

A POST or PUT that carries `Idempotency-Key` runs through core.idempotency.run_once, keyed by the
calling account's username and the key, with a hash of method, path and body: a replay returns the
first status and body and changes nothing; the same key with a different request is refused with
409 `idempotency_key_reused`. Token callers must send a key with every POST and PUT; for a
signed-in person (the web's own scripts) it is optional.

Passwords in a body (signature blocks, initial and temporary passwords) are left out of the hash:
a fast hash over a password would let someone holding the database guess it offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from batchline.api.auth import caller, uses_token
from batchline.api.errors import IdempotencyKeyRequired, InvalidIdempotencyKey
from batchline.core.canonical import canonical_json, sha256_hex
from batchline.core.idempotency import run_once

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_SECRET_FIELDS = {"password", "initial_password", "temporary_password", "secret"}  # secret: a webhook HMAC key

Action = Callable[[], tuple[int, Any]]


def request_hash(request: HttpRequest) -> str:
    try:
        content: Any = _without_secrets(json.loads(request.body or b"null"))
        text = canonical_json(content)
    except (ValueError, TypeError):
        text = request.body.decode("utf-8", errors="replace")
    return sha256_hex(f"{request.method}\n{request.path}\n{text}")


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if k in _SECRET_FIELDS else _without_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def respond(request: HttpRequest, action: Action, *, required: bool | None = None,
            first_only: Callable[[Any], Any] | None = None) -> HttpResponse:
    """Run `action` (→ (status, JSON-ready body)) once per key and answer with its result.

    `required` defaults to: a key is required from token callers on POST and PUT.
    `first_only` adds to the first response what must never be stored for a replay (a token secret).
    """
    from batchline.api.api import api  # the API object imports the routers that use this module

    key = request.headers.get(HEADER)
    if required is None:
        required = uses_token(request) and request.method in {"POST", "PUT"}
    if key is None:
        if required:
            raise IdempotencyKeyRequired(field=HEADER)
        status, payload = action()
        return api.create_response(request, first_only(payload) if first_only else payload, status=status)
    if not _VALID_KEY.match(key):
        raise InvalidIdempotencyKey(field=HEADER)
    ran = False

    def once() -> tuple[int, Any]:
        nonlocal ran
        ran = True
        return action()

    status, payload = run_once(source=caller(request).username, key=key,
                               endpoint=f"{request.method} {request.path}"[:200],
                               request_hash=request_hash(request), action=once)
    if ran and first_only:
        payload = first_only(payload)
    response = api.create_response(request, payload, status=status)
    if not ran:
        response[REPLAY_HEADER] = "true"
    return response
