"""Audit writes under concurrency (PostgreSQL): per-record chains, no global lock (DESIGN.md §3.2)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from batchline.compliance import integrity
from batchline.compliance.audit import record_change
from batchline.compliance.models import AuditEntry
from conftest import requires_postgresql

THING = "test.thing"
WAIT = 60  # seconds: generous, only reached when something is wrong

pytestmark = requires_postgresql


def write(record_id: str, n: int = 0) -> None:
    record_change(None, action="update", record_type=THING, record_id=record_id, label=f"thing {record_id}",
                  changes={"n": [n, n + 1]})


def in_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.req("AT-01")
def test_audited_writes_to_different_records_do_not_wait_for_each_other(committed_db: None) -> None:
    a_written, release_a, b_committed = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer_a() -> None:
        with transaction.atomic():
            write("1")
            a_written.set()
            assert release_a.wait(WAIT), "test never released writer A"

    def writer_b() -> None:
        with transaction.atomic():
            write("2")
        b_committed.set()

    thread_a = in_thread(writer_a, errors)
    try:
        assert a_written.wait(WAIT), errors
        thread_b = in_thread(writer_b, errors)
        # B commits while A still holds its open transaction: no lock is shared between records.
        b_finished_while_a_open = b_committed.wait(WAIT)
        assert not release_a.is_set()
    finally:
        release_a.set()
        thread_a.join(WAIT)
    thread_b.join(WAIT)
    assert b_finished_while_a_open, "writer B waited for writer A: a global lock on the audit write path"
    assert not errors, errors
    assert integrity.verify().ok


@pytest.mark.req("AT-08")
@pytest.mark.parametrize("existing", [0, 1], ids=["new record", "existing record"])
def test_concurrent_writes_to_one_record_make_a_gap_free_chain(committed_db: None, existing: int) -> None:
    threads, per_thread = 8, 5
    for n in range(existing):
        with transaction.atomic():
            write("1", n)
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer() -> None:
        start.wait(WAIT)
        for n in range(per_thread):
            with transaction.atomic():
                write("1", n)

    workers = [in_thread(writer, errors) for _t in range(threads)]
    for worker in workers:
        worker.join(WAIT)
    assert not errors, errors
    sequences = list(AuditEntry.objects.filter(record_type=THING, record_id="1")
                     .order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, existing + threads * per_thread + 1))
    report = integrity.verify()
    assert report.ok, report.findings


@pytest.mark.req("AT-08")
def test_seal_taken_while_records_are_written_verifies(committed_db: None) -> None:
    threads, per_thread = 4, 5
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def writer(record_id: str) -> Callable[[], None]:
        def run() -> None:
            start.wait(WAIT)
            for n in range(per_thread):
                with transaction.atomic():
                    write(record_id, n)
        return run

    def sealer() -> None:
        start.wait(WAIT)
        for _n in range(3):
            integrity.seal()

    workers = [in_thread(writer(str(t)), errors) for t in range(threads)] + [in_thread(sealer, errors)]
    for worker in workers:
        worker.join(WAIT)
    assert not errors, errors
    integrity.seal()
    report = integrity.verify()
    assert report.ok, report.findings
    assert (report.entries, report.seals) == (threads * per_thread, 4)


