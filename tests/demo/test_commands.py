"""`batchline createuser`, the background threads of `batchline serve` and `batchline simulate`."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from batchline.compliance.models import AuditEntry, AuditSeal
from batchline.demo.management.commands.serve import AuditSealer, Looping, Periodic, background
from batchline.identity.models import User


def createuser(monkeypatch: pytest.MonkeyPatch, password: str, *args: str) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("createuser", *args, "--password-stdin", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.req("AC-04")
def test_createuser_opens_an_account_recorded_as_system(monkeypatch: pytest.MonkeyPatch) -> None:
    createuser(monkeypatch, "Plant-Admin-2026!", "wangfang", "--name", "王芳 Wang Fang",
               "--role", "system_administrator")
    user = User.objects.get(username="wangfang")
    assert (user.full_name, user.roles, user.must_change_password) == ("王芳 Wang Fang",
                                                                     ["system_administrator"], True)
    assert user.check_password("Plant-Admin-2026!")
    entry = AuditEntry.objects.get(record_type="identity.user", record_id=str(user.pk), action="create")
    assert (entry.actor_id, entry.actor_username) == (None, "system")


@pytest.mark.django_db
@pytest.mark.req("AC-03")
def test_createuser_refuses_a_weak_password_with_the_policy_message(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="too short"):
        createuser(monkeypatch, "Ab1!", "wangfang", "--name", "王芳 Wang Fang", "--role", "operator")
    assert not User.objects.filter(username="wangfang").exists()


@pytest.mark.django_db
def test_createuser_accepts_several_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    createuser(monkeypatch, "Plant-Lead-2026!", "lilei", "--name", "李雷 Li Lei", "--role", "operator",
               "--role", "shift_lead")
    assert User.objects.get(username="lilei").roles == ["operator", "shift_lead"]


@pytest.mark.req("AT-08")
def test_audit_sealer_seals_when_it_starts_and_stops_when_asked(committed_db: Any) -> None:
    sealed = threading.Event()
    sealer = AuditSealer(3600, on_seal=lambda seal: sealed.set())
    sealer.start()
    try:
        assert sealed.wait(timeout=30)
    finally:
        sealer.stop()
        sealer.join(timeout=30)
    assert not sealer.is_alive()
    assert AuditSeal.objects.count() == 1


def test_serve_runs_each_periodic_job_once_and_leaves_out_what_another_host_does() -> None:
    everything = [t.name for t in background(ingest=True, device_polling=True)]
    assert everything == ["audit-sealer", "outbox-relay", "stock-alerts", "equipment-holds", "environment-ingest",
                          "device-poller"]
    assert [t.name for t in background(ingest=False, device_polling=False)] == everything[:4]


def test_a_failing_periodic_job_is_logged_and_tried_again_at_the_next_interval(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        raise RuntimeError("database away")

    job = Periodic("flaky", 3600, flaky)
    job.run_once()
    job.run_once()
    assert len(calls) == 2
    assert caplog.text.count("flaky failed") == 2


def test_a_looping_thread_stops_when_asked() -> None:
    started = threading.Event()

    def body(stop: threading.Event) -> None:
        started.set()
        stop.wait(60)

    thread = Looping("loop", body)
    thread.start()
    assert started.wait(timeout=10)
    thread.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_simulate_refuses_an_interval_that_is_not_positive() -> None:
    with pytest.raises(CommandError, match="--interval must be positive"):
        call_command("simulate", "rooms", "--interval", "0")
