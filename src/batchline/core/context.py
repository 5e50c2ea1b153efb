"""Per-request context: the correlation id that ties audit entries and events to one request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_correlation_id: ContextVar[str | None] = ContextVar("batchline_correlation_id", default=None)


def correlation_id() -> str:
    """The current request's correlation id, or a fresh one for work outside a request."""
    current = _correlation_id.get()
    return current if current else uuid.uuid4().hex


@contextmanager
def correlation(value: str | None = None) -> Iterator[str]:
    token = _correlation_id.set(value or uuid.uuid4().hex)
    try:
        yield _correlation_id.get() or ""
    finally:
        _correlation_id.reset(token)
