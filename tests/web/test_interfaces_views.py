"""Interfaces workspace: destinations configured by the system administrator (audited, secrets never
shown), the interface monitor and dead-letter replay, and who may see and do what (INT-03, INT-06, AT-01)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.core.destinations import RECORD_TYPE, create_destination
from batchline.core.models import Delivery, DeliveryStatus, Destination, OutboxEvent, OutboxStatus
from batchline.core.outbox import DELIVERY_RECORD_TYPE
from batchline.web.views.interfaces import duration

SECRET = "web-secret-0123456789"
FORM = {"code": "erp-hook", "name": "ERP", "kind": "webhook", "url": "https://erp.example/hook", "secret": SECRET,
        "exchange": "", "topic_prefix": "", "event_types": "masterdata.* inventory.*", "max_attempts": "5",
        "timeout_seconds": "10"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


@pytest.fixture
def hook(admin_user: Any) -> Destination:
    return create_destination(actor=admin_user, **{**FORM, "event_types": ["masterdata.*"]})


def dead_delivery(destination: Destination) -> Delivery:
    now = clock.now()
    event = OutboxEvent.objects.create(event_type="masterdata.material.approved", record_type="masterdata.material",
                                       record_id="7", payload={"code": "M-7"}, occurred_at=now - timedelta(minutes=5),
                                       status=OutboxStatus.DISPATCHED)
    return Delivery.objects.create(event=event, destination=destination, record_type="masterdata.material",
                                   record_id="7", status=DeliveryStatus.DEAD, attempts=5, next_attempt_at=now,
                                   last_attempt_at=now, last_error="HTTP 400 Bad Request")


@pytest.mark.req("INT-03", "AT-01")
def test_the_administrator_creates_a_destination_and_the_secret_is_not_shown_again(admin_user: Any) -> None:
    client = client_for(admin_user)
    response = client.post(reverse("web:interface_destination_create"), FORM)
    assert response.status_code == 302
    saved = Destination.objects.get(code="erp-hook")
    assert (saved.secret, saved.event_types, saved.max_attempts) == (SECRET, ["masterdata.*", "inventory.*"], 5)
    pages = [client.get(reverse("web:interface_destinations")), client.get(reverse("web:interfaces")),
             client.get(reverse("web:interface_destination_edit", args=["erp-hook"]))]
    assert all(page.status_code == 200 and SECRET not in page.content.decode() for page in pages)
    assert SECRET not in AuditEntry.objects.get(record_type=RECORD_TYPE).changes


@pytest.mark.req("INT-03")
def test_an_invalid_destination_is_shown_with_the_field_error_and_nothing_is_written(admin_user: Any) -> None:
    response = client_for(admin_user).post(reverse("web:interface_destination_create"),
                                           {**FORM, "url": "ftp://erp.example"})
    html = response.content.decode()
    assert response.status_code == 422 and error_code(html) == "invalid_input"
    assert 'data-field="url"' in html and "field-error" in html
    assert SECRET not in html  # the typed secret is not sent back either
    assert not Destination.objects.exists()


@pytest.mark.req("INT-03", "AT-01")
def test_editing_keeps_the_secret_when_left_empty_and_records_the_reason(admin_user: Any, hook: Destination) -> None:
    response = client_for(admin_user).post(reverse("web:interface_destination_edit", args=["erp-hook"]),
                                           {**FORM, "secret": "", "timeout_seconds": "30", "reason": "slow ERP"})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.secret, hook.timeout_seconds) == (SECRET, 30)
    entry = AuditEntry.objects.filter(record_type=RECORD_TYPE).latest("id")
    assert (json.loads(entry.changes), entry.reason) == ({"event_types": [["masterdata.*"],
                                                                           ["masterdata.*", "inventory.*"]],
                                                          "timeout_seconds": [10, 30]}, "slow ERP")


@pytest.mark.req("INT-03", "AT-01")
def test_deactivating_needs_a_reason_and_is_audited(admin_user: Any, hook: Destination) -> None:
    client = client_for(admin_user)
    url = reverse("web:interface_destination_active", args=["erp-hook"])
    refused = client.post(url, {"active": "no", "reason": ""})
    assert error_code(refused.content.decode()) == "reason_required"
    assert client.post(url, {"active": "no", "reason": "ERP down for upgrade"}).status_code == 302
    hook.refresh_from_db()
    entry = AuditEntry.objects.filter(record_type=RECORD_TYPE).latest("id")
    assert (hook.active, entry.action, entry.reason) == (False, "deactivate", "ERP down for upgrade")


@pytest.mark.req("INT-06")
def test_the_monitor_shows_a_card_per_destination_with_its_figures(admin_user: Any, hook: Destination) -> None:
    dead_delivery(hook)
    html = client_for(admin_user).get(reverse("web:interfaces")).content.decode()
    assert 'data-testid="card-erp-hook"' in html
    assert re.search(r'data-testid="dead"[^>]*>1<', html)
    assert "HTTP 400 Bad Request" in html
    assert 'hx-trigger="every 10s"' in html


def test_the_cards_refresh_alone(admin_user: Any, hook: Destination) -> None:
    response = client_for(admin_user).get(reverse("web:interface_cards"), HTTP_HX_REQUEST="true")
    assert 'data-testid="card-erp-hook"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_durations_read_shortly() -> None:
    with translation.override("en"):
        assert [duration(None), duration(timedelta(milliseconds=850)), duration(timedelta(seconds=12.4)),
                duration(timedelta(minutes=7, seconds=5)), duration(timedelta(hours=3, minutes=20))] == [
            "—", "850 ms", "12.4 s", "7 min 5 s", "3 h 20 min"]
    with translation.override("zh-hans"):
        assert duration(timedelta(hours=3, minutes=20)) == "3 小时 20 分"


@pytest.mark.req("INT-06", "AT-01")
def test_replay_of_a_dead_letter_is_audited_with_the_reason(admin_user: Any, hook: Destination) -> None:
    dead = dead_delivery(hook)
    client = client_for(admin_user)
    listing = client.get(reverse("web:interface_deliveries"), {"status": "dead"}).content.decode()
    assert f'data-testid="replay-{dead.pk}"' in listing
    response = client.post(reverse("web:interface_replay", args=[dead.pk]), {"reason": "receiver fixed"})
    assert response.status_code == 302
    dead.refresh_from_db()
    entry = AuditEntry.objects.get(record_type=DELIVERY_RECORD_TYPE, record_id=str(dead.pk))
    assert (dead.status, dead.attempts, entry.action, entry.reason) == ("pending", 0, "replay", "receiver fixed")


def test_replay_without_a_reason_is_refused(admin_user: Any, hook: Destination) -> None:
    dead = dead_delivery(hook)
    response = client_for(admin_user).post(reverse("web:interface_replay", args=[dead.pk]), {"reason": ""})
    assert error_code(response.content.decode()) == "reason_required"
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD


def test_the_delivery_page_shows_the_message_as_sent(admin_user: Any, hook: Destination) -> None:
    dead = dead_delivery(hook)
    html = client_for(admin_user).get(reverse("web:interface_delivery", args=[dead.pk])).content.decode()
    assert str(dead.event.message_id) in html and "M-7" in html


@pytest.mark.req("INT-06")
@pytest.mark.parametrize("role", ["data_steward", "qa_reviewer", "auditor"])
def test_viewing_roles_see_the_monitor_but_cannot_configure_or_replay(
        role: str, make_user: Callable[..., Any], hook: Destination) -> None:
    dead = dead_delivery(hook)
    client = client_for(make_user(role))
    monitor = client.get(reverse("web:interfaces"))
    assert monitor.status_code == 200 and 'data-testid="nav-interfaces"' in monitor.content.decode()
    assert client.get(reverse("web:interface_delivery", args=[dead.pk])).status_code == 200
    assert 'data-testid="replay-form"' not in client.get(
        reverse("web:interface_delivery", args=[dead.pk])).content.decode()
    assert client.get(reverse("web:interface_destinations")).status_code == 403
    assert client.post(reverse("web:interface_destination_create"), {**FORM, "code": "x"}).status_code == 403
    assert client.post(reverse("web:interface_destination_active", args=["erp-hook"]),
                       {"active": "no", "reason": "x"}).status_code == 403
    assert client.post(reverse("web:interface_replay", args=[dead.pk]), {"reason": "x"}).status_code == 403
    dead.refresh_from_db()
    hook.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD and hook.active and Destination.objects.count() == 1


@pytest.mark.req("INT-06")
def test_an_operator_has_no_interfaces_workspace(make_user: Callable[..., Any]) -> None:
    client = client_for(make_user("operator"))
    assert 'data-testid="nav-interfaces"' not in client.get(reverse("web:home")).content.decode()
    assert client.get(reverse("web:interfaces")).status_code == 403
    assert client.get(reverse("web:interface_deliveries")).status_code == 403
