"""Stock alerts (WMS-08): each kind is raised once while its condition holds, cleared when it ends, and
announced through the outbox; stock policies are audited configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.core.errors import DomainError, PermissionDenied
from batchline.core.models import OutboxEvent
from batchline.inventory import alerts, movements
from batchline.inventory.models import Container, StockAlert
from batchline.inventory.usability import today


def open_alerts(kind: str) -> list[StockAlert]:
    return list(StockAlert.objects.filter(kind=kind, cleared_at__isnull=True))


def events(kind: str) -> list[dict[str, Any]]:
    return [e.payload for e in OutboxEvent.objects.filter(event_type=kind).order_by("id")]


@pytest.fixture
def policy(wh: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    supervisor = make_user("supervisor", username="super")

    def make(material: str = "API-01", **values: Any) -> Any:
        return alerts.set_stock_policy(actor=supervisor, material=material, reason="alert horizon review",
                                       **values)

    return make


@pytest.mark.req("WMS-08")
def test_safety_stock_is_raised_once_and_cleared_when_stock_arrives(
        wh: Any, policy: Callable[..., Any], receive: Callable[..., Any]) -> None:
    policy("EXC-01", safety_stock="100")
    summary = alerts.evaluate_alerts()
    assert summary.raised == 1
    [alert] = open_alerts("safety_stock")
    assert alert.material.code == "EXC-01" and alert.lot is None
    assert alert.details == {"quantity": "0", "safety_stock": "100", "unit": "kg"}
    assert alerts.evaluate_alerts().raised == 0 and len(open_alerts("safety_stock")) == 1
    receive("EXC-01", containers=5, each="25")  # quarantine stock counts: it is on its way to release
    summary = alerts.evaluate_alerts()
    assert summary.cleared == 1 and not open_alerts("safety_stock")
    assert [e["kind"] for e in events("inventory.alert.raised")] == ["safety_stock"]
    [cleared] = events("inventory.alert.cleared")
    assert cleared["material"] == "EXC-01" and cleared["cleared_at"] is not None


@pytest.mark.req("WMS-08")
def test_approaching_expiry_then_expired_stock(wh: Any, receive_released: Callable[..., Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    lot = receive_released(containers=1, expires_on=today() + timedelta(days=100))
    alerts.evaluate_alerts()
    assert not open_alerts("expiry")  # default warning: 90 days
    later = clock.now() + timedelta(days=20)
    monkeypatch.setattr(clock, "now", lambda: later)
    alerts.evaluate_alerts()
    [alert] = open_alerts("expiry")
    assert alert.lot == lot and alert.details["days"] == 80 and alert.details["quantity"] == "25"
    much_later = clock.now() + timedelta(days=81)
    monkeypatch.setattr(clock, "now", lambda: much_later)
    summary = alerts.evaluate_alerts()
    assert (summary.raised, summary.cleared) == (1, 1)
    assert not open_alerts("expiry") and [a.lot for a in open_alerts("expired")] == [lot]


@pytest.mark.req("WMS-08")
def test_retest_due_is_raised_within_the_warning_days(wh: Any, policy: Callable[..., Any],
                                                       receive_released: Callable[..., Any]) -> None:
    lot = receive_released(containers=1, retest_on=today() + timedelta(days=20))
    policy(retest_warning_days=10)
    alerts.evaluate_alerts()
    assert not open_alerts("retest")
    policy(retest_warning_days=25)
    alerts.evaluate_alerts()
    [alert] = open_alerts("retest")
    assert alert.lot == lot and alert.details["retest_on"] == lot.retest_on.isoformat()


@pytest.mark.req("WMS-08")
def test_slow_moving_stock_is_raised_and_cleared_by_a_movement(
        wh: Any, receive_released: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    lot = receive_released("EXC-01", containers=1)
    later = clock.now() + timedelta(days=181)
    monkeypatch.setattr(clock, "now", lambda: later)
    alerts.evaluate_alerts()
    [alert] = open_alerts("slow_moving")
    assert alert.lot == lot and alert.details["days"] == 181
    movements.transfer(actor=wh.clerk, container=Container.objects.get(lot=lot), to_location="A-01")
    assert alerts.evaluate_alerts().cleared == 1 and not open_alerts("slow_moving")


def test_stock_that_is_gone_clears_its_lot_alerts(wh: Any, receive_released: Callable[..., Any],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lot = receive_released(containers=1, expires_on=today() + timedelta(days=30))
    alerts.evaluate_alerts()
    assert open_alerts("expiry")
    movements.scrap(actor=wh.clerk, container=Container.objects.get(lot=lot), reason_code="damaged",
                    reason="dropped")
    alerts.evaluate_alerts()
    assert not open_alerts("expiry")


def test_rejected_lots_raise_no_lot_alerts(wh: Any, receive: Callable[..., Any], release: Callable[..., Any]) -> None:
    release(receive(containers=1, expires_on=today() + timedelta(days=30)), "rejected")
    alerts.evaluate_alerts()
    assert not StockAlert.objects.exists()


def test_the_alert_figures_follow_the_stock_without_a_new_alert(wh: Any, policy: Callable[..., Any],
                                                                 receive: Callable[..., Any]) -> None:
    policy("EXC-01", safety_stock="100")
    alerts.evaluate_alerts()
    receive("EXC-01", containers=1, each="10")
    summary = alerts.evaluate_alerts()
    assert (summary.raised, summary.cleared) == (0, 0)
    assert open_alerts("safety_stock")[0].details["quantity"] == "10"


def test_the_command_evaluates_once(wh: Any, policy: Callable[..., Any]) -> None:
    policy("EXC-01", safety_stock="1")
    out = StringIO()
    call_command("stock_alerts", stdout=out)
    assert "Raised 1" in out.getvalue()


# --- policies ------------------------------------------------------------------------------------------------

def test_a_policy_is_created_and_changed_with_an_audit_entry(wh: Any, make_user: Callable[..., Any]) -> None:
    supervisor = make_user("supervisor")
    created = alerts.set_stock_policy(actor=supervisor, material="API-01", safety_stock="500", unit="g")
    assert created.safety_stock == Decimal("0.5") and created.expiry_warning_days == 90
    with pytest.raises(DomainError) as refused:
        alerts.set_stock_policy(actor=supervisor, material="API-01", safety_stock="2")
    assert refused.value.field == "reason"
    changed = alerts.set_stock_policy(actor=supervisor, material="API-01", safety_stock="2", reason="new forecast")
    assert changed.safety_stock == Decimal("2")
    actions = list(AuditEntry.objects.filter(record_type="inventory.stockpolicy").order_by("sequence")
                   .values_list("action", "reason"))
    assert actions == [("create", ""), ("update", "new forecast")]


@pytest.mark.parametrize(("values", "field"), [
    ({"material": "NOPE"}, "material"),
    ({"safety_stock": "-1"}, "safety_stock"),
    ({"safety_stock": 1.5}, "safety_stock"),
    ({"expiry_warning_days": -1}, "expiry_warning_days"),
    ({"retest_warning_days": "x"}, "retest_warning_days"),
    ({"slow_moving_days": 99999}, "slow_moving_days"),
])
def test_a_bad_policy_is_refused_with_the_field(wh: Any, make_user: Callable[..., Any], values: dict[str, Any],
                                                field: str) -> None:
    with pytest.raises(DomainError) as refused:
        alerts.set_stock_policy(actor=make_user("supervisor"), **{"material": "API-01", **values})
    assert refused.value.field == field


def test_policies_need_the_configure_permission(wh: Any) -> None:
    with pytest.raises(PermissionDenied):
        alerts.set_stock_policy(actor=wh.clerk, material="API-01", safety_stock="1")
