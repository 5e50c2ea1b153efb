"""Run a whole stock transaction again when PostgreSQL reports a deadlock or a serialization
failure: the user never sees one (issue 4). Bounded, and only for those two errors."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, transaction

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("batchline.inventory")

ATTEMPTS = 5
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure


def _retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retrying(action: Callable[P, R]) -> Callable[P, R]:
    """Decorate a service: it runs in its own transaction, again (up to ATTEMPTS) after a deadlock.
    Called inside a caller's transaction it runs once: only the outermost transaction can retry."""

    @functools.wraps(action)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return action(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return action(*args, **kwargs)
            except OperationalError as exc:
                if attempt == ATTEMPTS or not _retryable(exc):
                    raise
                log.info("%s: %s, attempt %d of %d, trying again", action.__name__, exc.__cause__, attempt,
                         ATTEMPTS)
                # a short random pause so that the same two transactions do not collide again
                time.sleep(random.uniform(0.001, 0.02) * attempt)  # noqa: S311
        raise AssertionError("unreachable")

    return run
